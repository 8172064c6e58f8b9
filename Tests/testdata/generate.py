#!/usr/bin/env python3
"""Recur's reference test cases: the generator, and a checker for any folder of cases.

    python3 Tests/testdata/generate.py              # (re)writes every case beside this script (and sequences/)
    python3 Tests/testdata/generate.py --out DIR    # writes them into DIR instead
    python3 Tests/testdata/generate.py --check DIR  # recomputes every case in DIR and reports differences

Every case is computed with PyTorch in float64 from float32 weights, inputs and
targets drawn from fixed seeds, so rerunning the script reproduces the files
byte for byte. The cell formulas, the losses, clipping and the optimizers are
written out here (autograd gives the gradients); the explicit cells are checked
against torch.nn.RNN / LSTM / GRU in float64 on every forward pass from zero
state, which pins the gate orders (PyTorch's: i, f, g, o and r, z, n).
Bidirectional layers and per-stream lengths (`lengths`) are handled by
sequences.py beside this file, whose SPECS are written into sequences/.

`--check DIR` reads every top-level `*.json` case in DIR (this format: see
README.md), recomputes output, final_state and every `train` field from the
case's own model, input, config and targets, and prints the largest absolute
and relative difference per field. If DIR has an `invalid/` folder, its
documents and manifest are compared byte for byte with the ones this script
writes, and a `sequences/` folder is checked after DIR's own cases. Exit status 1
when a difference exceeds --tolerance (elementwise
|mine - theirs| <= tol * (1 + |theirs|)), or a case cannot be recomputed.

Needs numpy and torch (CPU is enough); the tests that read the cases need
neither.
"""

import argparse
import base64
import copy
import json
import math
import pathlib
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
# sequences.py (bidirectional layers, per-stream lengths) uses this module's helpers as
# `generate`; when this file runs as a script, that must be this very module.
sys.modules.setdefault("generate", sys.modules[__name__])

HERE = pathlib.Path(__file__).resolve().parent
RECURRENT = ("rnn", "lstm", "gru")
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
DENSE_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid", "softmax")
RNN_ACTIVATIONS = ("tanh", "relu")


class CaseError(Exception):
    """A case this script cannot recompute (an unknown key, a missing field)."""


# --------------------------------------------------------------------------
# Reading model documents (all three tensor forms)
# --------------------------------------------------------------------------

def tensor_values(value, where):
    """A tensor in any of the three forms as a flat float32 numpy array and its shape."""
    if isinstance(value, dict):
        shape = list(value["shape"])
        if "data" in value:
            data = np.asarray(value["data"], np.float64).astype(np.float32)
        elif "base64" in value:
            data = np.frombuffer(base64.b64decode(value["base64"], validate=True), dtype="<f4").astype(np.float32)
        else:
            raise CaseError(f"{where}: tensor has neither data nor base64")
        if data.size != int(np.prod(shape)):
            raise CaseError(f"{where}: {data.size} values for shape {shape}")
        return data, shape
    array = np.asarray(value, np.float64)
    return array.astype(np.float32).reshape(-1), list(array.shape)


def read_model(document):
    """(layers, params): layer descriptions and, per layer, {name: float64 tensor} in document order."""
    layers, params = [], []
    size = document["input_size"]
    for index, layer in enumerate(document["layers"]):
        kind = layer["type"]
        if kind not in RECURRENT + ("dense",):
            raise CaseError(f"layers[{index}]: unknown type {kind!r}")
        direction = layer.get("direction", "forward")
        if direction not in ("forward", "bidirectional") or (kind == "dense" and "direction" in layer):
            raise CaseError(f"layers[{index}]: direction {direction!r}")
        if "weights" not in layer:
            raise CaseError(f"layers[{index}]: no weights (init is not reproduced by this script)")
        tensors = {}
        for name, value in layer["weights"].items():
            data, shape = tensor_values(value, f"layers[{index}].weights.{name}")
            tensors[name] = torch.tensor(data.astype(np.float64)).reshape(shape)
        if kind == "dense":
            activation = layer.get("activation", "linear")
            if activation not in DENSE_ACTIVATIONS:
                raise CaseError(f"layers[{index}]: activation {activation!r}")
            width = layer["units"]
        else:
            activation = layer.get("activation", "tanh") if kind == "rnn" else None
            if kind == "rnn" and activation not in RNN_ACTIVATIONS:
                raise CaseError(f"layers[{index}]: activation {activation!r}")
            width = layer["hidden_size"]
        bidirectional = direction == "bidirectional"
        if kind != "dense" and bidirectional != any(name.endswith("_reverse") for name in tensors):
            raise CaseError(f"layers[{index}]: _reverse tensors do not match direction {direction!r}")
        # "size" is the hidden size of each direction; a bidirectional layer outputs 2 * size values.
        layers.append({"type": kind, "activation": activation, "size": width, "input_size": size,
                       "bidirectional": bidirectional})
        params.append(tensors)
        size = 2 * width if bidirectional else width
    return layers, params


# --------------------------------------------------------------------------
# The model in float64: explicit cells, checked against torch.nn
# --------------------------------------------------------------------------

def affine(x, weight, bias):
    y = x @ weight.T
    return y if bias is None else y + bias


