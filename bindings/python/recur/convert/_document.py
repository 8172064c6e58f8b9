"""Building Recur model documents (dicts in model format v1) from numpy arrays."""

import numpy as np

from ..errors import ConversionError

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
RNN_ACTIVATIONS = ("tanh", "relu")
DENSE_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")


def array(value, what):
    """value (numpy array, torch tensor, nested lists) as a float64 ndarray."""
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        value = value.detach().cpu().double().numpy()
    try:
        result = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ConversionError(f"{what}: not an array of numbers ({error})") from None
    if not np.all(np.isfinite(result)):
        raise ConversionError(f"{what}: holds NaN or infinity")
    return result


def tensor(value):
    """Form 2 of the model format: {"shape": [...], "data": [...]}, float32 values."""
    value = np.asarray(value, dtype=np.float32)
    return {"shape": list(value.shape), "data": value.ravel().tolist()}


def recurrent_layer(kind, weight_ih, weight_hh, bias_ih=None, bias_hh=None, activation=None, where="",
                    reverse=None):
    """An rnn/lstm/gru layer in Recur's (PyTorch's) layout; checks the shapes.

    reverse, for a bidirectional layer, is the backward cell's
    (weight_ih, weight_hh, bias_ih, bias_hh): the same shapes as the forward
    cell's, and biases where the forward cell has them. The layer then says
    "direction": "bidirectional" and outputs 2 * hidden_size values a step.
    """
    gates = GATES[kind]
    hidden = weight_hh.shape[1] if weight_hh.ndim == 2 else 0
    if weight_hh.shape != (gates * hidden, hidden) or hidden == 0:
        raise ConversionError(f"{where}: weight_hh has shape {list(weight_hh.shape)}; a {kind} layer "
                              f"needs [{gates} * hidden_size, hidden_size]")
    if weight_ih.ndim != 2 or weight_ih.shape[0] != gates * hidden:
        raise ConversionError(f"{where}: weight_ih has shape {list(weight_ih.shape)}, expected "
                              f"[{gates * hidden}, input_size]")
    weights = {"weight_ih": tensor(weight_ih), "weight_hh": tensor(weight_hh)}
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None:
            if bias.shape != (gates * hidden,):
                raise ConversionError(f"{where}: {name} has shape {list(bias.shape)}, expected [{gates * hidden}]")
            weights[name] = tensor(bias)
    if reverse is not None:
        forward = {"weight_ih": weight_ih, "weight_hh": weight_hh, "bias_ih": bias_ih, "bias_hh": bias_hh}
        for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), reverse):
            if (value is None) != (forward[name] is None):
                has, lacks = (name, f"{name}_reverse") if value is None else (f"{name}_reverse", name)
                raise ConversionError(f"{where}: has {has} but no {lacks}; both directions of a bidirectional "
                                      "layer have biases or neither does")
            if value is None:
                continue
            if value.shape != forward[name].shape:
                raise ConversionError(f"{where}: {name}_reverse has shape {list(value.shape)}, expected "
                                      f"{list(forward[name].shape)} (the same as {name})")
            weights[f"{name}_reverse"] = tensor(value)
    layer = {"type": kind, "hidden_size": hidden}
    if reverse is not None:
        layer["direction"] = "bidirectional"
    if kind == "rnn":
        if activation not in RNN_ACTIVATIONS:
            raise ConversionError(f"{where}: activation {activation!r} is not supported for a simple RNN "
                                  f"(Recur has {', '.join(RNN_ACTIVATIONS)})")
        layer["activation"] = activation
    layer["weights"] = weights
    return layer


def dense_layer(weight, bias=None, activation="linear", where=""):
    """A dense layer: weight [units, inputs] (PyTorch's layout), bias [units]."""
    if weight.ndim != 2:
        raise ConversionError(f"{where}: weight has shape {list(weight.shape)}, expected [units, inputs]")
    if activation not in DENSE_ACTIVATIONS:
        raise ConversionError(f"{where}: activation {activation!r} is not supported "
                              f"(Recur's dense layers have {', '.join(DENSE_ACTIVATIONS)})")
    weights = {"weight": tensor(weight)}
    if bias is not None:
        if bias.shape != (weight.shape[0],):
            raise ConversionError(f"{where}: bias has shape {list(bias.shape)}, expected [{weight.shape[0]}]")
        weights["bias"] = tensor(bias)
    return {"type": "dense", "units": weight.shape[0], "activation": activation, "weights": weights}


def set_activation(layers, activation, where):
    """Folds an activation that follows a dense layer into it, or refuses it."""
    previous = layers[-1] if layers else None
    if previous is None or previous["type"] != "dense" or previous["activation"] != "linear":
        after = "at the start" if previous is None else (
            f"after a {previous['type']} layer" if previous["type"] != "dense"
            else f"after a dense layer that already has activation {previous['activation']!r}")
        raise ConversionError(f"{where}: a standalone {activation} activation {after} is not supported; "
                              "Recur applies activations only as part of a dense layer (directly after it)")
    if activation not in DENSE_ACTIVATIONS:
        raise ConversionError(f"{where}: activation {activation!r} is not supported "
                              f"(Recur's dense layers have {', '.join(DENSE_ACTIVATIONS)})")
    previous["activation"] = activation


def input_size_of(layer):
    key = "weight" if layer["type"] == "dense" else "weight_ih"
    return layer["weights"][key]["shape"][1]


def output_size_of(layer):
    if layer["type"] == "dense":
        return layer["units"]
    return layer["hidden_size"] * (2 if layer.get("direction") == "bidirectional" else 1)


def model_document(layers, metadata, sources):
    """The document; checks that each layer's input size is the previous one's output size.

    sources[i] names where layers[i] came from, for error messages.
    """
    if not layers:
        raise ConversionError("nothing to convert: no layers")
    for index in range(1, len(layers)):
        expected, got = output_size_of(layers[index - 1]), input_size_of(layers[index])
        if expected != got:
            raise ConversionError(f"{sources[index]}: takes {got} inputs, but {sources[index - 1]} "
                                  f"gives {expected} outputs")
    return {"format": "recur", "version": 1, "input_size": input_size_of(layers[0]),
            "layers": layers, "metadata": metadata}
