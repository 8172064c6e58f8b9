"""Exceptions: one class per recur_status, each carrying the native message.

Every error the package raises is a RecurError. Errors reported by the
library carry its status (an int, see recur.Status) and the text of
recur_last_error(). Errors found in Python before a call (a wrong shape, a
closed handle) use the status the library would have given.

The subclasses also derive from the matching built-in exception, so
`except ValueError` or `except OSError` work as usual.
"""

from ._ffi import Status, lib


class RecurError(Exception):
    """Base class. `.status` is the recur_status (or None), `.message` the text."""

    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self):
        return self.message


class InvalidArgumentError(RecurError, ValueError):
    """A NULL pointer, a zero size, a bad option or an index out of range."""

    status = Status.INVALID_ARGUMENT


class ClosedError(InvalidArgumentError):
    """A Model, State or Trainer was used after close()."""


class ParseError(RecurError, ValueError):
    """The text is not valid JSON."""

    status = Status.PARSE


class ModelError(RecurError, ValueError):
    """Valid JSON, but not a valid model or trainer configuration."""

    status = Status.MODEL


class RecurIOError(RecurError, OSError):
    """A file could not be read or written."""

    status = Status.IO


class ShapeError(RecurError, ValueError):
    """Array sizes do not fit the model."""

    status = Status.SHAPE


class NumericError(RecurError, ValueError):
    """NaN or infinity where a finite number is needed."""

    status = Status.NUMERIC


class OutOfMemoryError(RecurError, MemoryError):
    """The library could not allocate memory."""

    status = Status.OUT_OF_MEMORY


class InternalError(RecurError, RuntimeError):
    """A bug in Recur: please report it."""

    status = Status.INTERNAL


class ConversionError(RecurError, ValueError):
    """A converter met a feature Recur cannot represent (status is None)."""


_CLASS_FOR_STATUS = {
    cls.status: cls
    for cls in (InvalidArgumentError, ParseError, ModelError, RecurIOError, ShapeError,
                NumericError, OutOfMemoryError, InternalError)
}


def error_for_status(status, message):
    """The exception for a non-OK status (RecurError for an unknown one)."""
    try:
        status = Status(status)
    except ValueError:
        pass  # a status newer than this binding: keep the number
    cls = _CLASS_FOR_STATUS.get(status, RecurError)
    return cls(message, status)


def check(status):
    """Raises the matching RecurError, with recur_last_error(), unless status is OK.

    Call it right after the failing call, on the same thread: the message is
    thread-local and ctypes calls run on the calling thread.
    """
    if status != Status.OK:
        message = lib.recur_last_error().decode("utf-8", "replace")
        raise error_for_status(status, message or lib.recur_status_string(status).decode())