def apply_activation(name, z):
    if name == "linear":
        return z
    if name == "relu":
        return torch.relu(z)
    if name == "tanh":
        return torch.tanh(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "softmax":
        return torch.softmax(z, dim=-1)
    raise CaseError(f"activation {name!r}")


def zero_state(layer, batch):
    if layer["type"] == "dense":
        return ()
    h = torch.zeros(batch, layer["size"])
    return (h, torch.zeros(batch, layer["size"])) if layer["type"] == "lstm" else (h,)


class Margins:
    """The smallest |pre-activation| seen at a relu: a case whose relus sit on their kink
    would make float32 and float64 disagree on the derivative, so generation refuses it."""

    def __init__(self):
        self.relu = math.inf

    def see(self, z):
        self.relu = min(self.relu, float(z.detach().abs().min()))


def run_model(layers, params, x, initial=None, margins=None):
    """x [B][T][I] float64. Returns (y [B][T][O], z: the last layer's pre-activation values
    when it is dense else None, final states: per layer a tuple (h,) or (h, c) or ())."""
    batch, steps = x.shape[0], x.shape[1]
    seq, z, finals = x, None, []
    for index, (layer, p) in enumerate(zip(layers, params)):
        kind = layer["type"]
        if kind == "dense":
            z = affine(seq, p["weight"], p.get("bias"))
            if layer["activation"] == "relu" and margins:
                margins.see(z)
            seq = apply_activation(layer["activation"], z)
            finals.append(())
            continue
        z = None
        state = initial[index] if initial is not None else zero_state(layer, batch)
        w_ih, w_hh, b_ih, b_hh = p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh")
        H = layer["size"]
        outputs = []
        h = state[0]
        c = state[1] if kind == "lstm" else None
        for t in range(steps):
            gi = affine(seq[:, t], w_ih, b_ih)
            gh = affine(h, w_hh, b_hh)
            if kind == "rnn":
                pre = gi + gh
                if layer["activation"] == "relu" and margins:
                    margins.see(pre)
                h = apply_activation(layer["activation"], pre)
            elif kind == "lstm":
                g = gi + gh
                i, f, cand, o = (g[:, k * H:(k + 1) * H] for k in range(4))
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(cand)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:  # gru
                r = torch.sigmoid(gi[:, :H] + gh[:, :H])
                u = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
                n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
                h = (1 - u) * n + u * h
            outputs.append(h)
        seq = torch.stack(outputs, dim=1)
        finals.append((h, c) if kind == "lstm" else (h,))
    return seq, z, finals


def torch_nn_forward(layers, params, x):
    """The same model through torch.nn modules (float64, zero state): the gate-order check."""
    seq, finals = x, []
    for layer, p in zip(layers, params):
        kind = layer["type"]
        if kind == "dense":
            seq = apply_activation(layer["activation"], F.linear(seq, p["weight"], p.get("bias")))
            continue
        H = layer["size"]
        if kind == "rnn":
            module = torch.nn.RNN(layer["input_size"], H, nonlinearity=layer["activation"], batch_first=True)
        else:
            module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](layer["input_size"], H, batch_first=True)
        module = module.double()
        with torch.no_grad():
            module.weight_ih_l0.copy_(p["weight_ih"])
            module.weight_hh_l0.copy_(p["weight_hh"])
            for name in ("bias_ih", "bias_hh"):
                getattr(module, name + "_l0").copy_(p[name] if name in p else torch.zeros(GATES[kind] * H))
            seq, state = module(seq)
        finals.extend([state[0][0], state[1][0]] if kind == "lstm" else [state[0]])
    return seq, torch.cat(finals, dim=1) if finals else torch.zeros(x.shape[0], 0)


def flat_state(finals, batch):
    parts = [t for layer_state in finals for t in layer_state]
    return torch.cat(parts, dim=1) if parts else torch.zeros(batch, 0)


# --------------------------------------------------------------------------
# Training: losses, clipping, optimizers (PyTorch's rules, written out)
# --------------------------------------------------------------------------

CONFIG_KEYS = {"loss", "targets", "optimizer", "clip_gradient_norm", "freeze", "stateful"}
OPTIMIZER_KEYS = {"sgd": {"type", "learning_rate", "momentum", "weight_decay"},
                  "adam": {"type", "learning_rate", "beta1", "beta2", "epsilon", "weight_decay"},
                  "adamw": {"type", "learning_rate", "beta1", "beta2", "epsilon", "weight_decay"}}


def compute_loss(layers, y, z, config, target, labels):
    loss = config.get("loss", "mse")
    last = config.get("targets", "sequence") == "last"
    if last:
        y = y[:, -1]
        z = None if z is None else z[:, -1]
    if loss == "mse":
        return ((y - target.reshape(y.shape)) ** 2).mean()
    head = layers[-1]
    if loss == "cross_entropy":
        if head["type"] != "dense" or head["activation"] not in ("linear", "softmax"):
            raise CaseError("cross_entropy needs a dense linear or softmax last layer")
        logp = torch.log_softmax(z, dim=-1)
        if labels is not None:
            return -logp.gather(-1, labels.reshape(z.shape[:-1]).unsqueeze(-1)).mean()
        return -(target.reshape(z.shape) * logp).sum(dim=-1).mean()
    if loss == "binary_cross_entropy":
        if head["type"] != "dense" or head["activation"] not in ("linear", "sigmoid"):
            raise CaseError("binary_cross_entropy needs a dense linear or sigmoid last layer")
        return F.binary_cross_entropy_with_logits(z, target.reshape(z.shape), reduction="mean")
    raise CaseError(f"loss {loss!r}")


