"""Streams of different lengths (recur_state_run_lengths) against the
reference cases in Tests/testdata/sequences: outputs and final states match
PyTorch's packed sequences, inputs past a length are never read, and a
stream gives the same bits alone as in a batch."""

import json

import numpy as np
import pytest

import recur
from conftest import TESTDATA, assert_close

SEQUENCES = TESTDATA / "sequences"


def length_cases():
    """The cases with lengths whose layers all run forward (the ones this library runs)."""
    cases = []
    for path in sorted(SEQUENCES.glob("*.json")):
        case = json.loads(path.read_text())
        bidirectional = any(layer.get("direction") == "bidirectional" for layer in case["model"]["layers"])
        if "lengths" in case and not bidirectional:
            cases.append(pytest.param(case, id=case["name"]))
    return cases


def inputs(case, model):
    return np.array(case["input"], dtype=np.float32).reshape(case["batch"], case["steps"], model.input_size)


def test_there_are_length_cases():
    assert len(length_cases()) >= 4


@pytest.mark.parametrize("case", length_cases())
def test_outputs_and_final_state_match_the_reference(case):
    with recur.Model.from_dict(case["model"]) as model, model.state(case["batch"]) as state:
        ys = state.run(inputs(case, model), lengths=case["lengths"])
        assert_close(ys.ravel(), case["output"], f"{case['name']} output")
        assert_close(state.get().ravel(), case["final_state"], f"{case['name']} final state")
        for stream, length in enumerate(case["lengths"]):
            assert not ys[stream, length:].any(), "outputs past a stream's length are 0"


@pytest.mark.parametrize("case", length_cases())
def test_a_stream_alone_gives_the_same_bits_and_padding_is_never_read(case):
    with recur.Model.from_dict(case["model"]) as model:
        xs = inputs(case, model)
        with model.state(case["batch"]) as state:
            batched = state.run(xs, lengths=case["lengths"])
            batched_state = state.get()
        poisoned = xs.copy()
        for stream, length in enumerate(case["lengths"]):
            poisoned[stream, length:] = np.nan        # refused if it were read
            with model.state(1) as alone:
                if length:
                    ys = alone.run(xs[stream:stream + 1, :length])
                    assert ys.tobytes() == batched[stream:stream + 1, :length].tobytes()
                assert alone.get().tobytes() == batched_state[stream:stream + 1].tobytes()
        with model.state(case["batch"]) as state:
            assert state.run(poisoned, lengths=case["lengths"]).tobytes() == batched.tobytes()


def test_lengths_are_checked():
    case = length_cases()[0].values[0]
    with recur.Model.from_dict(case["model"]) as model, model.state(case["batch"]) as state:
        xs = inputs(case, model)
        before = state.get()
        too_long = list(case["lengths"])
        too_long[1] = case["steps"] + 1
        with pytest.raises(recur.InvalidArgumentError, match=r"lengths\[1\]"):
            state.run(xs, lengths=too_long)
        with pytest.raises(recur.ShapeError):
            state.run(xs, lengths=case["lengths"][:-1])
        with pytest.raises(recur.InvalidArgumentError):
            state.run(xs, lengths=[-1] + list(case["lengths"][1:]))
        assert state.get().tobytes() == before.tobytes(), "a refused call leaves the state unchanged"
