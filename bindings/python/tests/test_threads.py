"""Several Python threads, each with its own State on one model; ctypes releases the GIL."""

import threading
import time

import numpy as np

import recur

from conftest import TESTDATA, case_arrays, load_case

THREADS = 6


def test_threads_stepping_their_own_states_match_one_thread():
    case = load_case(TESTDATA / "gru_long.json")
    xs, _, _ = case_arrays(case)
    inputs = [xs[0] * (1 + 0.1 * k) for k in range(THREADS)]  # a different sequence per thread
    with recur.Model.from_dict(case["model"]) as model:
        expected = []
        for sequence in inputs:
            with model.state() as state:
                expected.append(np.stack([state.step(x) for x in sequence]))
        results, errors = [None] * THREADS, []
        barrier = threading.Barrier(THREADS)

        def work(k):
            try:
                with model.state() as state:
                    barrier.wait()
                    for _ in range(3):
                        state.reset()
                        results[k] = np.stack([state.step(x) for x in inputs[k]])
            except Exception as error:  # reported below
                errors.append(error)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors
        for k in range(THREADS):
            assert np.array_equal(results[k], expected[k]), f"thread {k}"


def test_a_long_call_lets_other_python_threads_run():
    """If the GIL were held during recur_state_run, the counter could not move during it."""
    model = recur.Model.from_dict({
        "format": "recur", "version": 1, "input_size": 64, "init": {"seed": 123456789},
        "layers": [{"type": "lstm", "hidden_size": 256}]})
    xs = np.random.default_rng(0).standard_normal((1, 1, 64)).astype(np.float32)
    state = model.state(1)
    started = time.perf_counter()
    state.run(xs)
    steps = max(1, int(0.3 / (time.perf_counter() - started)))  # a run of about 0.3 s
    xs = np.repeat(xs, steps, axis=1)

    counter = 0
    stop = threading.Event()

    def count():
        nonlocal counter
        while not stop.is_set():
            counter += 1

    counting = threading.Thread(target=count)
    counting.start()
    try:
        time.sleep(0.05)
        before = counter
        state.run(xs)
        during = counter - before
    finally:
        stop.set()
        counting.join()
    assert during > 1000, f"the other thread counted only {during} times during a long run"
