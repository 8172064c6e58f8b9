"""A plain numpy (float64) forward pass of Recur model documents, for tests.

Written from the formulas in docs/model-format.md, independently of the
library and of the converters.
"""

import base64

import numpy as np


def tensor(value):
    """Any of the format's three tensor forms as a float64 array."""
    if isinstance(value, dict):
        if "data" in value:
            return np.asarray(value["data"], np.float64).reshape(value["shape"])
        raw = np.frombuffer(base64.b64decode(value["base64"]), dtype="<f4")
        return raw.astype(np.float64).reshape(value["shape"])
    return np.asarray(value, np.float64)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def softmax(v):
    e = np.exp(v - v.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACTIVATIONS = {"linear": lambda v: v, "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
               "sigmoid": sigmoid, "softmax": softmax}


def run(document, xs):
    """Outputs (B, T, O) of the model for inputs (B, T, I), from zero state."""
    h = np.asarray(xs, np.float64)
    for layer in document["layers"]:
        w = {name: tensor(value) for name, value in layer["weights"].items()}
        if layer["type"] == "dense":
            h = ACTIVATIONS[layer.get("activation", "linear")](h @ w["weight"].T + w.get("bias", 0.0))
        else:
            h = _recurrent(layer, w, h)
    return h


def _recurrent(layer, w, xs):
    batch, steps, _ = xs.shape
    size = layer["hidden_size"]
    b_ih, b_hh = w.get("bias_ih", 0.0), w.get("bias_hh", 0.0)
    h, c = np.zeros((batch, size)), np.zeros((batch, size))
    outputs = []
    for t in range(steps):
        gi = xs[:, t] @ w["weight_ih"].T + b_ih
        gh = h @ w["weight_hh"].T + b_hh
        if layer["type"] == "rnn":
            h = ACTIVATIONS[layer.get("activation", "tanh")](gi + gh)
        elif layer["type"] == "lstm":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
            h = sigmoid(o) * np.tanh(c)
        else:  # gru
            ir, iz, in_ = np.split(gi, 3, axis=1)
            hr, hz, hn = np.split(gh, 3, axis=1)
            r, z = sigmoid(ir + hr), sigmoid(iz + hz)
            n = np.tanh(in_ + r * hn)
            h = (1 - z) * n + z * h
        outputs.append(h)
    return np.stack(outputs, axis=1)


def keras_run(layers, xs):
    """The same, for Keras-layout weights: [(kind, weights, activation)], kind in
    "rnn", "lstm", "gru" (reset_after=True), "dense". Kernels are [in, out],
    gates Keras-ordered (LSTM i, f, c, o; GRU z, r, h). Used to check that
    test fixtures built in Keras layout are right, independently of recur.convert."""
    h = np.asarray(xs, np.float64)
    for kind, weights, activation in layers:
        if kind == "dense":
            kernel, bias = weights
            h = ACTIVATIONS[activation](h @ kernel + bias)
            continue
        kernel, recurrent, bias = weights
        batch, steps, _ = h.shape
        units = recurrent.shape[0]
        state, cell, outputs = np.zeros((batch, units)), np.zeros((batch, units)), []
        for t in range(steps):
            x = h[:, t]
            if kind == "rnn":
                state = ACTIVATIONS[activation](x @ kernel + state @ recurrent + bias)
            elif kind == "lstm":
                i, f, c, o = np.split(x @ kernel + state @ recurrent + bias, 4, axis=1)
                cell = sigmoid(f) * cell + sigmoid(i) * np.tanh(c)
                state = sigmoid(o) * np.tanh(cell)
            else:
                xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=1)
                hz, hr, hh = np.split(state @ recurrent + bias[1], 3, axis=1)
                z, r = sigmoid(xz + hz), sigmoid(xr + hr)
                state = z * state + (1 - z) * np.tanh(xh + r * hh)
            outputs.append(state)
        h = np.stack(outputs, axis=1)
    return h
