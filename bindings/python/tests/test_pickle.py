"""Pickling and copying: a Model travels as its JSON document (Ray, multiprocessing,
copy.deepcopy), two Python objects never share one native pointer; a State
copies and pickles with its streams' values; a Trainer copies in the same
optimizer state (recur_trainer_clone) and refuses pickling."""

import copy
import multiprocessing
import pickle

import numpy as np
import pytest

import recur
from recur._model import NotCopyableError

from conftest import EXAMPLE_MODELS

TINY_LSTM = EXAMPLE_MODELS / "tiny_lstm.json"
XS = np.random.default_rng(7).standard_normal((3, 25, 2)).astype(np.float32)

# A GRU from "init" (weights drawn at load) with metadata, as the scale-out example makes.
SEEDED_GRU = {
    "format": "recur", "version": 1, "input_size": 2,
    "init": {"seed": 11, "recurrent": "orthogonal"},
    "layers": [{"type": "gru", "hidden_size": 8}, {"type": "dense", "units": 1}],
    "metadata": {"name": "pickle test"},
}


def outputs(model, xs=XS):
    with model.state(xs.shape[0]) as state:
        return state.run(xs)


def bits(array):
    return np.ascontiguousarray(array, np.float32).view(np.uint32)


@pytest.mark.parametrize("make", [lambda: recur.Model.load(TINY_LSTM), lambda: recur.Model.from_dict(SEEDED_GRU)],
                         ids=["tiny_lstm", "seeded_gru"])
@pytest.mark.parametrize("protocol", [0, pickle.DEFAULT_PROTOCOL, pickle.HIGHEST_PROTOCOL])
def test_a_pickle_round_trip_gives_bit_identical_outputs(make, protocol):
    model = make()
    restored = pickle.loads(pickle.dumps(model, protocol=protocol))
    assert type(restored) is recur.Model and restored is not model
    assert restored._pointer is not model._pointer
    np.testing.assert_array_equal(bits(outputs(restored)), bits(outputs(model)))
    assert restored.to_json("base64") == model.to_json("base64")
    assert restored.to_dict()["metadata"] == model.to_dict()["metadata"]


def test_the_pickle_is_the_json_document():
    model = recur.Model.from_dict(SEEDED_GRU)
    function, arguments = model.__reduce__()
    cls, text, storage = arguments
    assert cls is recur.Model and storage == "fp32"
    assert text == model.to_json("base64")
    assert recur.Model.from_json(text).to_json("base64") == text


def test_a_pickle_keeps_the_weight_storage():
    model = recur.Model.load(TINY_LSTM)
    model.weight_storage = "fp16"
    restored = pickle.loads(pickle.dumps(model))
    assert restored.weight_storage == "fp16"
    np.testing.assert_array_equal(bits(outputs(restored)), bits(outputs(model)))
    assert copy.copy(model).weight_storage == "fp16"
    assert copy.deepcopy(model).weight_storage == "fp16"


def test_a_pickled_model_can_be_pickled_again_and_trained_independently():
    model = recur.Model.from_dict(SEEDED_GRU)
    before = outputs(model)
    restored = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(model))))
    targets = np.zeros((3, 25, 1), np.float32)
    with restored.trainer({"loss": "mse"}) as trainer:
        trainer.step(XS, targets)
    np.testing.assert_array_equal(outputs(model), before)          # the original is untouched
    assert not np.array_equal(outputs(restored), before)


def _run_pickled(model):
    """In a child process: the model arrived through pickle."""
    return outputs(model)


def test_multiprocessing_ships_a_model():
    model = recur.Model.load(TINY_LSTM)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        result = pool.apply(_run_pickled, (model,))
    np.testing.assert_array_equal(bits(result), bits(outputs(model)))


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy], ids=["copy", "deepcopy"])
def test_a_copy_is_an_independent_model(duplicate):
    model = recur.Model.load(TINY_LSTM)
    before = outputs(model)
    weight = model.get_tensor(0, "weight_hh")
    copied = duplicate(model)
    assert copied is not model and copied._pointer is not model._pointer
    np.testing.assert_array_equal(bits(outputs(copied)), bits(before))

    copied.set_tensor(0, "weight_hh", weight * 0.5)                 # change the copy ...
    np.testing.assert_array_equal(model.get_tensor(0, "weight_hh"), weight)   # ... the original keeps its own
    np.testing.assert_array_equal(outputs(model), before)
    assert not np.array_equal(outputs(copied), before)


@pytest.mark.parametrize("duplicate", [copy.copy, copy.deepcopy, lambda model: pickle.loads(pickle.dumps(model))],
                         ids=["copy", "deepcopy", "pickle"])
def test_a_copy_outlives_the_closed_original(duplicate):
    model = recur.Model.load(TINY_LSTM)
    expected = outputs(model)
    copied = duplicate(model)
    model.close()
    del model
    np.testing.assert_array_equal(bits(outputs(copied)), bits(expected))
    copied.close()


def test_deepcopy_of_a_structure_holding_one_model_twice_copies_it_once():
    model = recur.Model.load(TINY_LSTM)
    pair = copy.deepcopy({"a": model, "b": model})
    assert pair["a"] is pair["b"] and pair["a"] is not model


@pytest.mark.parametrize("duplicate", [pickle.dumps, copy.copy, copy.deepcopy], ids=["pickle", "copy", "deepcopy"])
def test_a_closed_model_refuses_to_be_pickled_or_copied(duplicate):
    model = recur.Model.load(TINY_LSTM)
    model.close()
    with pytest.raises(recur.ClosedError, match="this Model is closed: a closed model cannot be pickled or copied"):
        duplicate(model)


@pytest.mark.parametrize("duplicate", [lambda s: pickle.loads(pickle.dumps(s)), copy.copy, copy.deepcopy],
                         ids=["pickle", "copy", "deepcopy"])
def test_a_state_copies_and_pickles_with_its_streams(duplicate):
    model = recur.Model.load(TINY_LSTM)
    state = model.state(3)
    state.run(XS)                                     # the streams have moved on
    twin = duplicate(state)
    assert twin._pointer is not state._pointer and twin.batch == 3
    np.testing.assert_array_equal(twin.get(), state.get())
    assert twin.run(XS).tobytes() == state.run(XS).tobytes()     # the same future, bit for bit
    state.close()
    twin.run(XS)                                      # the copy outlives the original


def test_a_trainer_copies_in_the_same_state_and_refuses_pickling():
    model = recur.Model.load(TINY_LSTM)
    trainer = model.trainer({"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01}})
    xs = np.random.default_rng(3).standard_normal((2, 5, model.input_size)).astype(np.float32)
    target = np.zeros((2, 5, model.output_size), np.float32)
    trainer.step(xs, target)                          # the optimizer has moments now
    twin = copy.deepcopy(trainer)
    assert twin.model is not trainer.model and twin._pointer is not trainer._pointer
    for _ in range(3):                                # the same steps give the same bits on each model
        assert trainer.step(xs, target) == twin.step(xs, target)
    assert trainer.model.to_json() == twin.model.to_json()
    shallow = copy.copy(trainer)
    assert shallow.model is trainer.model
    with pytest.raises(NotCopyableError, match="cannot be pickled"):
        pickle.dumps(trainer)
