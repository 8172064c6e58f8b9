"""recur.convert.from_keras: fake layers built from PyTorch-verified weights (never skipped),
and real Keras models compared with Keras' own predictions (when Keras is installed)."""

import os

import numpy as np
import pytest

import recur
from recur.convert import from_keras

import reference_numpy
from conftest import TESTDATA, assert_close, case_arrays, load_case


class FakeLayer:
    """What from_keras reads from a Keras layer: class name, name, get_config(), get_weights()."""

    def __init__(self, config, weights=(), name=None):
        self._config, self._weights, self.name = dict(config), [np.asarray(w, np.float32) for w in weights], name

    def get_config(self):
        return dict(self._config)

    def get_weights(self):
        return list(self._weights)


def fake(class_name, config, weights=()):
    return type(class_name, (FakeLayer,), {})(config, weights)


def torch_to_keras_gru(value):
    """PyTorch's r, z, n gate blocks (first axis) -> Keras' z, r, h."""
    r, z, n = np.split(value, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def keras_fixture(case_model, return_sequences=True, split_activation=False):
    """Keras layers (fakes) holding the weights of a Recur/PyTorch reference model, and the
    same weights as reference_numpy.keras_run takes them."""
    layers, keras_layout = [fake("InputLayer", {})], []
    for layer in case_model["layers"]:
        w = {name: reference_numpy.tensor(value) for name, value in layer["weights"].items()}
        has_bias = any(name.startswith("bias") for name in w)
        if layer["type"] == "dense":
            activation = layer.get("activation", "linear")
            weights = [w["weight"].T] + ([w["bias"]] if has_bias else [])
            config = {"units": layer["units"], "activation": "linear" if split_activation else activation,
                      "use_bias": has_bias}
            layers.append(fake("Dense", config, weights))
            if split_activation and activation != "linear":
                layers.append(fake("Activation", {"activation": activation}))
            keras_layout.append(("dense", (w["weight"].T, w.get("bias", 0.0)), activation))
            continue
        class_name = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[layer["type"]]
        activation = layer.get("activation", "tanh")
        config = {"units": layer["hidden_size"], "activation": activation, "recurrent_activation": "sigmoid",
                  "use_bias": has_bias, "return_sequences": return_sequences, "go_backwards": False}
        if layer["type"] == "gru":
            config["reset_after"] = True
        kernel, recurrent, bias = keras_cell(layer, w, "")
        weights = [kernel, recurrent] + ([bias] if has_bias else [])
        if layer.get("direction") == "bidirectional":
            back_kernel, back_recurrent, back_bias = keras_cell(layer, w, "_reverse")
            back_weights = [back_kernel, back_recurrent] + ([back_bias] if has_bias else [])
            wrapper = fake("Bidirectional", {"merge_mode": "concat"}, weights + back_weights)
            wrapper.forward_layer = fake(class_name, config, weights)
            wrapper.backward_layer = fake(class_name, dict(config, go_backwards=True), back_weights)
            layers.append(wrapper)
            keras_layout.append(None)  # reference_numpy.keras_run has no bidirectional layers
            continue
        layers.append(fake(class_name, config, weights))
        keras_layout.append((layer["type"], (kernel, recurrent, bias), activation))
    return layers, keras_layout


def keras_cell(layer, w, suffix):
    """Keras' kernel, recurrent kernel and bias for one cell of a Recur layer ("_reverse": the backward one)."""
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[layer["type"]]
    zeros = np.zeros(gates * layer["hidden_size"])
    w_ih, w_hh = w["weight_ih" + suffix], w["weight_hh" + suffix]
    b_ih, b_hh = w.get("bias_ih" + suffix, zeros), w.get("bias_hh" + suffix, zeros)
    if layer["type"] == "gru":
        return (torch_to_keras_gru(w_ih).T, torch_to_keras_gru(w_hh).T,
                np.stack([torch_to_keras_gru(b_ih), torch_to_keras_gru(b_hh)]))
    return w_ih.T, w_hh.T, b_ih + b_hh  # SimpleRNN, and LSTM whose i, f, g, o is Keras' i, f, c, o: one summed bias


CASES = ["rnn_tanh", "rnn_relu_last", "lstm_stack_softmax", "lstm_nobias", "gru_sigmoid_last", "gru_lstm_frozen",
         "gru_long"]


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("split_activation", [False, True], ids=["dense_activation", "activation_layer"])
def test_keras_layers_with_torch_verified_weights(name, split_activation):
    case = load_case(TESTDATA / f"{name}.json")
    xs, ys, _ = case_arrays(case)
    layers, keras_layout = keras_fixture(case["model"], split_activation=split_activation)
    # The fixture itself is right: Keras' formulas on Keras-layout weights give PyTorch's outputs.
    assert_close(reference_numpy.keras_run(keras_layout, xs), ys, "keras-layout reference")
    document = from_keras(layers)
    assert document["metadata"] == {"converted_from": "keras"}
    with recur.Model.from_dict(document) as model, model.state(case["batch"]) as state:
        assert_close(state.run(xs), ys, f"{name} through from_keras")


SEQUENCES = TESTDATA / "sequences"
BIDIRECTIONAL_CASES = sorted(path.stem for path in SEQUENCES.glob("*.json")
                             if any(layer.get("direction") == "bidirectional"
                                    for layer in load_case(path)["model"]["layers"]))


@pytest.mark.parametrize("name", BIDIRECTIONAL_CASES)
def test_keras_bidirectional_layers_with_torch_verified_weights(name):
    """Bidirectional(SimpleRNN | LSTM | GRU) fakes holding the weights of PyTorch-made bidirectional cases
    (run with their lengths, as PyTorch's packed sequences)."""
    case = load_case(SEQUENCES / f"{name}.json")
    layers, _ = keras_fixture(case["model"])
    assert any(type(layer).__name__ == "Bidirectional" for layer in layers)
    document = from_keras(layers)
    assert [layer.get("direction", "forward") for layer in document["layers"]] == \
        [layer.get("direction", "forward") for layer in case["model"]["layers"]]
    xs = np.asarray(case["input"], np.float32).reshape(case["batch"], case["steps"], -1)
    with recur.Model.from_dict(document) as model, model.state(case["batch"]) as state:
        assert_close(state.run(xs, lengths=case.get("lengths")).ravel(), case["output"], f"{name} through from_keras")


def bidirectional_fake(merge_mode="concat", return_sequences=True, backward_changes=None):
    """A Bidirectional(LSTM(2)) over 1 input, as from_keras reads it."""
    config = {"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "use_bias": True,
              "return_sequences": return_sequences, "go_backwards": False}
    weights = [np.zeros((1, 8)), np.zeros((2, 8)), np.zeros(8)]
    wrapper = fake("Bidirectional", {"merge_mode": merge_mode}, weights + weights)
    wrapper.forward_layer = fake("LSTM", config, weights)
    wrapper.backward_layer = fake("LSTM", {**config, "go_backwards": True, **(backward_changes or {})}, weights)
    return wrapper


@pytest.mark.parametrize("merge_mode", ["sum", "mul", "ave", None])
def test_bidirectional_merge_modes_other_than_concat_are_refused_with_the_reason(merge_mode):
    with pytest.raises(recur.ConversionError, match=rf"merge_mode={merge_mode!r} is not supported: it "
                                                    r"(adds|multiplies|averages|returns).*concatenates"):
        from_keras([bidirectional_fake(merge_mode)])
    assert from_keras([bidirectional_fake()])["layers"][0]["direction"] == "bidirectional"


def test_bidirectional_return_sequences_false_is_refused_with_the_reason():
    with pytest.raises(recur.ConversionError, match=r"return_sequences=False.*step 0.*ys\[:, -1, :units\]"):
        from_keras([bidirectional_fake(return_sequences=False)])


def test_bidirectional_halves_that_differ_are_refused():
    with pytest.raises(recur.ConversionError, match="activation='tanh' and the backward layer activation='relu'"):
        from_keras([bidirectional_fake(backward_changes={"activation": "relu"})])
    with pytest.raises(recur.ConversionError, match="backward layer has go_backwards=False"):
        from_keras([bidirectional_fake(backward_changes={"go_backwards": False})])


def test_return_sequences_false_is_noted_and_the_last_step_is_keras_output():
    case = load_case(TESTDATA / "gru_sigmoid_last.json")
    xs, ys, _ = case_arrays(case)
    layers, _ = keras_fixture(case["model"], return_sequences=False)
    document = from_keras(layers)
    assert document["metadata"]["keras_return_sequences"] is False and "last step" in document["metadata"]["note"]
    with recur.Model.from_dict(document) as model, model.state(case["batch"]) as state:
        assert_close(state.run(xs)[:, -1], ys[:, -1], "last step")


def test_a_recurrent_layer_after_return_sequences_false_is_refused():
    case = load_case(TESTDATA / "lstm_stack_softmax.json")
    layers, _ = keras_fixture(case["model"], return_sequences=False)
    with pytest.raises(recur.ConversionError, match="return_sequences=False"):
        from_keras(layers)


def test_gru_reset_after_false_is_refused_with_the_reason():
    gru = fake("GRU", {"units": 2, "activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": False,
                       "return_sequences": True}, [np.zeros((3, 6)), np.zeros((2, 6)), np.zeros(6)])
    with pytest.raises(recur.ConversionError, match="reset_after=False.*reset gate"):
        from_keras([gru])


@pytest.mark.parametrize("layers, message", [
    ([fake("Activation", {"activation": "relu"})], "standalone relu activation at the start"),
    ([fake("LSTM", {"units": 1, "activation": "tanh", "return_sequences": True},
           [np.zeros((1, 4)), np.zeros((1, 4)), np.zeros(4)]),
      fake("Activation", {"activation": "tanh"})], "after a lstm layer"),
    ([fake("Dense", {"units": 1, "activation": "relu"}, [np.zeros((1, 1)), np.zeros(1)]),
      fake("Activation", {"activation": "tanh"})], "already has activation 'relu'"),
    ([fake("Dense", {"units": 1, "activation": "gelu"}, [np.zeros((1, 1)), np.zeros(1)])], "gelu"),
    ([fake("Conv1D", {})], "Conv1D is not supported"),
    ([fake("Bidirectional", {"merge_mode": "sum"})], "merge_mode='sum' is not supported"),
    ([fake("Bidirectional", {"merge_mode": "concat"})], "without forward_layer and backward_layer"),
    ([fake("LSTM", {"units": 1, "go_backwards": True}, [])], "go_backwards"),
    ([fake("LSTM", {"units": 1, "activation": "tanh", "recurrent_activation": "hard_sigmoid"}, [])], "hard_sigmoid"),
    ([fake("GRU", {"units": 1, "activation": "relu"}, [])], "activation 'relu'"),
    ([fake("SimpleRNN", {"units": 1, "activation": "sigmoid", "return_sequences": True},
           [np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1)])], "'sigmoid' is not supported for a simple RNN"),
])
def test_unsupported_keras_features_are_named(layers, message):
    with pytest.raises(recur.ConversionError, match=message):
        from_keras(layers)


