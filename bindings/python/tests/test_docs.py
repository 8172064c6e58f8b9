"""Runs the ```python and ```sh blocks of docs/python.md, in order, in a temporary directory
holding a copy of examples/models/ (```bash blocks, for installation, are not run)."""

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import EXAMPLE_MODELS, ROOT

DOC = ROOT / "docs" / "python.md"
OPTIONAL = {"torch": "import torch", "keras": "import keras"}


def blocks():
    return [(match.group(1), match.group(2)) for match in
            re.finditer(r"^```(python|sh|bash)\n(.*?)^```$", DOC.read_text(), re.S | re.M)]


def importable(name):
    if name == "keras":
        os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        __import__(name)
    except Exception:
        return False
    return True


def test_the_guide_has_runnable_blocks():
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("python") >= 8 and kinds.count("sh") >= 2


def test_every_block_runs(tmp_path, monkeypatch):
    shutil.copytree(EXAMPLE_MODELS, tmp_path / "examples" / "models")
    shims = tmp_path / "bin"
    shims.mkdir()
    (shims / "python").symlink_to(sys.executable)
    monkeypatch.chdir(tmp_path)
    environment = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"),
                       PATH=f"{shims}{os.pathsep}{os.environ['PATH']}")
    namespace = {"__name__": "__docs__"}
    skipped = []
    for number, (kind, code) in enumerate(blocks()):
        missing = [name for name, marker in OPTIONAL.items() if marker in code and not importable(name)]
        if kind == "bash" or missing:
            if missing:
                skipped.append((number, missing))
            continue
        if kind == "python":
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, f"docs/python.md block {number}", "exec"), namespace)
            except Exception as error:
                pytest.fail(f"python block {number} failed: {error!r}\n{code}")
        else:
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True,
                                    env=environment, timeout=120)
            assert result.returncode == 0, f"sh block {number} failed:\n{code}\n{result.stdout}\n{result.stderr}"
    if skipped:
        print(f"blocks skipped for missing optional packages: {skipped}")
