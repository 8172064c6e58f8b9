"""recur.convert.from_rtneural, on RTNeural JSON written from PyTorch-verified reference weights."""

import json

import numpy as np
import pytest

import recur
from recur.convert import from_rtneural

import reference_numpy
from conftest import TESTDATA, assert_close, case_arrays, load_case


def torch_to_keras_gru(value):
    r, z, n = np.split(value, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def rtneural_document(case_model, split_activation=False):
    """The model as RTNeural's python/model_utils.py would write it from the equivalent Keras model."""
    layers = []
    for layer in case_model["layers"]:
        w = {name: reference_numpy.tensor(value) for name, value in layer["weights"].items()}
        if layer["type"] == "dense":
            size, activation = layer["units"], layer.get("activation", "linear")
            activation = "" if activation == "linear" else activation
            layers.append({"type": "time-distributed-dense" if split_activation else "dense",
                           "activation": "" if split_activation else activation, "shape": [None, None, size],
                           "weights": [w["weight"].T.tolist(), w.get("bias", np.zeros(size)).tolist()]})
            if split_activation and activation:
                layers.append({"type": "activation", "activation": activation, "shape": [None, None, size],
                               "weights": []})
            continue
        size = layer["hidden_size"]
        b_ih, b_hh = w["bias_ih"], w["bias_hh"]
        if layer["type"] == "gru":
            weights = [torch_to_keras_gru(w["weight_ih"]).T, torch_to_keras_gru(w["weight_hh"]).T,
                       np.stack([torch_to_keras_gru(b_ih), torch_to_keras_gru(b_hh)])]
        else:
            weights = [w["weight_ih"].T, w["weight_hh"].T, b_ih + b_hh]
        layers.append({"type": layer["type"], "activation": "tanh", "shape": [None, None, size],
                       "weights": [np.asarray(x).tolist() for x in weights]})
    return json.loads(json.dumps({"in_shape": [None, None, case_model["input_size"]], "layers": layers}))


@pytest.mark.parametrize("name", ["lstm_stack_softmax", "gru_sigmoid_last", "gru_lstm_frozen", "gru_long"])
@pytest.mark.parametrize("split_activation", [False, True], ids=["dense_activation", "activation_layer"])
def test_rtneural_models_reproduce_the_reference_outputs(name, split_activation):
    case = load_case(TESTDATA / f"{name}.json")
    xs, ys, _ = case_arrays(case)
    document = from_rtneural(rtneural_document(case["model"], split_activation))
    assert document["metadata"] == {"converted_from": "rtneural"}
    with recur.Model.from_dict(document) as model, model.state(case["batch"]) as state:
        assert_close(state.run(xs), ys, f"{name} through from_rtneural")


def gru_layer(bias):
    return {"type": "gru", "activation": "tanh", "shape": [None, None, 2],
            "weights": [np.zeros((1, 6)).tolist(), np.zeros((2, 6)).tolist(), bias]}


@pytest.mark.parametrize("document, message", [
    ({"in_shape": [None, None, 1], "layers": [gru_layer(np.zeros(6).tolist())]}, "reset_after=False"),
    ({"in_shape": [None, None, 1], "layers": [gru_layer(np.zeros((2, 6)).tolist()),
                                              {"type": "activation", "activation": "tanh", "shape": [None, None, 2],
                                               "weights": []}]}, "after a gru layer"),
    ({"in_shape": [None, None, 1], "layers": [{"type": "dense", "activation": "elu", "shape": [None, None, 1],
                                               "weights": [[[1.0]], [0.0]]}]}, "'elu' is not supported"),
    ({"in_shape": [None, None, 1], "layers": [{"type": "conv1d", "shape": [None, None, 1], "weights": []}]},
     "conv1d layers are not supported"),
    ({"in_shape": [None, None, 1], "layers": [{"type": "mystery", "shape": [None, None, 1]}]}, "unknown"),
    ({"in_shape": [None, 4, 4, 1], "layers": []}, "in_shape"),
    ({"in_shape": [None, None, 3], "layers": [gru_layer(np.zeros((2, 6)).tolist())]},
     r"kernel has shape \[1, 6\], expected \[3, 6\]"),
    ({"layers": []}, "not an RTNeural model"),
])
def test_unsupported_rtneural_features_are_named(document, message):
    with pytest.raises(recur.ConversionError, match=message):
        from_rtneural(document)