class Optimizer:
    """torch.optim.SGD (dampening 0, no Nesterov), Adam and AdamW, step by step."""

    def __init__(self, spec):
        spec = dict(spec or {})
        self.kind = spec.get("type", "adam")
        if self.kind not in OPTIMIZER_KEYS or set(spec) - OPTIMIZER_KEYS[self.kind]:
            raise CaseError(f"optimizer {spec!r}")
        self.lr = spec.get("learning_rate", 0.001)
        self.momentum = spec.get("momentum", 0.0)
        self.beta1 = spec.get("beta1", 0.9)
        self.beta2 = spec.get("beta2", 0.999)
        self.epsilon = spec.get("epsilon", 1e-8)
        self.weight_decay = spec.get("weight_decay", 0.01 if self.kind == "adamw" else 0.0)
        self.slots = {}
        self.t = 0

    def step(self, params, grads):
        """params, grads: {key: tensor}; updates params in place."""
        self.t += 1
        for key, p in params.items():
            g = grads[key].clone()
            if self.kind == "sgd":
                if self.weight_decay:
                    g = g + self.weight_decay * p
                if self.momentum:
                    buf = self.slots.get(key)
                    buf = g if buf is None else self.momentum * buf + g
                    self.slots[key] = buf
                    g = buf
                p -= self.lr * g
                continue
            if self.kind == "adamw":
                p *= 1 - self.lr * self.weight_decay
            elif self.weight_decay:
                g = g + self.weight_decay * p
            m, v = self.slots.get(key, (torch.zeros_like(p), torch.zeros_like(p)))
            m = self.beta1 * m + (1 - self.beta1) * g
            v = self.beta2 * v + (1 - self.beta2) * g * g
            self.slots[key] = (m, v)
            correction1 = 1 - self.beta1 ** self.t
            correction2 = 1 - self.beta2 ** self.t
            denominator = v.sqrt() / math.sqrt(correction2) + self.epsilon
            p -= (self.lr / correction1) * m / denominator


def train(layers, params, x, config, target, labels, steps, margins=None, lengths=None):
    """Runs `steps` trainer steps on copies of params. Returns losses, gradient norms,
    first gradients (per layer {name: flat list}), updated params and the clip ratios seen.
    With `lengths` (per-stream lengths, or every stream full for a bidirectional model) the
    forward pass and the loss are sequences.py's."""
    if set(config) - CONFIG_KEYS:
        raise CaseError(f"unknown config keys {sorted(set(config) - CONFIG_KEYS)}")
    if lengths is not None and config.get("stateful") and any(layer["bidirectional"] for layer in layers):
        raise CaseError("stateful training with a bidirectional layer is refused by contract")
    params = [{name: t.clone() for name, t in p.items()} for p in params]
    frozen = set(config.get("freeze", []))
    keys = [(index, name) for index, p in enumerate(params) if index not in frozen for name in p]
    optimizer = Optimizer(config.get("optimizer"))
    clip = config.get("clip_gradient_norm")
    stateful = bool(config.get("stateful", False))
    state = None
    losses, norms, first, clip_ratios = [], [], None, []
    for _ in range(steps):
        leaves = {key: params[key[0]][key[1]].clone().requires_grad_(True) for key in keys}
        current = [{name: leaves.get((index, name), t) for name, t in p.items()} for index, p in enumerate(params)]
        if lengths is None:
            y, z, finals = run_model(layers, current, x, initial=state, margins=margins)
            loss = compute_loss(layers, y, z, config, target, labels)
        else:
            y, per_stream, finals = sequences.run_streams(layers, current, x, lengths, initial=state,
                                                          margins=margins)
            loss = sequences.loss_over_lengths(layers, per_stream, lengths, config, target, labels)
        grads = torch.autograd.grad(loss, [leaves[key] for key in keys], allow_unused=True)
        grads = {key: (torch.zeros_like(leaves[key]) if g is None else g) for key, g in zip(keys, grads)}
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        losses.append(float(loss.detach()))
        norms.append(norm)
        if first is None:
            first = [{name: grads[(index, name)].reshape(-1).tolist() for name in p} if index not in frozen else {}
                     for index, p in enumerate(params)]
        if clip is not None:
            clip_ratios.append(norm / clip)
            coefficient = clip / (norm + 1e-6)  # torch.nn.utils.clip_grad_norm_
            if coefficient < 1:
                grads = {key: g * coefficient for key, g in grads.items()}
        with torch.no_grad():
            optimizer.step({key: params[key[0]][key[1]] for key in keys}, grads)
        if stateful:
            state = [tuple(s.detach() for s in layer_state) for layer_state in finals]
    return losses, norms, first, params, clip_ratios


# --------------------------------------------------------------------------
# One case: everything computed from its model, input, config and targets
# --------------------------------------------------------------------------

def forward_full(layers, params, x, batch, margins, name):
    """output and final_state of every stream over every step, cross-checked with torch.nn."""
    with torch.no_grad():
        y, _, finals = run_model(layers, params, x, margins=margins)
        state = flat_state(finals, batch)
        y_nn, state_nn = torch_nn_forward(layers, params, x)
    gap = max(float((y - y_nn).abs().max()), float((state - state_nn).abs().max()) if state.numel() else 0.0)
    if gap > 1e-12:
        raise AssertionError(f"{name}: explicit cells and torch.nn disagree by {gap:.3g}")
    return {"output": y.reshape(-1).tolist(), "final_state": state.reshape(-1).tolist()}