def test_a_model_object_with_layers_and_time_distributed_dense():
    dense = fake("Dense", {"units": 2, "activation": "linear"}, [np.eye(2), np.zeros(2)])
    wrapper = type("TimeDistributed", (FakeLayer,), {})({}, [])
    wrapper.layer = dense
    model = type("Sequential", (), {"layers": [wrapper, fake("Dropout", {"rate": 0.5})]})()
    document = from_keras(model)
    assert [layer["type"] for layer in document["layers"]] == ["dense"]


# ---- real Keras -----------------------------------------------------------------------------


def import_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except Exception:  # not installed, or no usable backend
        return None
    return keras


keras = import_keras()
needs_keras = pytest.mark.skipif(keras is None, reason="keras (with a usable backend) is not installed")


def randomize(model, seed):
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in layer.get_weights()])


def compare_with_keras(model, xs, last_step_only=False):
    expected = np.asarray(model.predict(xs, verbose=0))
    document = from_keras(model)
    with recur.Model.from_dict(document) as converted, converted.state(xs.shape[0]) as state:
        outputs = state.run(xs)
    assert_close(outputs[:, -1] if last_step_only else outputs, expected, "recur vs keras")
    return document


@needs_keras
def test_keras_lstm_stack_with_last_step_dense_and_softmax_activation():
    model = keras.Sequential([keras.Input((9, 3)), keras.layers.LSTM(6, return_sequences=True),
                              keras.layers.LSTM(5), keras.layers.Dense(4), keras.layers.Activation("softmax")])
    randomize(model, 1)
    document = compare_with_keras(model, np.random.default_rng(2).standard_normal((2, 9, 3)).astype(np.float32),
                                  last_step_only=True)
    assert document["metadata"]["keras_return_sequences"] is False


