"""Trainer: fine-tunes a model in place by backpropagation through time (recur_trainer)."""

import copy
import ctypes
import json

import numpy as np

from . import _arrays
from ._ffi import TrainerPointer, lib
from ._handle import Handle
from ._model import NotCopyableError, tensor_shape
from .errors import ClosedError, InvalidArgumentError, ShapeError, check


class Trainer(Handle):
    """Fine-tunes its model in place. Make one with model.trainer(config).

    config is a dict (or JSON text, or None for the defaults) as in
    docs/c-api.md: loss, targets ("sequence" | "last"), optimizer,
    clip_gradient_norm, freeze, stateful.

    xs is (batch, steps, input_size), or (steps, input_size) for one sequence.
    targets is (batch, steps, output_size) for "targets": "sequence" and
    (batch, output_size) for "last" (without the batch axis when xs has none);
    labels the same without the output axis.

    The trainer keeps its model alive. While a step runs, no state may run on
    the model: serve from model.clone() meanwhile.
    """

    _free_function = "recur_trainer_free"

    def __init__(self, model, config=None):
        if config is None or isinstance(config, (str, bytes)):
            text = config.encode() if isinstance(config, str) else config
        else:
            try:
                text = json.dumps(config).encode()
            except (TypeError, ValueError) as error:
                raise InvalidArgumentError(f"config cannot be written as JSON: {error}") from None
        pointer = TrainerPointer()
        check(lib.recur_trainer_create(model._handle(), text, ctypes.byref(pointer)))
        super().__init__(pointer)
        self.model = model
        self.config = json.loads(text) if text else {}
        # One target per sequence ("targets": "last") when a step of 2 steps
        # takes as many target values as a step of 1 (recur_trainer_target_count).
        one, two = ctypes.c_size_t(), ctypes.c_size_t()
        check(lib.recur_trainer_target_count(pointer, 1, 1, ctypes.byref(one), None))
        check(lib.recur_trainer_target_count(pointer, 1, 2, ctypes.byref(two), None))
        self._last_only = one.value == two.value
        self._input_size = model.input_size
        self._output_size = model.output_size
        self._layers = model.layers

    def step(self, xs, targets, lengths=None):
        """One training step on float targets; returns the loss before the update.

        With `lengths` (one per sequence, 1 to steps), sequence b has only its
        first lengths[b] steps: the loss is the mean over valid positions
        ("last": each sequence's own last step), and inputs and targets past
        a length are never read (recur_trainer_step_lengths)."""
        self._handle()  # a closed trainer is refused before the arrays are looked at
        xs, batch, steps, unbatched = self._inputs(xs)
        expected = self._target_shape(batch, steps, unbatched) + (self._output_size,)
        targets = _arrays.as_array(targets, "targets")
        _arrays.check_shape(targets, expected, "targets")
        targets = _arrays.float32(targets)
        return self._call(lib.recur_trainer_step, lib.recur_trainer_step_lengths, xs, batch, steps, lengths,
                          _arrays.float_pointer(targets))

    def step_labels(self, xs, labels, lengths=None):
        """One training step on integer class labels ("loss": "cross_entropy"); returns the loss.
        `lengths` as in step."""
        self._handle()
        xs, batch, steps, unbatched = self._inputs(xs)
        labels = _arrays.as_array(labels, "labels")
        _arrays.check_shape(labels, self._target_shape(batch, steps, unbatched), "labels")
        labels = _arrays.int32_labels(labels, "labels")
        return self._call(lib.recur_trainer_step_labels, lib.recur_trainer_step_labels_lengths, xs, batch, steps,
                          lengths, _arrays.int32_pointer(labels))

    def _call(self, plain, with_lengths, xs, batch, steps, lengths, targets):
        """One step through `plain`, or `with_lengths` when lengths are given; returns the loss."""
        loss = ctypes.c_float()
        if lengths is None:
            check(plain(self._handle(), _arrays.float_pointer(xs), batch, steps, targets, ctypes.byref(loss)))
        else:
            lengths = _arrays.as_array(lengths, "lengths")
            _arrays.check_shape(lengths, (batch,), "lengths")
            if lengths.dtype.kind not in "iu" or (lengths < 0).any():
                raise InvalidArgumentError(f"lengths must be positive integers, got {lengths!r}")
            counts = np.ascontiguousarray(lengths, dtype=np.uintp)
            check(with_lengths(self._handle(), _arrays.float_pointer(xs), batch, steps,
                               counts.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)), targets, ctypes.byref(loss)))
        return loss.value

    def steps(self, xs, targets, count=None, *, labels=False):
        """Trains on (xs, targets) step after step, yielding each step's loss (before its update).

            for step, loss in enumerate(trainer.steps(xs, targets, 500)):
                if step % 100 == 0:
                    print(step, loss)

        count None goes on until the loop stops (break). labels=True uses
        step_labels (targets are then integer class labels). Nothing runs
        until the loop asks for the next loss.
        """
        step = self.step_labels if labels else self.step
        taken = 0
        while count is None or taken < count:
            yield step(xs, targets)
            taken += 1

    def fit(self, xs, targets, steps, *, labels=False, callback=None, every=1):
        """Runs `steps` training steps on (xs, targets); returns their losses (float32 array).

        callback(step, loss), if given, is called after step 0 and then every
        `every` steps (and after the last); step counts from 0. If it returns
        True, training stops there and the losses so far are returned.
        labels=True uses step_labels.
        """
        every = int(every)
        if every < 1:
            raise InvalidArgumentError(f"every must be >= 1, got {every}")
        losses = []
        for step, loss in enumerate(self.steps(xs, targets, int(steps), labels=labels)):
            losses.append(loss)
            if callback is not None and (step % every == 0 or step == steps - 1):
                if callback(step, loss) is True:
                    break
        return np.array(losses, dtype=np.float32)

    @property
    def last_gradient_norm(self):
        """Global L2 norm of the last step's gradient, before clipping (0 before any step)."""
        return lib.recur_trainer_last_gradient_norm(self._handle())

    def gradient(self, layer, name):
        """The last step's gradient of tensor `name` of layer `layer` (zeros when frozen)."""
        handle = self._handle()
        shape = tensor_shape(self._layers, layer, name)
        out = np.empty(shape, dtype=np.float32)
        check(lib.recur_trainer_get_gradient(handle, layer, name.encode(), _arrays.float_pointer(out), out.size))
        return out

    def hidden_gradient_norms(self, layer, steps):
        """For each of the last step's `steps` time steps, |dL/dh_t| over the batch for recurrent layer `layer`.

        A diagnostic the trainer records only when its config says
        "record_hidden_gradient_norms": True (InvalidArgumentError otherwise).
        """
        out = np.empty(_arrays.index(steps, "steps"), dtype=np.float32)
        check(lib.recur_trainer_hidden_gradient_norms(self._handle(), _arrays.index(layer, "layer"),
                                                      _arrays.float_pointer(out), out.size))
        return out

    def set_threads(self, threads):
        """Splits the sequences of later steps over `threads` threads (1: none, the default)."""
        check(lib.recur_trainer_set_threads(self._handle(), _arrays.index(threads, "threads")))

    def reset_state(self):
        """Stateful trainers: forget the carried state (the next step starts from zeros)."""
        check(lib.recur_trainer_reset_state(self._handle()))

    def _inputs(self, xs):
        xs = _arrays.as_array(xs, "xs")
        unbatched = xs.ndim == 2
        if unbatched:
            xs = xs[np.newaxis]
        if xs.ndim != 3 or xs.shape[2] != self._input_size:
            raise _shape_error("xs", f"(batch, steps, {self._input_size}) or (steps, {self._input_size})",
                               xs[0].shape if unbatched else xs.shape)
        return _arrays.float32(xs), xs.shape[0], xs.shape[1], unbatched

    def _target_shape(self, batch, steps, unbatched):
        shape = () if self._last_only else (steps,)
        return shape if unbatched else (batch,) + shape

    # -- copying ------------------------------------------------------------------

    def __copy__(self):
        """copy.copy: a trainer in the same state (optimizer moments, step count,
        carried state) that trains the same model (recur_trainer_clone)."""
        return self._clone(self.model)

    def __deepcopy__(self, memo):
        """copy.deepcopy: a trainer in the same state over a copy of the model:
        the two then train independently, with the same bits step for step."""
        copied = self._clone(copy.deepcopy(self.model, memo))
        memo[id(self)] = copied
        return copied

    def _clone(self, model):
        if self.closed:
            raise ClosedError("this Trainer is closed: a closed trainer cannot be copied")
        pointer = TrainerPointer()
        check(lib.recur_trainer_clone(self._handle(), model._handle(), ctypes.byref(pointer)))
        copied = type(self).__new__(type(self))
        Handle.__init__(copied, pointer)
        for key, value in self.__dict__.items():
            if key not in copied.__dict__:
                copied.__dict__[key] = value
        copied.model = model
        return copied

    def __reduce__(self):
        raise NotCopyableError("a recur.Trainer cannot be pickled: its optimizer state has no portable form. "
                               "Pickle its model (recur.Model pickles through its JSON document) and make a new "
                               "trainer there, or copy.deepcopy the trainer within a process")

    def __repr__(self):
        closed = " (closed)" if self.closed else ""
        return f"<recur.Trainer {json.dumps(self.config)}{closed}>"


def _shape_error(what, expected, got):
    return ShapeError(f"{what} must have shape {expected}, got {_arrays.format_shape(got)}")