def compute(case, margins=None):
    """The computed fields of a case (output, final_state unless a layer is bidirectional, and
    train fields) from its inputs."""
    document = case["model"]
    layers, params = read_model(document)
    batch, steps = case["batch"], case["steps"]
    x32 = np.asarray(case["input"], np.float64).astype(np.float32)
    x = torch.tensor(x32.astype(np.float64)).reshape(batch, steps, document["input_size"])
    lengths = case.get("lengths")
    if lengths is not None or any(layer["bidirectional"] for layer in layers):
        # Per-stream lengths or a bidirectional layer: sequences.py runs the model.
        lengths = sequences.valid_lengths(lengths, batch, steps)
        result = sequences.forward(layers, params, x, lengths, margins, case.get("name"))
    else:
        result = forward_full(layers, params, x, batch, margins, case.get("name"))
    if "train" in case:
        t = case["train"]
        config = t["config"]
        target = labels = None
        if "labels" in t:
            labels = torch.tensor(np.asarray(t["labels"], np.int64))
        else:
            target = torch.tensor(np.asarray(t["target"], np.float64).astype(np.float32).astype(np.float64))
        losses, norms, first, updated, clip_ratios = train(layers, params, x, config, target, labels, t["steps"],
                                                           margins, lengths)
        updated_model = copy.deepcopy(document)
        for index, layer in enumerate(updated_model["layers"]):
            # A model document holds float32 values: the float64 result, rounded once at the end.
            layer["weights"] = {name: {"shape": list(tensor.shape), "data": f32_list(tensor.numpy())}
                                for name, tensor in updated[index].items()}
        result["train"] = {"losses": losses, "gradient_norms": norms, "first_gradients": first,
                           "updated_model": updated_model}
        result["clip_ratios"] = clip_ratios
    return result


# --------------------------------------------------------------------------
# The cases
# --------------------------------------------------------------------------
#
# Each spec: name, description, seed, input_size, batch, steps, layers (public
# layer keys plus "bias": "both" | "none" | "ih" | "hh" (recurrent) / True |
# False (dense)), optional "form" for the tensors ("flat", "nested",
# "base64"), optional "same_as" (reuse another case's draws), optional
# "train": {config, steps, targets: "normal" | "probs" | "labels" |
# "binary" | "uniform"}.

ADAM = {"type": "adam", "learning_rate": 0.01, "epsilon": 0.0001}