@needs_keras
def test_keras_gru_reset_after_and_time_distributed_dense():
    model = keras.Sequential([keras.Input((7, 2)), keras.layers.GRU(5, return_sequences=True, reset_after=True),
                              keras.layers.TimeDistributed(keras.layers.Dense(2, activation="tanh"))])
    randomize(model, 3)
    compare_with_keras(model, np.random.default_rng(4).standard_normal((3, 7, 2)).astype(np.float32))


@needs_keras
def test_keras_simple_rnn_relu_and_lstm_without_bias():
    model = keras.Sequential([keras.Input((6, 2)), keras.layers.SimpleRNN(4, activation="relu", return_sequences=True),
                              keras.layers.LSTM(3, use_bias=False, return_sequences=True),
                              keras.layers.Dense(1, activation="sigmoid")])
    randomize(model, 5)
    compare_with_keras(model, np.random.default_rng(6).standard_normal((2, 6, 2)).astype(np.float32))


@needs_keras
def test_keras_gru_reset_after_false_is_refused():
    model = keras.Sequential([keras.Input((4, 2)), keras.layers.GRU(3, reset_after=False)])
    with pytest.raises(recur.ConversionError, match="reset_after=False"):
        from_keras(model)


def keras_bidirectional(inner, seed):
    """A Keras model: Bidirectional(inner) over 3 inputs, then a Dense head; random weights."""
    model = keras.Sequential([keras.Input((8, 3)), keras.layers.Bidirectional(inner, merge_mode="concat"),
                              keras.layers.Dense(2, activation="tanh")])
    randomize(model, seed)
    return model


