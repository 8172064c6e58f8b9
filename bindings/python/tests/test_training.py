"""Training reference cases through Trainer: losses, gradient norms, gradients, updated weights."""

import numpy as np
import pytest

import recur

from conftest import assert_close, assert_scalar_close, case_arrays, case_files, load_case
from reference_numpy import tensor

TRAINING_CASES = [path for path in case_files() if "train" in load_case(path)]


def test_there_are_training_cases():
    assert len(TRAINING_CASES) >= 5


@pytest.mark.parametrize("path", TRAINING_CASES, ids=[path.stem for path in TRAINING_CASES])
def test_training_case(path):
    case = load_case(path)
    train = case["train"]
    xs, _, _ = case_arrays(case)
    last_only = train["config"].get("targets", "sequence") == "last"
    target_shape = (case["batch"],) + (() if last_only else (case["steps"],))
    with recur.Model.from_dict(case["model"]) as model, model.trainer(train["config"]) as trainer:
        for step in range(train["steps"]):
            if "labels" in train:
                labels = np.asarray(train["labels"], np.int64).reshape(target_shape)
                loss = trainer.step_labels(xs, labels)
            else:
                targets = np.asarray(train["target"], np.float32).reshape(target_shape + (model.output_size,))
                loss = trainer.step(xs, targets)
            assert isinstance(loss, float)
            assert_scalar_close(loss, train["losses"][step], f"loss of step {step}")
            assert_scalar_close(trainer.last_gradient_norm, train["gradient_norms"][step],
                                f"gradient norm of step {step}")
            if step == 0:
                for layer, gradients in enumerate(train["first_gradients"]):
                    for name, reference in gradients.items():
                        assert_close(trainer.gradient(layer, name), reference, f"gradient layers[{layer}].{name}")
                for layer in train["config"].get("freeze", []):
                    for name in model.layers[layer].tensors:
                        assert not trainer.gradient(layer, name).any(), "a frozen layer has a gradient"
        updated = train["updated_model"]
        for layer, reference_layer in enumerate(updated["layers"]):
            for name, reference in reference_layer["weights"].items():
                assert_close(model.get_tensor(layer, name), tensor(reference), f"updated layers[{layer}].{name}")
        saved = model.to_dict()  # the same weights through the model's own JSON
        for layer, reference_layer in enumerate(updated["layers"]):
            for name, reference in reference_layer["weights"].items():
                assert_close(tensor(saved["layers"][layer]["weights"][name]), tensor(reference),
                             f"saved layers[{layer}].{name}")


def training_case(name):
    return load_case(next(path for path in TRAINING_CASES if path.stem == name))


def test_one_sequence_without_batch_axis_matches_batch_of_one():
    case = training_case("rnn_tanh")
    xs, _, _ = case_arrays(case)
    targets = np.asarray(case["train"]["target"], np.float32).reshape(case["batch"], case["steps"], -1)
    with recur.Model.from_dict(case["model"]) as a, recur.Model.from_dict(case["model"]) as b:
        loss_a = a.trainer(case["train"]["config"]).step(xs[:1], targets[:1])
        loss_b = b.trainer(case["train"]["config"]).step(xs[0], targets[0])
        assert loss_a == loss_b
        assert np.array_equal(a.get_tensor(0, "weight_hh"), b.get_tensor(0, "weight_hh"))


def test_trainer_refusals():
    case = training_case("rnn_tanh")
    xs, _, _ = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model:
        with pytest.raises(recur.ModelError, match="lossy"):
            model.trainer({"loss": "lossy"})
        with pytest.raises(recur.ParseError):
            model.trainer("{not json")
        with pytest.raises(recur.InvalidArgumentError, match="JSON"):
            model.trainer({"loss": object()})
        trainer = model.trainer({"loss": "mse"})
        assert trainer.last_gradient_norm == 0.0
        with pytest.raises(recur.ShapeError, match=r"targets must have shape \(2, 4, 2\), got \(2, 4, 3\)"):
            trainer.step(xs, np.zeros((2, 4, 3)))
        with pytest.raises(recur.ShapeError, match="xs must have shape"):
            trainer.step(xs[..., :2], np.zeros((2, 4, 2)))
        with pytest.raises(recur.InvalidArgumentError):
            trainer.step_labels(xs, np.zeros((2, 4), np.int64))  # not a cross_entropy trainer
        with pytest.raises(recur.InvalidArgumentError, match="integers"):
            trainer.step_labels(xs, np.zeros((2, 4)))
        with pytest.raises(recur.NumericError):
            trainer.step(np.full_like(xs, np.nan), np.zeros((2, 4, 2)))
        with pytest.raises(recur.InvalidArgumentError, match="no tensor 'bias'"):
            trainer.gradient(0, "bias")


def test_label_out_of_range_is_the_librarys_invalid_argument():
    case = training_case("lstm_stack_softmax")
    xs, _, _ = case_arrays(case)
    with recur.Model.from_dict(case["model"]) as model, model.trainer(case["train"]["config"]) as trainer:
        with pytest.raises(recur.InvalidArgumentError) as caught:
            trainer.step_labels(xs, np.full((2, 7), 3))
        assert caught.value.status == recur.Status.INVALID_ARGUMENT and caught.value.message


def test_stateful_trainer_reset_state_allows_another_batch():
    case = training_case("lstm_stateful_ce_probs")
    xs, _, _ = case_arrays(case)
    targets = np.asarray(case["train"]["target"], np.float32).reshape(3, 5, 4)
    with recur.Model.from_dict(case["model"]) as model, model.trainer(case["train"]["config"]) as trainer:
        trainer.step(xs, targets)
        with pytest.raises(recur.ShapeError):
            trainer.step(xs[:2], targets[:2])
        trainer.reset_state()
        trainer.step(xs[:2], targets[:2])


def _sine():
    t = np.arange(0, 64, dtype=np.float32) * 0.2
    return np.sin(t[:-1])[:, None], np.sin(t[1:])[:, None]


def test_steps_yields_the_losses_of_step_and_fit_matches_them():
    from conftest import EXAMPLE_MODELS
    xs, targets = _sine()
    config = {"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01}}
    path = EXAMPLE_MODELS / "sine_predictor_init.json"
    with recur.Model.load(path) as a, recur.Model.load(path) as b, recur.Model.load(path) as c:
        trainer = a.trainer(config)
        by_hand = [trainer.step(xs, targets) for _ in range(20)]
        iterated = list(b.trainer(config).steps(xs, targets, 20))
        seen = []
        losses = c.trainer(config).fit(xs, targets, 20, callback=lambda step, loss: seen.append((step, loss)), every=5)
    assert iterated == by_hand
    assert losses.dtype == np.float32 and np.array_equal(losses, np.float32(by_hand)) and losses[-1] < losses[0]
    assert [step for step, _ in seen] == [0, 5, 10, 15, 19]
    assert all(loss == by_hand[step] for step, loss in seen)


def test_steps_without_count_runs_until_the_loop_stops_and_fit_stops_when_the_callback_says_so():
    from conftest import EXAMPLE_MODELS
    xs, targets = _sine()
    with recur.Model.load(EXAMPLE_MODELS / "sine_predictor_init.json") as model, model.trainer({"loss": "mse"}) as trainer:
        for step, loss in enumerate(trainer.steps(xs, targets)):
            if step == 7:
                break
        assert step == 7 and isinstance(loss, float)
        losses = trainer.fit(xs, targets, 100, callback=lambda step, loss: step == 3)
        assert losses.shape == (4,)
        with pytest.raises(recur.InvalidArgumentError, match="every"):
            trainer.fit(xs, targets, 3, every=0)
