#!/usr/bin/env python3
"""Writes examples/models/tiny_lstm.json and prints the outputs it must give.

The model: an LSTM layer (2 inputs, hidden size 4) followed by a dense layer
with 1 linear output, with fixed pseudo-random weights rounded to two
decimals so that the file stays readable. Weights are written in form 2
({"shape": ..., "data": ...}) of docs/model-format.md.

The expected outputs are computed here independently of Recur, with numpy in
float64 from the float32 weights and inputs, with the formulas of the model
format (PyTorch's LSTM, gate order i, f, g, o). examples/c/demo.c feeds the
same INPUTS step by step; Tests/c/test_examples.sh checks that the demo's
outputs agree with these to 1e-5.

    python3 examples/models/make_tiny_lstm.py             # write the model, print a table
    python3 examples/models/make_tiny_lstm.py --expected  # only print the outputs, one per line
"""
import json
import os
import sys

import numpy as np

INPUT_SIZE = 2
HIDDEN = 4
SEED = 8

# The input sequence the demo feeds, one row per step (exact in float32).
INPUTS = [
    [1.0, 0.0],
    [0.5, -0.5],
    [0.0, 1.0],
    [-1.0, 0.25],
    [0.25, 0.75],
    [0.0, 0.0],
]

MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_lstm.json")


def make_weights():
    """Fixed weights, rounded to 2 decimals: {name: (shape, list of floats)}."""
    rng = np.random.default_rng(SEED)

    def tensor(*shape):
        values = np.round(rng.uniform(-0.8, 0.8, size=shape), 2)
        return list(shape), [float(v) for v in values.reshape(-1)]

    return {
        "lstm": {
            "weight_ih": tensor(4 * HIDDEN, INPUT_SIZE),
            "weight_hh": tensor(4 * HIDDEN, HIDDEN),
            "bias_ih": tensor(4 * HIDDEN),
            "bias_hh": tensor(4 * HIDDEN),
        },
        "dense": {
            "weight": tensor(1, HIDDEN),
            "bias": tensor(1),
        },
    }


def as_array(shape_and_data):
    """The float32 value of each weight, as float64, in its shape."""
    shape, data = shape_and_data
    return np.array(data, dtype=np.float32).astype(np.float64).reshape(shape)


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def expected_outputs(weights):
    lstm = {k: as_array(v) for k, v in weights["lstm"].items()}
    dense = {k: as_array(v) for k, v in weights["dense"].items()}
    h = np.zeros(HIDDEN)
    c = np.zeros(HIDDEN)
    outputs = []
    for x in INPUTS:
        x = np.array(x, dtype=np.float32).astype(np.float64)
        gates = lstm["weight_ih"] @ x + lstm["bias_ih"] + lstm["weight_hh"] @ h + lstm["bias_hh"]
        i, f, g, o = np.split(gates, 4)  # PyTorch order: input, forget, cell, output
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        y = dense["weight"] @ h + dense["bias"]  # linear head
        outputs.append(float(y[0]))
    return outputs


def tensor_json(shape_and_data, indent):
    shape, data = shape_and_data
    numbers = ", ".join(repr(v) for v in data)
    return '{"shape": %s, "data": [%s]}' % (json.dumps(shape), numbers)


def model_json(weights):
    def weights_json(named, indent):
        pad = " " * indent
        rows = ['%s"%s": %s' % (pad, name, tensor_json(t, indent)) for name, t in named.items()]
        return "{\n" + ",\n".join(rows) + "\n" + " " * (indent - 2) + "}"

    text = (
        "{\n"
        '  "format": "recur",\n'
        '  "version": 1,\n'
        '  "input_size": %d,\n'
        '  "layers": [\n'
        "    {\n"
        '      "type": "lstm",\n'
        '      "hidden_size": %d,\n'
        '      "weights": %s\n'
        "    },\n"
        "    {\n"
        '      "type": "dense",\n'
        '      "units": 1,\n'
        '      "activation": "linear",\n'
        '      "weights": %s\n'
        "    }\n"
        "  ],\n"
        '  "metadata": {\n'
        '    "description": "A tiny LSTM (2 inputs, hidden size 4) with a dense head (1 output); fixed random weights",\n'
        '    "generated_by": "examples/models/make_tiny_lstm.py"\n'
        "  }\n"
        "}\n"
    ) % (INPUT_SIZE, HIDDEN, weights_json(weights["lstm"], 8), weights_json(weights["dense"], 8))
    json.loads(text)  # it must be valid JSON
    return text


def main():
    weights = make_weights()
    outputs = expected_outputs(weights)
    if "--expected" in sys.argv[1:]:
        for y in outputs:
            print("%.9f" % y)
        return
    with open(MODEL_PATH, "w") as f:
        f.write(model_json(weights))
    print("wrote %s" % MODEL_PATH)
    print("expected outputs (numpy, float64):")
    print("  step     x[0]     x[1]            y")
    for t, (x, y) in enumerate(zip(INPUTS, outputs), start=1):
        print("  %4d %8.3f %8.3f %12.7f" % (t, x[0], x[1], y))


if __name__ == "__main__":
    main()
