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


def training_length_cases():
    return [case for case in length_cases() if "train" in case.values[0]]


def test_there_are_training_cases_with_lengths():
    assert len(training_length_cases()) >= 3


@pytest.mark.parametrize("case", training_length_cases())
def test_training_with_lengths_matches_the_reference(case):
    train = case["train"]
    with recur.Model.from_dict(case["model"]) as model, model.trainer(train["config"]) as trainer:
        xs = inputs(case, model)
        b, t, o = case["batch"], case["steps"], model.output_size
        last = train["config"].get("targets", "sequence") == "last"
        for step in range(train["steps"]):
            if "labels" in train:
                labels = np.array(train["labels"]).reshape((b,) if last else (b, t))
                loss = trainer.step_labels(xs, labels, lengths=case["lengths"])
            else:
                target = np.array(train["target"], np.float32).reshape((b, o) if last else (b, t, o))
                loss = trainer.step(xs, target, lengths=case["lengths"])
            assert loss == pytest.approx(train["losses"][step], rel=1e-4), f"{case['name']} loss at step {step}"
            assert trainer.last_gradient_norm == pytest.approx(train["gradient_norms"][step], rel=1e-4)
        updated = train["updated_model"]["layers"]
        for index, layer in enumerate(updated):
            for name, tensor in layer.get("weights", {}).items():
                assert_close(model.get_tensor(index, name).ravel(), tensor["data"], f"{case['name']} layers[{index}].{name}")


@pytest.mark.parametrize("case", [c for c in training_length_cases() if "target" in c.values[0]["train"]])
def test_training_with_lengths_never_reads_padding(case):
    """NaN inputs and targets past each length change nothing (float-target cases)."""
    train = case["train"]
    results = []
    for poison in (False, True):
        with recur.Model.from_dict(case["model"]) as model, model.trainer(train["config"]) as trainer:
            xs = inputs(case, model)
            b, t, o = case["batch"], case["steps"], model.output_size
            last = train["config"].get("targets", "sequence") == "last"
            target = np.array(train["target"], np.float32).reshape((b, o) if last else (b, t, o))
            if poison:
                xs = xs.copy()
                target = target.copy()
                for stream, length in enumerate(case["lengths"]):
                    xs[stream, length:] = np.nan
                    if not last:
                        target[stream, length:] = np.nan
            results.append(trainer.step(xs, target, lengths=case["lengths"]))
    assert results[0] == results[1]


@pytest.mark.parametrize("case", training_length_cases())
def test_training_with_lengths_gives_the_same_bits_on_any_thread_count(case):
    train = case["train"]
    losses = []
    for threads in (1, 2, 3):
        with recur.Model.from_dict(case["model"]) as model, model.trainer(train["config"]) as trainer:
            trainer.set_threads(threads)
            xs = inputs(case, model)
            b, t, o = case["batch"], case["steps"], model.output_size
            last = train["config"].get("targets", "sequence") == "last"
            if "labels" in train:
                loss = trainer.step_labels(xs, np.array(train["labels"]).reshape((b,) if last else (b, t)),
                                           lengths=case["lengths"])
            else:
                loss = trainer.step(xs, np.array(train["target"], np.float32).reshape((b, o) if last else (b, t, o)),
                                    lengths=case["lengths"])
            losses.append((loss, model.to_json()))
    assert losses[0] == losses[1] == losses[2]
