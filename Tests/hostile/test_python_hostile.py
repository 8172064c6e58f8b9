"""Hostile and careless input through the Python binding (issue 15: D2, D6,
D9 and their neighbours): copies never share a native object, sizes outside
size_t and NULs in paths are refused before ctypes sees them, every refusal
is a RecurError (or ValueError for a NUL, as open() does), and a long run
stops cleanly at a chunk boundary when interrupted."""

import copy
import gc
import pickle
import signal
import threading
import time

import numpy as np
import pytest

import recur
from recur import _state

TINY = {"format": "recur", "version": 1, "input_size": 2, "init": {"seed": 1},
        "layers": [{"type": "lstm", "hidden_size": 4}, {"type": "dense", "units": 1}]}


def test_copies_never_share_a_native_object_d2():
    for duplicate in (copy.copy, copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))):
        model = recur.Model.from_dict(TINY)
        twin = duplicate(model)
        state_twin = duplicate(model.state(2))
        model.close()
        gc.collect()
        assert twin.state().run([[1.0, 2.0]]).shape == (1, 1)      # D2 segfaulted here
        assert state_twin.run(np.zeros((2, 3, 2), np.float32)).shape == (2, 3, 1)
        twin.close()
        twin.close()                                                # idempotent


@pytest.mark.parametrize("size", [2**64, 2**64 + 1, 2**70, -1])
def test_sizes_outside_size_t_are_refused_d6(size):
    model = recur.Model.from_dict(TINY)
    state = model.state(2)
    trainer = model.trainer()
    calls = [lambda: state.reset_stream(size), lambda: model.state(size), lambda: state.set_threads(size),
             lambda: trainer.set_threads(size), lambda: trainer.hidden_gradient_norms(0, size),
             lambda: trainer.hidden_gradient_norms(size, 1)]
    for call in calls:
        with pytest.raises(recur.InvalidArgumentError):
            call()
    assert state.batch == 2


@pytest.mark.parametrize("value", [1.7, "2", None, 2.0])
def test_non_integers_are_refused_as_recur_errors(value):
    model = recur.Model.from_dict(TINY)
    trainer = model.trainer()
    with pytest.raises(recur.InvalidArgumentError):
        trainer.set_threads(value)
    with pytest.raises(recur.InvalidArgumentError):
        model.state(2).reset_stream(value)


@pytest.mark.parametrize("path", ["a.json\0evil", "\0", "dir\0/x.json"])
def test_a_nul_in_a_path_is_a_value_error_d9(tmp_path, path):
    model = recur.Model.from_dict(TINY)
    with pytest.raises(ValueError, match="null byte"):
        model.save(str(tmp_path / path))
    with pytest.raises(ValueError, match="null byte"):
        recur.Model.load(str(tmp_path / path))
    assert list(tmp_path.iterdir()) == []                          # nothing written under a cut name


def test_a_fifo_is_refused_at_once_d3(tmp_path):
    import os
    fifo = tmp_path / "model.json"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(recur.RecurIOError, match="not a regular file"):
        recur.Model.load(str(fifo))
    assert time.monotonic() - started < 2


def test_a_long_run_is_interruptible_at_a_chunk_boundary(monkeypatch):
    """Ctrl-C during a run of many chunks: KeyboardInterrupt, and the state
    is the one after a whole number of chunks (the same bits as running
    that many steps)."""
    monkeypatch.setattr(_state, "RUN_CHUNK_STEPS", 64)
    model = recur.Model.from_dict(TINY)
    xs = np.random.default_rng(0).standard_normal((4, 64 * 200, 2)).astype(np.float32)
    state = model.state(4)
    timer = threading.Timer(0.02, lambda: signal.raise_signal(signal.SIGINT))
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        for _ in range(50):
            state.run(xs)
    timer.cancel()
    after = state.get()
    # The state matches some whole number of chunks run from zero.
    reference = model.state(4)
    matched = False
    for chunk in range(50 * 200 + 1):
        if reference.get().tobytes() == after.tobytes():
            matched = True
            break
        start = (chunk % 200) * 64
        reference.run(xs[:, start:start + 64])
    assert matched, "the state after an interrupt is at a chunk boundary"


def test_a_chunked_run_gives_the_same_bits(monkeypatch):
    model = recur.Model.from_dict(TINY)
    xs = np.random.default_rng(1).standard_normal((3, 1000, 2)).astype(np.float32)
    lengths = [1000, 10, 577]
    whole = model.state(3).run(xs, lengths=lengths)
    monkeypatch.setattr(_state, "RUN_CHUNK_STEPS", 64)
    state = model.state(3)
    assert state.run(xs, lengths=lengths).tobytes() == whole.tobytes()
    reference = model.state(3)
    reference.run(xs, lengths=lengths)
    assert state.get().tobytes() == reference.get().tobytes()


def test_every_refusal_is_a_recur_error():
    model = recur.Model.from_dict(TINY)
    state = model.state(2)
    for call in (lambda: state.run(np.zeros((3, 2, 2))), lambda: state.step([[np.nan, 0], [0, 0]]),
                 lambda: state.run(np.zeros((2, 2, 2)), lengths=[3, 1]), lambda: model.get_tensor(5, "weight"),
                 lambda: model.get_tensor(0, "nope"), lambda: recur.Model.from_json("{"),
                 lambda: model.trainer({"stateful": "yes"}), lambda: state.run("not numbers")):
        with pytest.raises(recur.RecurError):
            call()
