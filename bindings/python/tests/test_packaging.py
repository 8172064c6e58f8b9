"""`pip install ./bindings/python` works, and a library copied to recur/lib/ is bundled and found first."""

import os
import shutil
import subprocess
import sys

from conftest import ROOT

PACKAGE = ROOT / "bindings" / "python"


def test_pip_install_with_a_bundled_library(tmp_path):
    source = tmp_path / "source"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    (source / "recur" / "lib").mkdir(exist_ok=True)
    shutil.copy(ROOT / "build" / "lib" / "librecur.so", source / "recur" / "lib" / "librecur.so")
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps",
                              "--no-index", "--target", str(target), str(source)],
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr
    assert (target / "recur" / "lib" / "librecur.so").is_file()
    assert (target / "recur" / "convert" / "_rtneural.py").is_file()
    environment = {key: value for key, value in os.environ.items() if key != "RECUR_LIBRARY"}
    environment["PYTHONPATH"] = str(target)
    check = subprocess.run(
        [sys.executable, "-c", "import recur; print(recur.__version__, recur.library_path()); "
         f"print(recur.Model.load({str(ROOT / 'examples' / 'models' / 'tiny_lstm.json')!r}).parameter_count)"],
        capture_output=True, text=True, env=environment, cwd=tmp_path, timeout=60)
    assert check.returncode == 0, check.stderr
    version, path, parameters = check.stdout.split()
    assert version == "0.1.0" and path == str(target / "recur" / "lib" / "librecur.so") and parameters == "133"
