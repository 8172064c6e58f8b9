"""numpy <-> C array helpers: checks, one conversion at most, pointers."""

import operator

import numpy as np

from ._ffi import FloatPointer, Int32Pointer
from .errors import InvalidArgumentError, ShapeError

_INT32 = np.iinfo(np.int32)


def as_array(value, what):
    """value as an ndarray of real numbers (not yet converted)."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise InvalidArgumentError(f"{what}: not an array of numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        raise InvalidArgumentError(f"{what} must hold real numbers, got dtype {array.dtype}")
    return array


def check_shape(array, expected, what, alternatives=""):
    """ShapeError unless array.shape == expected."""
    if array.shape != tuple(expected):
        raise ShapeError(f"{what} must have shape {format_shape(expected)}{alternatives}, "
                         f"got {format_shape(array.shape)}")


def format_shape(shape):
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def float32(array):
    """C-contiguous float32: the same array when it already is, else one copy."""
    return np.ascontiguousarray(array, dtype=np.float32)


def int32_labels(array, what):
    """Integer class labels as C-contiguous int32."""
    if array.dtype.kind not in "iu":
        raise InvalidArgumentError(f"{what} must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < _INT32.min or array.max() > _INT32.max):
        raise InvalidArgumentError(f"{what}: a label does not fit in int32")
    return np.ascontiguousarray(array, dtype=np.int32)


def output(out, shape, what="out"):
    """A new float32 array of `shape`, or `out` after checking that it fits."""
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if not isinstance(out, np.ndarray) or out.dtype != np.float32:
        raise InvalidArgumentError(f"{what} must be a float32 numpy array")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise InvalidArgumentError(f"{what} must be C-contiguous and writeable")
    check_shape(out, shape, what)
    return out


def float_pointer(array):
    return array.ctypes.data_as(FloatPointer)


def int32_pointer(array):
    return array.ctypes.data_as(Int32Pointer)


def index(value, what):
    """A non-negative int (size_t) or InvalidArgumentError."""
    try:
        value = operator.index(value)
    except TypeError:
        raise InvalidArgumentError(f"{what} must be an integer, got {type(value).__name__}") from None
    if value < 0:
        raise InvalidArgumentError(f"{what} must be >= 0, got {value}")
    if value >= 2**64:
        raise InvalidArgumentError(f"{what} is {value}: out of range (a size_t is below 2**64)")
    return value


def path(value, what="path"):
    """A file path as bytes for the C API; a NUL inside it is a ValueError,
    as for Python's open() (C would cut the name there)."""
    import os
    encoded = os.fsencode(value)
    if b"\0" in encoded:
        raise ValueError(f"{what}: embedded null byte")
    return encoded
