"""Bidirectional layers and streams of different lengths
(recur_state_run_lengths, the trainer's lengths) against the reference cases
in Tests/testdata/sequences: outputs, final states and training match
PyTorch's packed sequences, inputs past a length are never read, and a
stream gives the same bits alone as in a batch."""

import json

import numpy as np
import pytest

import recur
from conftest import TESTDATA, assert_close

SEQUENCES = TESTDATA / "sequences"


def sequence_cases():
    """Every case of sequences/: bidirectional layers, lengths, or both."""
    return [pytest.param(json.loads(path.read_text()), id=path.stem) for path in sorted(SEQUENCES.glob("*.json"))]


def is_bidirectional(case):
    return any(layer.get("direction") == "bidirectional" for layer in case["model"]["layers"])


def length_cases():
    """The cases with lengths."""
    return [param for param in sequence_cases() if "lengths" in param.values[0]]


def inputs(case, model):
    return np.array(case["input"], dtype=np.float32).reshape(case["batch"], case["steps"], model.input_size)


def test_there_are_length_and_bidirectional_cases():
    assert len(length_cases()) >= 10
    assert sum(is_bidirectional(param.values[0]) for param in sequence_cases()) >= 8


@pytest.mark.parametrize("case", sequence_cases())
def test_outputs_and_final_state_match_the_reference(case):
    with recur.Model.from_dict(case["model"]) as model, model.state(case["batch"]) as state:
        ys = state.run(inputs(case, model), lengths=case.get("lengths"))
        assert_close(ys.ravel(), case["output"], f"{case['name']} output")
        if "final_state" in case:
            assert_close(state.get().ravel(), case["final_state"], f"{case['name']} final state")
        for stream, length in enumerate(case.get("lengths", [])):
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


def training_cases():
    return [case for case in sequence_cases() if "train" in case.values[0]]


def training_length_cases():
    return [case for case in length_cases() if "train" in case.values[0]]


def test_there_are_training_cases():
    assert len(training_length_cases()) >= 8
    assert sum(is_bidirectional(param.values[0]) for param in training_cases()) >= 7


@pytest.mark.parametrize("case", training_cases())
def test_training_matches_the_reference(case):
    train = case["train"]
    with recur.Model.from_dict(case["model"]) as model, model.trainer(train["config"]) as trainer:
        xs = inputs(case, model)
        b, t, o = case["batch"], case["steps"], model.output_size
        last = train["config"].get("targets", "sequence") == "last"
        for step in range(train["steps"]):
            if "labels" in train:
                labels = np.array(train["labels"]).reshape((b,) if last else (b, t))
                loss = trainer.step_labels(xs, labels, lengths=case.get("lengths"))
            else:
                target = np.array(train["target"], np.float32).reshape((b, o) if last else (b, t, o))
                loss = trainer.step(xs, target, lengths=case.get("lengths"))
            assert loss == pytest.approx(train["losses"][step], rel=1e-4), f"{case['name']} loss at step {step}"
            assert trainer.last_gradient_norm == pytest.approx(train["gradient_norms"][step], rel=1e-4)
            if step == 0:
                for index, tensors in enumerate(train["first_gradients"]):
                    for name, expected in tensors.items():
                        assert_close(trainer.gradient(index, name).ravel(), expected, f"{case['name']} gradient {index}.{name}")
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


BIDIRECTIONAL = {"format": "recur", "version": 1, "input_size": 3, "init": {"seed": 5}, "layers": [
    {"type": "lstm", "hidden_size": 4, "direction": "bidirectional"}, {"type": "dense", "units": 2}]}


def test_a_bidirectional_layer_reports_its_direction_and_sizes():
    with recur.Model.from_dict(BIDIRECTIONAL) as model:
        layer = model.layers[0]
        assert layer.bidirectional and (layer.hidden_size, layer.output_size, layer.state_size) == (4, 8, 0)
        assert list(layer.tensors) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_ih_reverse",
                                       "weight_hh_reverse", "bias_ih_reverse", "bias_hh_reverse"]
        assert layer.tensors["weight_hh_reverse"] == (16, 4)
        assert model.layers[1].input_size == 8 and "bidirectional" in str(layer)
        assert not np.array_equal(model.get_tensor(0, "weight_ih"), model.get_tensor(0, "weight_ih_reverse"))
        with recur.Model.from_json(model.to_json()) as again:
            assert again.to_json() == model.to_json()


def test_a_bidirectional_model_refuses_step_set_and_stateful_training():
    with recur.Model.from_dict(BIDIRECTIONAL) as model, model.state(2) as state:
        with pytest.raises(recur.ModelError, match=r"layers\[0\] is bidirectional"):
            state.step(np.zeros((2, 3), np.float32))
        with pytest.raises(recur.ModelError, match="bidirectional"):
            state.set(np.zeros((2, 0), np.float32))
        with pytest.raises(recur.ModelError, match="stateful"):
            model.trainer({"stateful": True})
        xs = np.random.default_rng(1).standard_normal((2, 6, 3)).astype(np.float32)
        first = state.run(xs)
        assert state.run(xs).tobytes() == first.tobytes(), "each run starts from zero state"