SPECS = [
    dict(name="rnn_tanh", description="tanh RNN with a linear head; SGD on every step",
         seed=101, input_size=3, batch=2, steps=4,
         layers=[{"type": "rnn", "hidden_size": 5}, {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "targets": "sequence", "optimizer": {"type": "sgd", "learning_rate": 0.1}},
                    steps=2, targets="normal")),
    dict(name="rnn_tanh_nested", description="same model as rnn_tanh, weights as nested arrays",
         same_as="rnn_tanh", form="nested"),
    dict(name="rnn_tanh_base64", description="same model as rnn_tanh, weights as base64 float32",
         same_as="rnn_tanh", form="base64"),
    dict(name="rnn_relu_last", description="relu RNN, no head; SGD with momentum on the last step only",
         seed=102, input_size=4, batch=3, steps=5,
         layers=[{"type": "rnn", "hidden_size": 6, "activation": "relu"}],
         train=dict(config={"loss": "mse", "targets": "last",
                            "optimizer": {"type": "sgd", "learning_rate": 0.05, "momentum": 0.9}},
                    steps=3, targets="normal")),
    dict(name="lstm_clip", description="LSTM, Adam, gradient clipping",
         seed=104, input_size=3, batch=2, steps=6,
         layers=[{"type": "lstm", "hidden_size": 4}, {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01, "epsilon": 0.0001},
                            "clip_gradient_norm": 0.5},
                    steps=3, targets="normal", clipped=True)),
    dict(name="lstm_stack_softmax", description="two LSTM layers and a softmax head; cross-entropy on labels",
         seed=104, input_size=5, batch=2, steps=7,
         layers=[{"type": "lstm", "hidden_size": 8}, {"type": "lstm", "hidden_size": 6},
                 {"type": "dense", "units": 3, "activation": "softmax"}],
         train=dict(config={"loss": "cross_entropy",
                            "optimizer": {"type": "adam", "learning_rate": 0.005, "epsilon": 0.0001}},
                    steps=2, targets="labels")),
    dict(name="lstm_stateful_ce_probs",
         description="stateful training (state carried across steps), cross-entropy on probability targets",
         seed=105, input_size=4, batch=3, steps=5,
         layers=[{"type": "lstm", "hidden_size": 7}, {"type": "dense", "units": 4}],
         train=dict(config={"loss": "cross_entropy", "optimizer": ADAM, "stateful": True},
                    steps=3, targets="probs")),
    dict(name="lstm_nobias", description="no biases anywhere",
         seed=106, input_size=2, batch=2, steps=3,
         layers=[{"type": "lstm", "hidden_size": 3, "bias": "none"}, {"type": "dense", "units": 2, "bias": False}]),
    dict(name="gru_long", description="a 200-step stream: error must not grow along it",
         seed=107, input_size=8, batch=1, steps=200,
         layers=[{"type": "gru", "hidden_size": 32}, {"type": "dense", "units": 1}]),
    dict(name="gru_lstm_frozen", description="GRU then LSTM then tanh head; first layer frozen; SGD with clipping",
         seed=110, input_size=4, batch=1, steps=10,
         layers=[{"type": "gru", "hidden_size": 6}, {"type": "lstm", "hidden_size": 5},
                 {"type": "dense", "units": 2, "activation": "tanh"}],
         train=dict(config={"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1},
                            "clip_gradient_norm": 0.3, "freeze": [0]},
                    steps=2, targets="normal", clipped=True)),
    dict(name="gru_sigmoid_last", description="GRU, sigmoid head, binary cross-entropy on the last step, AdamW",
         seed=109, input_size=3, batch=2, steps=5,
         layers=[{"type": "gru", "hidden_size": 5}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
         train=dict(config={"loss": "binary_cross_entropy", "targets": "last",
                            "optimizer": {"type": "adamw", "learning_rate": 0.01, "epsilon": 0.0001,
                                          "weight_decay": 0.01}},
                    steps=2, targets="uniform")),
    # Beyond the cases above: the rest of the layer kinds, activations, losses, optimizer
    # settings and trainer options.
    dict(name="dense_relu_gru_sgd_decay",
         description="dense relu layer first, GRU, sigmoid head; mse through the sigmoid; "
                     "SGD with momentum and weight decay",
         seed=110, input_size=3, batch=2, steps=6,
         layers=[{"type": "dense", "units": 5, "activation": "relu"}, {"type": "gru", "hidden_size": 4},
                 {"type": "dense", "units": 2, "activation": "sigmoid"}],
         train=dict(config={"loss": "mse", "targets": "sequence",
                            "optimizer": {"type": "sgd", "learning_rate": 0.2, "momentum": 0.8,
                                          "weight_decay": 0.05}},
                    steps=3, targets="uniform")),
    dict(name="rnn_nobias_bce_adam_decay",
         description="tanh RNN (activation written out) and linear head (written out), no biases, trained; "
                     "binary cross-entropy on logits at every step; Adam with L2 weight decay",
         seed=111, input_size=3, batch=3, steps=4,
         layers=[{"type": "rnn", "hidden_size": 4, "activation": "tanh", "bias": "none"},
                 {"type": "dense", "units": 2, "activation": "linear", "bias": False}],
         train=dict(config={"loss": "binary_cross_entropy",
                            "optimizer": {"type": "adam", "learning_rate": 0.02, "epsilon": 0.0001,
                                          "weight_decay": 0.1}},
                    steps=3, targets="binary")),
    dict(name="lstm_partial_bias_labels_last",
         description="LSTM with bias_ih only and a linear head without bias; cross-entropy on one label "
                     "per stream at the last step; plain SGD",
         seed=112, input_size=2, batch=4, steps=5,
         layers=[{"type": "lstm", "hidden_size": 5, "bias": "ih"}, {"type": "dense", "units": 3, "bias": False}],
         train=dict(config={"loss": "cross_entropy", "targets": "last",
                            "optimizer": {"type": "sgd", "learning_rate": 0.5}},
                    steps=2, targets="labels")),
    dict(name="gru_partial_bias_stateful_last",
         description="GRU with bias_hh only and a softmax head, head frozen; stateful training with "
                     "cross-entropy on labels at the last step; AdamW with its betas given; "
                     "a clipping threshold the norm stays under",
         seed=113, input_size=3, batch=2, steps=4,
         layers=[{"type": "gru", "hidden_size": 6, "bias": "hh"},
                 {"type": "dense", "units": 4, "activation": "softmax"}],
         train=dict(config={"loss": "cross_entropy", "targets": "last",
                            "optimizer": {"type": "adamw", "learning_rate": 0.02, "beta1": 0.8, "beta2": 0.99,
                                          "epsilon": 0.0001, "weight_decay": 0.05},
                            "clip_gradient_norm": 10.0, "freeze": [1], "stateful": True},
                    steps=3, targets="labels", clipped=False)),
    dict(name="mixed_stack_softmax_mse",
         description="relu RNN, LSTM, GRU, dense tanh, dense relu, dense softmax; mse through the softmax; "
                     "stateful Adam with clipping; two layers frozen",
         seed=116, input_size=3, batch=2, steps=5,
         layers=[{"type": "rnn", "hidden_size": 5, "activation": "relu"}, {"type": "lstm", "hidden_size": 4},
                 {"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 5, "activation": "tanh"},
                 {"type": "dense", "units": 6, "activation": "relu"},
                 {"type": "dense", "units": 3, "activation": "softmax"}],
         train=dict(config={"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01, "beta1": 0.85,
                                                         "beta2": 0.995, "epsilon": 0.0001},
                            "clip_gradient_norm": 0.05, "freeze": [1, 3], "stateful": True},
                    steps=3, targets="probs", clipped=True)),
    dict(name="rnn_relu_sgd_momentum_decay_stateful",
         description="relu RNN with a relu head; stateful mse training on every step; "
                     "SGD with momentum and weight decay, clipped",
         seed=122, input_size=2, batch=3, steps=6,
         layers=[{"type": "rnn", "hidden_size": 5, "activation": "relu"},
                 {"type": "dense", "units": 2, "activation": "relu"}],
         train=dict(config={"loss": "mse", "targets": "sequence",
                            "optimizer": {"type": "sgd", "learning_rate": 0.1, "momentum": 0.5,
                                          "weight_decay": 0.02},
                            "clip_gradient_norm": 0.4, "stateful": True},
                    steps=3, targets="normal", clipped=True)),
]


def f32_list(array):
    return [float(v) for v in np.asarray(array, np.float32).reshape(-1)]


def tensor_json(array, form):
    array = np.asarray(array, np.float32)
    if form == "flat":
        return {"shape": list(array.shape), "data": f32_list(array)}
    if form == "nested":
        return np.asarray(array, np.float64).tolist()
    if form == "base64":
        return {"shape": list(array.shape), "base64": base64.b64encode(array.astype("<f4").tobytes()).decode("ascii")}
    raise ValueError(form)


def draw_model(spec, rng):
    """Weights as PyTorch initialises them: U(-1/sqrt(H), 1/sqrt(H)) for recurrent layers,
    U(-1/sqrt(in), 1/sqrt(in)) for dense ones; float32."""
    size, drawn = spec["input_size"], []
    for layer in spec["layers"]:
        kind = layer["type"]
        weights = {}
        if kind == "dense":
            bound = 1 / math.sqrt(size)
            units = layer["units"]
            weights["weight"] = rng.uniform(-bound, bound, (units, size)).astype(np.float32)
            bias = rng.uniform(-bound, bound, units).astype(np.float32)
            if layer.get("bias", True):
                weights["bias"] = bias
            size = units
        else:
            H = layer["hidden_size"]
            rows = GATES[kind] * H
            bound = 1 / math.sqrt(H)
            weights["weight_ih"] = rng.uniform(-bound, bound, (rows, size)).astype(np.float32)
            weights["weight_hh"] = rng.uniform(-bound, bound, (rows, H)).astype(np.float32)
            b_ih = rng.uniform(-bound, bound, rows).astype(np.float32)
            b_hh = rng.uniform(-bound, bound, rows).astype(np.float32)
            which = layer.get("bias", "both")
            if which in ("both", "ih"):
                weights["bias_ih"] = b_ih
            if which in ("both", "hh"):
                weights["bias_hh"] = b_hh
            size = H
            if layer.get("direction") == "bidirectional":
                size = sequences.draw_reverse(weights, which, bound, rng)
        drawn.append(weights)
    return drawn


