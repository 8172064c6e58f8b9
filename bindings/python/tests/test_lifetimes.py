"""Handles: idempotent close, context managers, use after close, who keeps whom alive."""

import gc
import itertools

import numpy as np
import pytest

import recur

from conftest import EXAMPLE_MODELS

TINY_LSTM = EXAMPLE_MODELS / "tiny_lstm.json"
XS = np.linspace(-1, 1, 2 * 6 * 2, dtype=np.float32).reshape(2, 6, 2)


def expected_outputs():
    with recur.Model.load(TINY_LSTM) as model, model.state(2) as state:
        return state.run(XS)


def test_close_is_idempotent_and_with_closes():
    with recur.Model.load(TINY_LSTM) as model:
        state = model.state()
        with state:
            assert not state.closed
        assert state.closed
        state.close()
        state.close()
    assert model.closed
    model.close()


@pytest.mark.parametrize("use", [
    lambda model: model.input_size, lambda model: model.layers, lambda model: model.to_json(),
    lambda model: model.state(), lambda model: model.clone(), lambda model: model.get_tensor(0, "weight_ih"),
    lambda model: model.trainer(), lambda model: model.save("never.json"), lambda model: model.__enter__(),
])
def test_a_closed_model_refuses_every_use(use):
    model = recur.Model.load(TINY_LSTM)
    model.close()
    with pytest.raises(recur.ClosedError, match="this Model is closed") as caught:
        use(model)
    assert isinstance(caught.value, ValueError) and caught.value.status == recur.Status.INVALID_ARGUMENT
    assert "closed" in repr(model)


@pytest.mark.parametrize("use", [
    lambda state: state.step(XS[:, 0]), lambda state: state.run(XS), lambda state: state.reset(),
    lambda state: state.reset_stream(0), lambda state: state.get(), lambda state: state.set(np.zeros((2, 8))),
])
def test_a_closed_state_refuses_every_use(use):
    with recur.Model.load(TINY_LSTM) as model:
        state = model.state(2)
    state.close()
    with pytest.raises(recur.ClosedError, match="this State is closed"):
        use(state)


@pytest.mark.parametrize("use", [
    lambda trainer: trainer.step(XS, np.zeros((2, 6, 1))), lambda trainer: trainer.last_gradient_norm,
    lambda trainer: trainer.gradient(0, "weight_ih"), lambda trainer: trainer.reset_state(),
    lambda trainer: trainer.step_labels(XS, np.zeros((2, 6), int)),
])
def test_a_closed_trainer_refuses_every_use(use):
    with recur.Model.load(TINY_LSTM) as model, model.trainer() as trainer:
        pass
    with pytest.raises(recur.ClosedError, match="this Trainer is closed"):
        use(trainer)


def test_a_state_outlives_its_closed_model():
    expected = expected_outputs()
    model = recur.Model.load(TINY_LSTM)
    state = model.state(2)
    model.close()
    assert state.model is model and model.closed
    assert np.array_equal(state.run(XS), expected)
    state.close()


def test_a_state_outlives_its_model_object():
    expected = expected_outputs()
    state = recur.Model.load(TINY_LSTM).state(2)  # the Model object has no other reference
    gc.collect()
    assert np.array_equal(state.run(XS), expected)


def test_a_trainer_outlives_its_closed_model():
    model = recur.Model.load(TINY_LSTM)
    trainer = model.trainer({"optimizer": {"type": "sgd", "learning_rate": 0.1}})
    model.close()
    loss = trainer.step(XS, np.zeros((2, 6, 1)))
    assert loss > 0 and trainer.gradient(1, "bias").shape == (1,)
    trainer.close()


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_closing_in_any_order(order):
    model = recur.Model.load(TINY_LSTM)
    clone = model.clone()
    objects = [model, clone, clone.state(2), model.trainer()]
    for index in order:
        objects[index].close()
        for other in objects:
            if not other.closed and isinstance(other, recur.State):
                other.run(XS)  # still works
    assert all(o.closed for o in objects)


def test_dropping_many_handles_frees_them():
    with recur.Model.load(TINY_LSTM) as model:
        for _ in range(2000):
            model.state(4).step(np.zeros((4, 2)))
            model.clone()
        gc.collect()


def test_a_trainer_changes_its_model_and_a_clone_is_independent():
    with recur.Model.load(TINY_LSTM) as model, model.clone() as serving:
        before = serving.get_tensor(0, "weight_hh")
        with model.trainer({"optimizer": {"type": "sgd", "learning_rate": 0.5}}) as trainer:
            trainer.step(XS, np.ones((2, 6, 1)))
        assert not np.array_equal(model.get_tensor(0, "weight_hh"), before)
        assert np.array_equal(serving.get_tensor(0, "weight_hh"), before)