@needs_keras
@pytest.mark.parametrize("inner", ["LSTM", "GRU", "SimpleRNN", "SimpleRNN_relu"])
def test_keras_bidirectional_with_a_dense_head_matches_keras(inner):
    kind, _, activation = inner.partition("_")
    options = {"activation": activation} if activation else {}
    model = keras_bidirectional(getattr(keras.layers, kind)(4, return_sequences=True, **options), 7)
    document = compare_with_keras(model, np.random.default_rng(8).standard_normal((3, 8, 3)).astype(np.float32))
    first = document["layers"][0]
    assert first["direction"] == "bidirectional" and first["hidden_size"] == 4
    assert document["layers"][1]["weights"]["weight"]["shape"] == [2, 8]


@needs_keras
def test_keras_stacked_bidirectional_layers_then_a_forward_lstm_and_a_dense_head_match_keras():
    model = keras.Sequential([
        keras.Input((9, 2)),
        keras.layers.Bidirectional(keras.layers.GRU(4, return_sequences=True)),
        keras.layers.Bidirectional(keras.layers.LSTM(3, use_bias=False, return_sequences=True)),
        keras.layers.LSTM(5),                                   # return_sequences=False: the last step only
        keras.layers.Dense(3), keras.layers.Activation("softmax")])
    randomize(model, 9)
    document = compare_with_keras(model, np.random.default_rng(10).standard_normal((2, 9, 2)).astype(np.float32),
                                  last_step_only=True)
    assert [layer.get("direction", "forward") for layer in document["layers"]] == \
        ["bidirectional", "bidirectional", "forward", "forward"]


@needs_keras
@pytest.mark.parametrize("merge_mode", ["sum", "mul", "ave", None])
def test_keras_bidirectional_merge_modes_other_than_concat_are_refused(merge_mode):
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Bidirectional(
        keras.layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)])
    with pytest.raises(recur.ConversionError, match="merge_mode"):
        from_keras(model)


@needs_keras
def test_keras_bidirectional_without_return_sequences_is_refused():
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Bidirectional(keras.layers.GRU(3)),
                              keras.layers.Dense(1)])
    with pytest.raises(recur.ConversionError, match="return_sequences=False"):
        from_keras(model)
