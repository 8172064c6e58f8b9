"""Packaging: the wheel (`make wheel`, `pip install ./bindings/python`) carries the library and the
version of Sources/RecurCore/Version.swift; without a built library the build stops and says what to run."""

import base64
import csv
import hashlib
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import zipfile

from conftest import ROOT

import recur
from recur._version import read_swift_version

PACKAGE = ROOT / "bindings" / "python"
TINY_LSTM = str(ROOT / "examples" / "models" / "tiny_lstm.json")


def backend():
    spec = importlib.util.spec_from_file_location("recur_build", PACKAGE / "build_backend" / "recur_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pip_install(source, target):
    return subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                           "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)


def test_the_version_has_one_source():
    assert recur.__version__ == read_swift_version(ROOT / "Sources" / "RecurCore" / "Version.swift")
    assert recur.__version__ == recur.library_version()


def test_pip_install_from_the_checkout_bundles_the_library(tmp_path):
    target = tmp_path / "site"
    install = pip_install(PACKAGE, target)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (target / "recur" / "lib" / "librecur.so").is_file()
    assert (target / "recur" / "convert" / "_rtneural.py").is_file()
    assert f"__version__ = {recur.__version__!r}" in (target / "recur" / "_version.py").read_text()
    environment = {key: value for key, value in os.environ.items() if key != "RECUR_LIBRARY"}
    environment["PYTHONPATH"] = str(target)
    check = subprocess.run(
        [sys.executable, "-c", "import recur; print(recur.__version__, recur.library_path()); "
         f"print(recur.Model.load({TINY_LSTM!r}).parameter_count)"],
        capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=60)
    assert check.returncode == 0, check.stderr
    version, path, parameters = check.stdout.split()
    assert version == recur.__version__ and path == str(target / "recur" / "lib" / "librecur.so")
    assert parameters == "133"
    # RECUR_LIBRARY still wins over the bundled copy.
    environment["RECUR_LIBRARY"] = str(ROOT / "build" / "lib" / "librecur.so")
    check = subprocess.run([sys.executable, "-c", "import recur; print(recur.library_path())"],
                           capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=60)
    assert check.stdout.strip() == environment["RECUR_LIBRARY"], check.stderr


def test_pip_install_without_the_library_stops_and_says_what_to_run(tmp_path):
    # A checkout in which `make lib` has not run: bindings/python and Version.swift, no build/lib.
    root = tmp_path / "checkout"
    shutil.copytree(PACKAGE, root / "bindings" / "python",
                    ignore=shutil.ignore_patterns("tests", "build", "__pycache__"))
    (root / "Sources" / "RecurCore").mkdir(parents=True)
    shutil.copy(ROOT / "Sources" / "RecurCore" / "Version.swift", root / "Sources" / "RecurCore")
    target = tmp_path / "site"
    install = pip_install(root / "bindings" / "python", target)
    assert install.returncode != 0
    assert "make lib && python3 -m pip install ./bindings/python" in install.stderr, install.stderr
    assert "make wheel && python3 -m pip install build/wheel/recur-*.whl" in install.stderr
    assert "Traceback" not in install.stderr
    assert not (target / "recur").exists()


def test_the_wheel_is_complete_and_its_record_is_right(tmp_path):
    name = backend().build_wheel(str(tmp_path))
    assert name == f"recur-{recur.__version__}-py3-none-{backend().platform_tag(ROOT / 'build' / 'lib' / 'librecur.so')}.whl"
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = set(wheel.namelist())
        dist_info = f"recur-{recur.__version__}.dist-info"
        for required in ("recur/__init__.py", "recur/convert/_torch.py", "recur/lib/librecur.so",
                         f"{dist_info}/METADATA", f"{dist_info}/WHEEL", f"{dist_info}/RECORD",
                         f"{dist_info}/entry_points.txt"):
            assert required in names, required
        assert not any("__pycache__" in entry or entry.startswith("tests/") for entry in names)
        record = list(csv.reader(io.StringIO(wheel.read(f"{dist_info}/RECORD").decode())))
        assert {row[0] for row in record} == names
        for path, digest, size in record:
            if path.endswith("/RECORD"):
                assert digest == size == ""
                continue
            data = wheel.read(path)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data), path
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        assert f"Version: {recur.__version__}\n" in metadata and "Requires-Dist: numpy" in metadata
        assert "Root-Is-Purelib: false" in wheel.read(f"{dist_info}/WHEEL").decode()
        assert wheel.getinfo("recur/lib/librecur.so").external_attr >> 16 == 0o755
        assert wheel.read("recur/lib/librecur.so") == (ROOT / "build" / "lib" / "librecur.so").read_bytes()


def test_the_platform_tag_comes_from_the_library():
    needed, versions, machine = backend().elf_needs(ROOT / "build" / "lib" / "librecur.so")
    assert "libc.so.6" in needed and any(version.startswith("GLIBC_2.") for version in versions)
    newest = max(int(version.split(".")[1]) for version in versions if version.startswith("GLIBC_2."))
    tag = backend().platform_tag(ROOT / "build" / "lib" / "librecur.so")
    assert tag.startswith(f"manylinux_2_{newest}_") or tag.startswith("linux_"), tag


def test_an_editable_install_points_at_the_checkout(tmp_path):
    name = backend().build_editable(str(tmp_path))
    with zipfile.ZipFile(tmp_path / name) as wheel:
        assert wheel.read("__editable__.recur.pth").decode().strip() == str(PACKAGE)