def model_document(spec, drawn, form, name):
    layers = []
    for layer, weights in zip(spec["layers"], drawn):
        entry = {key: value for key, value in layer.items() if key != "bias"}
        entry["weights"] = {key: tensor_json(value, form) for key, value in weights.items()}
        layers.append(entry)
    return {"format": "recur", "version": 1, "input_size": spec["input_size"], "layers": layers,
            "metadata": {"case": name}}


def output_size(spec):
    last = spec["layers"][-1]
    if last["type"] == "dense":
        return last["units"]
    return last["hidden_size"] * (2 if last.get("direction") == "bidirectional" else 1)


def draw_targets(kind, shape, rng):
    if kind == "normal":
        return f32_list(rng.standard_normal(shape))
    if kind == "uniform":
        return f32_list(rng.uniform(0.05, 0.95, shape))
    if kind == "binary":
        return f32_list(rng.integers(0, 2, shape))
    if kind == "probs":
        logits = 1.5 * rng.standard_normal(shape)
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        return f32_list(p / p.sum(axis=-1, keepdims=True))
    raise ValueError(kind)


def build_case(spec, specs_by_name):
    base = specs_by_name[spec["same_as"]] if "same_as" in spec else spec
    rng = np.random.default_rng(base["seed"])
    drawn = draw_model(base, rng)
    batch, steps = base["batch"], base["steps"]
    x = rng.standard_normal((batch, steps, base["input_size"]))
    lengths = base.get("lengths")
    if lengths is not None:
        x = sequences.fill_padding(x, lengths, rng)
    case = {"name": spec["name"], "description": spec["description"],
            "model": model_document(base, drawn, spec.get("form", "flat"), spec["name"]),
            "batch": batch, "steps": steps, "input": f32_list(x)}
    if lengths is not None:
        case["lengths"] = lengths
    train_spec = spec.get("train")
    if train_spec:
        config = train_spec["config"]
        last = config.get("targets", "sequence") == "last"
        positions = (batch,) if last else (batch, steps)
        train = {"config": config, "steps": train_spec["steps"]}
        if train_spec["targets"] == "labels":
            train["labels"] = [int(v) for v in rng.integers(0, output_size(base), positions).reshape(-1)]
        else:
            train["target"] = draw_targets(train_spec["targets"], positions + (output_size(base),), rng)
            if lengths is not None and not last:
                train["target"] = sequences.pad_targets(train["target"], lengths, steps)
        case["train"] = train
    margins = Margins()
    computed = compute(case, margins)
    if margins.relu < 1e-3:
        raise AssertionError(f"{spec['name']}: a relu input is {margins.relu:.3g} from 0; choose another seed")
    ratios = computed.get("clip_ratios", [])
    if any(abs(ratio - 1) < 2e-2 for ratio in ratios):
        raise AssertionError(f"{spec['name']}: a gradient norm within 2% of the clipping threshold")
    if ratios and (ratios[0] > 1) != train_spec["clipped"]:
        raise AssertionError(f"{spec['name']}: the first step is {'not ' if train_spec['clipped'] else ''}clipped")
    ordered = {key: case[key] for key in ("name", "description", "model", "batch", "steps", "lengths", "input")
               if key in case}
    ordered["output"] = computed["output"]
    if "final_state" in computed:  # absent for a model with a bidirectional layer
        ordered["final_state"] = computed["final_state"]
    if "train" in case:
        t = case["train"]
        ordered["train"] = {"config": t["config"], "steps": t["steps"]}
        ordered["train"].update({key: t[key] for key in ("target", "labels") if key in t})
        ordered["train"].update(computed["train"])
    return ordered, computed.get("clip_ratios", [])


# --------------------------------------------------------------------------
# Documents that must be refused
# --------------------------------------------------------------------------

