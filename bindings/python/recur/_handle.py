"""What Model, State and Trainer share: one owned library pointer."""

from ._ffi import lib
from .errors import ClosedError


class Handle:
    """Owns one library object; releases it on close(), on `with` exit or when collected.

    close() is idempotent. Any other use after close raises recur.ClosedError.
    Like the C API, a handle is not locked: closing it while another thread
    is inside a call on it is a bug in the caller.
    """

    _free_function = None  # name of the recur_*_free function, set by subclasses
    _pointer = None

    def __init__(self, pointer):
        self._pointer = pointer

    @property
    def closed(self):
        """True after close()."""
        return self._pointer is None

    def close(self):
        """Releases the library object. Safe to call more than once."""
        pointer, self._pointer = self._pointer, None
        if pointer:
            getattr(lib, self._free_function)(pointer)

    def _handle(self):
        """The live pointer, or ClosedError."""
        pointer = self._pointer
        if pointer is None:
            raise ClosedError(f"this {type(self).__name__} is closed")
        return pointer

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exception):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: the module may already be gone
            pass
