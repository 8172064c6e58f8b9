"""Inference over Tests/testdata through the binding: run, step, batch 1, files."""

import numpy as np
import pytest

import recur

from conftest import assert_close, case_arrays, case_files, load_case

CASES = case_files()


@pytest.fixture(params=CASES, ids=[path.stem for path in CASES])
def case(request):
    return load_case(request.param)


def test_run(case):
    xs, ys, final_state = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model, model.state(case["batch"]) as state:
        outputs = state.run(xs)
        assert outputs.shape == ys.shape and outputs.dtype == np.float32
        assert_close(outputs, ys, "output")
        assert_close(state.get(), final_state, "final_state")


def test_step_gives_the_same_floats_as_run(case):
    xs, ys, final_state = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model:
        expected = model.state(case["batch"]).run(xs)
        state = model.state(case["batch"])
        outputs = np.stack([state.step(xs[:, t]) for t in range(case["steps"])], axis=1)
        assert np.array_equal(outputs, expected)
        assert_close(outputs, ys, "output (step)")
        assert_close(state.get(), final_state, "final_state (step)")


def test_each_stream_alone_with_unbatched_arrays(case):
    xs, ys, final_state = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model:
        for stream in range(case["batch"]):
            with model.state() as state:
                outputs = state.run(xs[stream])  # (T, I) -> (T, O)
                assert outputs.shape == ys[stream].shape
                assert_close(outputs, ys[stream], f"stream {stream} output")
                assert_close(state.get()[0], final_state[stream], f"stream {stream} final_state")
            with model.state() as state:
                first = state.step(xs[stream, 0])  # (I,) -> (O,)
                assert first.shape == (model.output_size,)
                assert np.array_equal(first, outputs[0])


def test_split_runs_and_set_state_continue_exactly(case):
    xs, _, _ = case_arrays(case)
    split = case["steps"] // 2
    if split == 0:
        pytest.skip("one step only")
    with recur.Model.from_dict(case["model"]) as model:
        whole = model.state(case["batch"]).run(xs)
        state = model.state(case["batch"])
        first = state.run(xs[:, :split])
        saved = state.get()
        restored = model.state(case["batch"])
        restored.set(saved)
        assert np.array_equal(np.concatenate([first, restored.run(xs[:, split:])], axis=1), whole)


def test_file_and_json_round_trips(case, tmp_path):
    xs, ys, _ = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model:
        expected = model.state(case["batch"]).run(xs)
        for encoding in ("flat", "base64"):
            path = tmp_path / f"model_{encoding}.json"
            model.save(path, encoding=encoding)
            with recur.Model.load(path) as loaded:
                assert np.array_equal(loaded.state(case["batch"]).run(xs), expected)
            with recur.Model.from_json(model.to_json(encoding)) as again:
                assert np.array_equal(again.state(case["batch"]).run(xs), expected)
        assert model.to_dict()["layers"][0]["type"] == case["model"]["layers"][0]["type"]