def invalid_documents():
    """(file name, text, status or None, message substrings), in manifest order."""
    def base():
        return {"format": "recur", "version": 1, "input_size": 2, "layers": [
            {"type": "lstm", "hidden_size": 2, "weights": {
                "weight_ih": {"shape": [8, 2], "data": [0.1] * 16},
                "weight_hh": {"shape": [8, 2], "data": [0.2] * 16},
                "bias_ih": {"shape": [8], "data": [0.0] * 8},
                "bias_hh": {"shape": [8], "data": [0.0] * 8}}},
            {"type": "dense", "units": 1, "weights": {"weight": [[0.5, -0.5]], "bias": [0.1]}}]}

    def changed(edit):
        document = base()
        edit(document)
        return json.dumps(document)

    def set_key(path, value):
        def edit(document):
            node = document
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        return edit

    lstm, dense = ("layers", 0), ("layers", 1)
    parse, model = "RECUR_ERROR_PARSE", "RECUR_ERROR_MODEL"
    return [
        ("truncated.json", '{"format": "recur", "version": 1, "input_size": 2, "layers":', parse, []),
        ("not_json.json", "this is not json", parse, []),
        ("empty.json", "", parse, []),
        ("top_array.json", "[1,2,3]", model, []),
        ("wrong_format.json", changed(set_key(("format",), "keras")), model, ["format"]),
        ("future_version.json", changed(set_key(("version",), 2)), model, ["version", "2"]),
        ("no_layers.json", json.dumps({"format": "recur", "version": 1, "input_size": 2, "layers": []}), model,
         ["layers"]),
        ("unknown_type.json", changed(set_key(lstm + ("type",), "transformer")), model, ["layers[0]", "transformer"]),
        ("shape_mismatch.json", changed(set_key(lstm + ("weights", "weight_hh"),
                                                {"shape": [8, 3], "data": [0.2] * 24})),
         model, ["layers[0].weights.weight_hh", "[8, 2]", "[8, 3]"]),
        ("data_length.json", changed(set_key(lstm + ("weights", "bias_ih"), {"shape": [8], "data": [0.0] * 7})),
         model, ["layers[0].weights.bias_ih"]),
        ("dense_chain.json", changed(set_key(dense + ("weights", "weight"), [[0.5, -0.5, 1.0]])), model,
         ["layers[1].weights.weight"]),
        ("infinite.json", changed(set_key(dense + ("weights", "bias"), ["@INF@"])).replace('"@INF@"', "1e999"),
         model, ["layers[1].weights.bias"]),
        ("string_number.json", changed(set_key(dense + ("weights", "bias"), ["0.1"])), model,
         ["layers[1].weights.bias"]),
        ("negative_hidden.json", changed(set_key(lstm + ("hidden_size",), -4)), model, ["layers[0]", "hidden_size"]),
        ("typo_key.json", changed(set_key(lstm + ("hiden_size",), 2)), model, ["hiden_size"]),
        ("bad_activation.json", changed(set_key(dense + ("activation",), "swish")), model, ["layers[1]", "swish"]),
        ("bad_base64.json", changed(set_key(dense + ("weights", "bias"), {"shape": [1], "base64": "!!notbase64"})),
         model, ["layers[1].weights.bias"]),
        ("deep_nesting.json", "[" * 100000 + "]" * 100000, parse, []),
        ("huge_hidden.json", changed(set_key(("layers",), [{"type": "lstm", "hidden_size": 10 ** 12},
                                                          base()["layers"][1]])),
         model, ["hidden_size"]),
        # Bidirectional layers (docs/model-format.md, "direction").
        ("reverse_on_forward.json", changed(set_key(lstm + ("weights", "weight_hh_reverse"),
                                                    {"shape": [8, 2], "data": [0.2] * 16})),
         model, ["layers[0].weights.weight_hh_reverse", "forward layer"]),
        ("missing_reverse.json", changed(set_key(lstm + ("direction",), "bidirectional")),
         model, ["layers[0].weights.weight_ih_reverse", "missing"]),
        ("bad_direction.json", changed(set_key(lstm + ("direction",), "backward")), model, ["layers[0].direction", "backward"]),
        ("dense_direction.json", changed(set_key(dense + ("direction",), "bidirectional")), model, ["layers[1]", "direction"]),
        ("one_sided_bias.json", changed(lambda d: d["layers"][0].update(direction="bidirectional") or d["layers"][0]["weights"].update(
            weight_ih_reverse={"shape": [8, 2], "data": [0.1] * 16}, weight_hh_reverse={"shape": [8, 2], "data": [0.2] * 16},
            bias_ih_reverse={"shape": [8], "data": [0.0] * 8})),
         model, ["layers[0].weights.bias_hh_reverse", "missing"]),
        ("bidirectional_chain.json", changed(lambda d: d["layers"][0].update(direction="bidirectional") or d["layers"][0]["weights"].update(
            weight_ih_reverse={"shape": [8, 2], "data": [0.1] * 16}, weight_hh_reverse={"shape": [8, 2], "data": [0.2] * 16},
            bias_ih_reverse={"shape": [8], "data": [0.0] * 8}, bias_hh_reverse={"shape": [8], "data": [0.0] * 8})),
         model, ["layers[1].weights.weight", "[1, 4]", "[1, 2]"]),
    ]


def invalid_files():
    """{file name: bytes} for invalid/, manifest.json included."""
    entries = invalid_documents()
    files = {name: text.encode("utf-8") for name, text, _, _ in entries}
    manifest = [{"file": name, "status": status, "message_contains": contains}
                for name, _, status, contains in entries]
    files["manifest.json"] = json.dumps(manifest, indent=1).encode("utf-8")
    return files


# --------------------------------------------------------------------------
# Writing, checking
# --------------------------------------------------------------------------

def case_text(case):
    return json.dumps(case, separators=(",", ":")) + "\n"


def write_cases(specs, out):
    out.mkdir(parents=True, exist_ok=True)
    by_name = {spec["name"]: spec for spec in specs}
    total = 0
    for spec in specs:
        case, clip_ratios = build_case(spec, by_name)
        text = case_text(case)
        (out / f"{spec['name']}.json").write_text(text, encoding="utf-8")
        total += len(text)
        extra = f", norm/clip {', '.join(f'{r:.3f}' for r in clip_ratios)}" if clip_ratios else ""
        print(f"{out.name}/{spec['name']}.json  {len(text)} bytes{extra}")
    return total


def generate(out):
    total = write_cases(SPECS, out)
    (out / "invalid").mkdir(exist_ok=True)
    for name, data in invalid_files().items():
        (out / "invalid" / name).write_bytes(data)
    print(f"{len(SPECS)} cases, {total} bytes; invalid/: {len(invalid_documents())} documents and manifest.json")
    total = write_cases(sequences.SPECS, out / "sequences")
    print(f"sequences/: {len(sequences.SPECS)} cases, {total} bytes")


