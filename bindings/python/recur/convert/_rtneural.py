"""RTNeural JSON -> Recur.

The format, as read from RTNeural's sources (github.com/jatinchowdhury18/RTNeural):
  - python/model_utils.py (save_model_json, the Keras exporter) writes
    {"in_shape": model.input_shape, "layers": [{"type", "activation", "shape":
    layer.output_shape, "weights": layer.get_weights()}]}: Keras layouts.
  - RTNeural/model_loader.h (json_parser::parseJson) reads it: the input size
    is in_shape's last entry, a layer's size is its "shape"'s last entry;
    "dense"/"time-distributed-dense": weights [kernel [in][out], bias [out]],
    then its "activation" ("" = none) as a separate layer; "gru": weights
    [kernel [in][3n], recurrent [n][3n], bias [2][3n]], gates z, r, h,
    bias row 0 input side, row 1 recurrent side (gru.h computes
    h~ = tanh(W_h x + b0 + r * (U_h h + b1)): Keras' reset_after=True);
    "lstm": [kernel [in][4n], recurrent [n][4n], bias [4n]], gates i, f, c, o;
    "activation": a standalone activation layer ("tanh", "relu", "sigmoid",
    "softmax", "elu"). For gru and lstm the "activation" key is ignored.
"""

from ..errors import ConversionError
from ._document import array, dense_layer, model_document, recurrent_layer, set_activation
from ._keras import keras_gru_to_torch

_UNSUPPORTED = ("conv1d", "conv2d", "prelu", "batchnorm", "batchnorm2d")


def from_rtneural(document):
    """A Recur model document from an RTNeural model (the parsed JSON, a dict).

    Supported layer types: "dense" and "time-distributed-dense" (activation
    "", "tanh", "relu", "sigmoid" or "softmax"), "gru" (bias (2, 3n), i.e.
    Keras reset_after=True; a (3n,) bias from reset_after=False is refused),
    "lstm", and "activation" directly after a dense layer without one.
    conv1d, conv2d, prelu, batchnorm and "elu" are refused.
    """
    if not isinstance(document, dict) or "layers" not in document or "in_shape" not in document:
        raise ConversionError('not an RTNeural model: expected {"in_shape": [...], "layers": [...]}')
    in_shape = document["in_shape"]
    if not isinstance(in_shape, list) or len(in_shape) == 4 or not in_shape or not isinstance(in_shape[-1], int):
        raise ConversionError(f"in_shape {in_shape!r}: only (batch, steps, features) inputs are supported")
    input_size = in_shape[-1]
    layers, sources = [], []
    for position, layer in enumerate(document["layers"]):
        kind = layer.get("type")
        where = f"layers[{position}] ({kind})"
        activation = layer.get("activation", "") or ""
        size = _size(layer, where)
        if kind in ("dense", "time-distributed-dense"):
            kernel, bias = _weights(layer, 2, where)
            _check_shape(kernel, (_next_input(layers, input_size), size), "kernel", where)
            layers.append(dense_layer(kernel.T, bias, "linear", where))
            sources.append(where)
            if activation:
                set_activation(layers, activation, where)
        elif kind in ("gru", "lstm"):
            kernel, recurrent, bias = _weights(layer, 3, where)
            gates = 3 if kind == "gru" else 4
            _check_shape(kernel, (_next_input(layers, input_size), gates * size), "kernel", where)
            _check_shape(recurrent, (size, gates * size), "recurrent kernel", where)
            if kind == "gru":
                if bias.ndim == 1:
                    raise ConversionError(
                        f"{where}: the bias has shape {list(bias.shape)}, from a Keras GRU with "
                        "reset_after=False, which neither RTNeural nor Recur computes correctly; "
                        "re-export the model with reset_after=True")
                _check_shape(bias, (2, 3 * size), "bias", where)
                layers.append(recurrent_layer("gru", keras_gru_to_torch(kernel).T, keras_gru_to_torch(recurrent).T,
                                              keras_gru_to_torch(bias[0]), keras_gru_to_torch(bias[1]), where=where))
            else:
                _check_shape(bias, (4 * size,), "bias", where)
                layers.append(recurrent_layer("lstm", kernel.T, recurrent.T, bias, None, where=where))
            sources.append(where)
        elif kind == "activation":
            set_activation(layers, activation, where)
        elif kind in _UNSUPPORTED:
            raise ConversionError(f"{where}: RTNeural {kind} layers are not supported by Recur")
        else:
            raise ConversionError(f"{where}: unknown RTNeural layer type {kind!r}")
    return model_document(layers, {"converted_from": "rtneural"}, sources)


def _size(layer, where):
    shape = layer.get("shape")
    if not isinstance(shape, list) or not shape or not isinstance(shape[-1], int):
        raise ConversionError(f"{where}: \"shape\" must be a list ending in the layer's size, got {shape!r}")
    return shape[-1]


def _weights(layer, count, where):
    weights = layer.get("weights")
    if not isinstance(weights, list) or len(weights) != count:
        raise ConversionError(f"{where}: expected \"weights\" to be a list of {count} arrays")
    return [array(w, f"{where} weights[{i}]") for i, w in enumerate(weights)]


def _check_shape(value, expected, what, where):
    if value.shape != tuple(expected):
        raise ConversionError(f"{where}: {what} has shape {list(value.shape)}, expected {list(expected)}")


def _next_input(layers, input_size):
    if not layers:
        return input_size
    last = layers[-1]
    return last["units"] if last["type"] == "dense" else last["hidden_size"]
