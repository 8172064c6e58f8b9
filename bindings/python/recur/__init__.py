"""Recur: an embeddable runtime for recurrent neural networks (Python binding).

    import numpy as np
    import recur

    model = recur.Model.load("examples/models/tiny_lstm.json")
    state = model.state(batch=1)
    y = state.run(np.zeros((50, model.input_size), np.float32))   # (50, output_size)

The binding is a thin ctypes layer over librecur (include/recur.h): Model,
State and Trainer own one library object each (close() or `with`), and
errors are RecurError subclasses carrying the library's status and message.
Converters from PyTorch, Keras and RTNeural are in recur.convert. See
docs/python.md.
"""

import os as _os
import sys as _sys


def _cannot_import(message):
    """An ImportError; as the command line (python -m recur, recur), one line on stderr and exit status 1."""
    command = "python -m recur" if _sys.argv[:1] == ["-m"] else _os.path.basename(_sys.argv[0] or "")
    if command in ("python -m recur", "recur"):
        # The library's message names each place tried, one per line.
        print(f"{command}: " + " ".join(line.strip() for line in message.splitlines()), file=_sys.stderr)
        raise SystemExit(1)
    return ImportError(message)


try:
    import numpy as _numpy  # noqa: F401
except ImportError as _error:
    raise _cannot_import(f"recur needs numpy, which cannot be imported ({_error}): pip install numpy") from None
try:
    from ._ffi import Status, TensorEncoding, lib as _lib
except ImportError as _error:
    raise _cannot_import(str(_error)) from None
from ._model import LayerInfo, Model, NotCopyableError
from ._state import State
from ._trainer import Trainer
from ._version import __version__
from .errors import (
    ClosedError,
    ConversionError,
    InternalError,
    InvalidArgumentError,
    ModelError,
    NumericError,
    OutOfMemoryError,
    ParseError,
    RecurError,
    RecurIOError,
    ShapeError,
)
from . import convert


def library_version():
    """The loaded library's version, "MAJOR.MINOR.PATCH"."""
    return _lib.recur_version_string().decode()


def cpu_kernels():
    """The kernels the library uses in this process: "avx512", "avx2", "sse2", "portable" or "reference"."""
    return _lib.recur_cpu_kernels().decode()


def library_path():
    """Where the loaded library came from."""
    return _lib._name


__all__ = [
    "ClosedError", "ConversionError", "InternalError", "InvalidArgumentError", "LayerInfo", "Model",
    "ModelError", "NotCopyableError", "NumericError", "OutOfMemoryError", "ParseError", "RecurError", "RecurIOError",
    "ShapeError", "State", "Status", "TensorEncoding", "Trainer", "__version__", "convert",
    "cpu_kernels", "library_path", "library_version",
]