def differences(mine, theirs, tolerance):
    """(max |mine - theirs|, max |mine - theirs| / |theirs| over |theirs| >= 1e-8,
    whether every element is within tolerance * (1 + |theirs|))."""
    a = np.asarray(mine, np.float64).reshape(-1)
    b = np.asarray(theirs, np.float64).reshape(-1)
    if a.shape != b.shape:
        return math.inf, math.inf, False
    if a.size == 0:
        return 0.0, 0.0, True
    d = np.abs(a - b)
    big = np.abs(b) >= 1e-8
    relative = float((d[big] / np.abs(b[big])).max()) if big.any() else 0.0
    return float(d.max()), relative, bool(np.all(d <= tolerance * (1 + np.abs(b))))


def raw_values(value, where):
    """A tensor's values as written (float64 for data and nested forms), flat."""
    if isinstance(value, dict) and "data" in value:
        return [float(v) for v in value["data"]]
    if isinstance(value, dict):
        return tensor_values(value, where)[0].astype(np.float64).tolist()
    return np.asarray(value, np.float64).reshape(-1).tolist()


def check(directory, tolerance):
    directory = pathlib.Path(directory)
    failures = 0
    worst = {"abs": 0.0, "rel": 0.0}
    files = sorted(path for path in directory.glob("*.json"))
    if not files:
        print(f"no *.json cases in {directory}")
        return 1
    print(f"{'case':34} {'field':18} {'max abs diff':>13} {'max rel diff':>13}")
    for path in files:
        case = json.loads(path.read_text(encoding="utf-8"))
        name = case.get("name", path.stem)
        try:
            computed = compute(case)
        except (CaseError, KeyError) as error:
            print(f"{name:34} cannot recompute: {error}")
            failures += 1
            continue
        rows = [("output", computed["output"], case["output"])]
        if ("final_state" in computed) != ("final_state" in case):
            print(f"{name:34} final_state: {'absent' if 'final_state' in case else 'present'} here, "
                  f"{'present' if 'final_state' in case else 'absent'} in the case")
            failures += 1
        elif "final_state" in case:
            rows.append(("final_state", computed["final_state"], case["final_state"]))
        if "train" in case:
            mine, theirs = computed["train"], case["train"]
            rows += [("losses", mine["losses"], theirs["losses"]),
                     ("gradient_norms", mine["gradient_norms"], theirs["gradient_norms"])]
            grads_mine, grads_theirs = [], []
            for layer, (gm, gt) in enumerate(zip(mine["first_gradients"], theirs["first_gradients"])):
                if sorted(gm) != sorted(gt):
                    print(f"{name:34} first_gradients[{layer}] names differ: {sorted(gm)} vs {sorted(gt)}")
                    failures += 1
                    continue
                for key in gt:
                    grads_mine += gm[key]
                    grads_theirs += gt[key]
            if len(mine["first_gradients"]) != len(theirs["first_gradients"]):
                print(f"{name:34} first_gradients: {len(mine['first_gradients'])} layers vs "
                      f"{len(theirs['first_gradients'])}")
                failures += 1
            rows.append(("first_gradients", grads_mine, grads_theirs))
            w_mine, w_theirs = [], []
            for layer, (lm, lt) in enumerate(zip(mine["updated_model"]["layers"], theirs["updated_model"]["layers"])):
                for key, value in lt["weights"].items():
                    if key not in lm["weights"]:
                        print(f"{name:34} updated_model.layers[{layer}].{key}: not a tensor of the model")
                        failures += 1
                        continue
                    w_mine += raw_values(lm["weights"][key], key)
                    w_theirs += raw_values(value, key)
            rows.append(("updated_model", w_mine, w_theirs))
        for field, a, b in rows:
            d_abs, d_rel, within = differences(a, b, tolerance)
            bad = not within
            failures += bad
            worst["abs"] = max(worst["abs"], d_abs)
            worst["rel"] = max(worst["rel"], d_rel)
            print(f"{name:34} {field:18} {d_abs:13.3e} {d_rel:13.3e}{'  EXCEEDS TOLERANCE' if bad else ''}")
    print(f"largest over all cases: abs {worst['abs']:.3e}, rel {worst['rel']:.3e} "
          f"(rel over elements with |ref| >= 1e-8)")
    invalid = directory / "invalid"
    if invalid.is_dir():
        mine = invalid_files()
        theirs = {path.name for path in invalid.iterdir() if path.is_file()}
        same = sorted(name for name in mine if name in theirs and (invalid / name).read_bytes() == mine[name])
        other = sorted(set(mine) - set(same))
        print(f"invalid/: {len(same)} of {len(mine)} files identical to this script's"
              + (f"; different or missing: {', '.join(other)}" if other else "")
              + (f"; extra there: {', '.join(sorted(theirs - set(mine)))}" if theirs - set(mine) else ""))
    print(f"{'FAILED' if failures else 'OK'}: {len(files)} cases, {failures} problems (tolerance {tolerance:g})")
    status = 1 if failures else 0
    if (directory / "sequences").is_dir():
        print(f"\n{directory / 'sequences'}:")
        status = max(status, check(directory / "sequences", tolerance))
    return status


import sequences  # noqa: E402  (bidirectional layers and per-stream lengths; uses the helpers above)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="See README.md beside this script for the case format.")
    parser.add_argument("--out", type=pathlib.Path, default=HERE,
                        help="folder to write the cases into (default: this script's folder)")
    parser.add_argument("--check", metavar="DIR", type=pathlib.Path,
                        help="recompute every case in DIR (any folder of cases in this format) and report "
                             "the largest differences per field, instead of generating")
    parser.add_argument("--tolerance", type=float, default=1e-9,
                        help="--check fails when |mine - theirs| > tol * (1 + |theirs|) (default 1e-9)")
    args = parser.parse_args(argv)
    if args.check:
        return check(args.check, args.tolerance)
    generate(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
