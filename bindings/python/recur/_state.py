"""State: inference state for `batch` independent streams of one model (recur_state)."""

import copy
import ctypes

import numpy as np

from . import _arrays
from ._ffi import StatePointer, lib
from ._handle import Handle
from .errors import ClosedError, InvalidArgumentError, check

# A run longer than this many steps goes to the library in chunks of it, so
# that Ctrl-C (KeyboardInterrupt) stops it between chunks: the state is then
# the one after the last whole chunk. The floats are the same either way.
RUN_CHUNK_STEPS = 4096


class State(Handle):
    """Runs a model over `batch` streams. Make one with model.state(batch).

    Arrays are float32, batch first: step takes x (batch, input_size) and
    returns (batch, output_size); run takes xs (batch, steps, input_size) and
    returns (batch, steps, output_size). With batch 1, step also takes (input_size,)
    and run (steps, input_size), and the result drops the batch axis too.
    Other dtypes and layouts are converted once; outputs are new arrays unless
    `out=` gives a float32 C-contiguous array of the right shape.

    The state keeps its model alive: closing the model first is fine. A state
    is used by one thread at a time; many states may share one model.
    """

    _free_function = "recur_state_free"

    def __init__(self, model, batch=1):
        batch = _arrays.index(batch, "batch")
        pointer = StatePointer()
        check(lib.recur_state_create(model._handle(), batch, ctypes.byref(pointer)))
        super().__init__(pointer)
        self.model = model  # the library keeps the model alive too; this keeps the Python object
        self.batch = batch
        self.input_size = model.input_size
        self.output_size = model.output_size
        self.size = lib.recur_state_size(pointer)  # floats of state per stream
        # A model with a bidirectional layer runs each call as one whole sequence.
        self._whole_sequences = any(layer.bidirectional for layer in model.layers)

    def step(self, x, out=None):
        """Advances every stream by one step: x (batch, input_size) -> (batch, output_size)."""
        handle = self._handle()
        x = _arrays.as_array(x, "x")
        if x.ndim == 1 and self.batch == 1:
            expected, out_shape = (self.input_size,), (self.output_size,)
        else:
            expected, out_shape = (self.batch, self.input_size), (self.batch, self.output_size)
        alternative = f" (or ({self.input_size},) for batch 1)" if self.batch == 1 else ""
        _arrays.check_shape(x, expected, "x", alternative)
        x = _arrays.float32(x)
        y = _arrays.output(out, out_shape)
        check(lib.recur_state_step(handle, _arrays.float_pointer(x), _arrays.float_pointer(y)))
        return y

    def run(self, xs, out=None, lengths=None):
        """Advances every stream by `steps` steps, continuing from the state:
        xs (batch, steps, input_size) -> (batch, steps, output_size).

        With `lengths` (one per stream, 0 to steps), stream b runs only its
        first lengths[b] steps: its inputs past them are never read, its
        outputs there are 0, and its state is the one after its own last step
        (recur_state_run_lengths)."""
        handle = self._handle()
        xs = _arrays.as_array(xs, "xs")
        if xs.ndim == 2 and self.batch == 1:
            steps = xs.shape[0]
            expected, out_shape = (steps, self.input_size), (steps, self.output_size)
        else:
            steps = xs.shape[1] if xs.ndim == 3 else "steps"
            expected = (self.batch, steps, self.input_size)
            out_shape = (self.batch, steps, self.output_size)
        alternative = f" (or (steps, {self.input_size}) for batch 1)" if self.batch == 1 else ""
        _arrays.check_shape(xs, expected, "xs", alternative)
        xs = _arrays.float32(xs)
        ys = _arrays.output(out, out_shape)
        counts = None
        if lengths is not None:
            lengths = _arrays.as_array(lengths, "lengths")
            _arrays.check_shape(lengths, (self.batch,), "lengths")
            if lengths.dtype.kind not in "iu" or (lengths < 0).any() or (lengths >= 2**64).any():
                raise InvalidArgumentError(f"lengths must be non-negative integers below 2**64, got {lengths!r}")
            counts = np.ascontiguousarray(lengths, dtype=np.uintp)
        if isinstance(steps, int) and steps > RUN_CHUNK_STEPS and not self._whole_sequences:
            self._run_in_chunks(handle, xs.reshape(self.batch, steps, self.input_size),
                                ys.reshape(self.batch, steps, self.output_size), counts)
            return ys
        self._run(handle, xs, steps, ys, counts)
        return ys

    @staticmethod
    def _run(handle, xs, steps, ys, counts):
        if counts is None:
            check(lib.recur_state_run(handle, _arrays.float_pointer(xs), steps, _arrays.float_pointer(ys)))
        else:
            check(lib.recur_state_run_lengths(handle, _arrays.float_pointer(xs), steps,
                                              counts.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)),
                                              _arrays.float_pointer(ys)))

    def _run_in_chunks(self, handle, xs, ys, counts):
        """The run, RUN_CHUNK_STEPS steps per library call (interruptible between calls)."""
        steps = xs.shape[1]
        for start in range(0, steps, RUN_CHUNK_STEPS):
            end = min(steps, start + RUN_CHUNK_STEPS)
            part = np.ascontiguousarray(xs[:, start:end])
            out = np.empty((self.batch, end - start, self.output_size), dtype=np.float32)
            part_counts = None if counts is None else np.ascontiguousarray(
                np.clip(counts.astype(np.int64) - start, 0, end - start), dtype=np.uintp)
            self._run(handle, part, end - start, out, part_counts)
            ys[:, start:end] = out

    def set_threads(self, threads):
        """Splits the streams of later calls over `threads` threads (1: none, the default).
        Outputs stay bit-identical."""
        check(lib.recur_state_set_threads(self._handle(), _arrays.index(threads, "threads")))

    def reset(self):
        """Sets every stream's state to zero."""
        check(lib.recur_state_reset(self._handle()))

    def reset_stream(self, stream):
        """Sets one stream's state to zero; the others are untouched."""
        handle = self._handle()
        check(lib.recur_state_reset_stream(handle, _arrays.index(stream, "stream")))

    def get(self):
        """A copy of the state, shape (batch, size), in the layout of docs/model-format.md."""
        handle = self._handle()
        out = _arrays.output(None, (self.batch, self.size))
        check(lib.recur_state_get(handle, _arrays.float_pointer(out), out.size))
        return out

    def set(self, values):
        """Replaces the state with `values` of shape (batch, size) ((size,) for batch 1)."""
        handle = self._handle()
        values = _arrays.as_array(values, "values")
        expected = (self.size,) if values.ndim == 1 and self.batch == 1 else (self.batch, self.size)
        _arrays.check_shape(values, expected, "values")
        values = _arrays.float32(values)
        check(lib.recur_state_set(handle, _arrays.float_pointer(values), values.size))

    # -- copying and pickling ---------------------------------------------------

    def __copy__(self):
        """copy.copy: a new state over the same model with the same streams' values."""
        return self._copy(self.model)

    def __deepcopy__(self, memo):
        """copy.deepcopy: a new state over a copy of the model, with the same values."""
        copied = self._copy(copy.deepcopy(self.model, memo))
        memo[id(self)] = copied
        return copied

    def _copy(self, model):
        if self.closed:
            raise ClosedError("this State is closed: a closed state cannot be copied or pickled")
        copied = type(self)(model, self.batch)
        if not self._whole_sequences:
            copied.set(self.get())
        return copied

    def __reduce__(self):
        """Pickles the model (its JSON document), the batch and the streams' values."""
        if self.closed:
            raise ClosedError("this State is closed: a closed state cannot be copied or pickled")
        return (_unpickle_state, (type(self), self.model, self.batch, None if self._whole_sequences else self.get()))

    def __repr__(self):
        closed = " (closed)" if self.closed else ""
        return f"<recur.State batch={self.batch} size={self.size}{closed}>"


def _unpickle_state(cls, model, batch, values):
    state = cls(model, batch)
    if values is not None:
        state.set(values)
    return state
