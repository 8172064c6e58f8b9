"""Bidirectional recurrent layers and per-stream lengths, for generate.py.

generate.py imports this module and sends here every case that has `lengths`
or a layer with "direction": "bidirectional"; the cases it writes into
sequences/ are the SPECS at the end of this file.

The explicit model runs each stream on its own, over its first lengths[b] steps
only: a forward cell from step 0, a backward cell from the stream's own last
step back to step 0 (each from zero state), the bidirectional output being
[forward h_t, backward h_t]. Outputs past a length are 0 and the state of a
forward layer is the one after the stream's own last step. Every forward pass
from zero state is compared with torch.nn.RNN / LSTM / GRU over PyTorch's packed
sequences (pack_padded_sequence(..., enforce_sorted=False)), consecutive
recurrent layers of one kind and size grouped into one multi-layer module as
PyTorch builds it (num_layers > 1, bidirectional or not); they must agree to
1e-12.

Losses average over the valid positions only; "last" targets compare each
stream's output at its own last step. Inputs past a length are drawn as
1000 + N(0, 1), and float targets there are 1000, so that an implementation
that reads them gets a visibly different result.
"""

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import generate as base

PADDING = 1000.0


def valid_lengths(lengths, batch, steps):
    """The per-stream lengths of a case (every stream full when the case has none)."""
    if lengths is None:
        return [steps] * batch
    if len(lengths) != batch or any(not isinstance(n, int) or not 0 <= n <= steps for n in lengths):
        raise base.CaseError(f"lengths {lengths}: need {batch} integers in [0, {steps}]")
    return list(lengths)


def reverse_params(p):
    """The backward cell's tensors under the forward names."""
    return {name[:-len("_reverse")]: t for name, t in p.items() if name.endswith("_reverse")}


def forward_params(p):
    return {name: t for name, t in p.items() if not name.endswith("_reverse")}


def run_streams(layers, params, x, lengths, initial=None, margins=None):
    """x [B][T][I]. Runs every stream alone over its own length. Returns y [B][T][O] (0 past each
    length), per stream (y_b [L_b][O], z_b [L_b][O] or None: the last dense layer's pre-activation
    values) and the final states, per layer a tuple of [B][H] tensors ((), for dense and
    bidirectional layers)."""
    batch, steps = x.shape[0], x.shape[1]
    outputs, per_stream, stream_finals = [], [], []
    for b, length in enumerate(lengths):
        seq, z, finals = x[b:b + 1, :length], None, []
        for index, (layer, p) in enumerate(zip(layers, params)):
            start = None if initial is None else [tuple(s[b:b + 1] for s in initial[index])]
            if layer["type"] == "dense":
                seq, z, _ = base.run_model([layer], [p], seq, margins=margins)
                finals.append(())
                continue
            z = None
            if length == 0:  # nothing runs: the state stays as it was
                seq = torch.zeros(1, 0, 2 * layer["size"] if layer["bidirectional"] else layer["size"])
                finals.append(() if layer["bidirectional"] else
                              (start[0] if start else base.zero_state(layer, 1)))
                continue
            if layer["bidirectional"]:
                ahead, _, _ = base.run_model([layer], [forward_params(p)], seq, margins=margins)
                back, _, _ = base.run_model([layer], [reverse_params(p)], seq.flip(1), margins=margins)
                seq = torch.cat([ahead, back.flip(1)], dim=-1)
                finals.append(())
            else:
                seq, _, final = base.run_model([layer], [p], seq, initial=start, margins=margins)
                finals.append(final[0])
        y_b = seq[0]
        per_stream.append((y_b, None if z is None else z[0]))
        outputs.append(torch.cat([y_b, torch.zeros(steps - length, y_b.shape[-1])], dim=0))
        stream_finals.append(finals)
    finals = [tuple(torch.cat([stream[index][k] for stream in stream_finals], dim=0)
                    for k in range(len(stream_finals[0][index]))) for index in range(len(layers))]
    return torch.stack(outputs, dim=0), per_stream, finals


def loss_over_lengths(layers, per_stream, lengths, config, target, labels):
    """The loss over the valid positions only; "last": each stream's own last step."""
    batch = len(lengths)
    if min(lengths) < 1:
        raise base.CaseError(f"training needs every length >= 1, got {lengths}")
    width = per_stream[0][0].shape[-1]
    zs = [z for _, z in per_stream]
    if config.get("targets", "sequence") == "last":
        y = torch.stack([y_b[n - 1] for (y_b, _), n in zip(per_stream, lengths)])
        z = None if zs[0] is None else torch.stack([z_b[n - 1] for z_b, n in zip(zs, lengths)])
        target = None if target is None else target.reshape(batch, width)
        labels = None if labels is None else labels.reshape(batch)
    else:
        y = torch.cat([y_b[:n] for (y_b, _), n in zip(per_stream, lengths)])
        z = None if zs[0] is None else torch.cat([z_b[:n] for z_b, n in zip(zs, lengths)])
        if target is not None:
            target = target.reshape(batch, -1, width)
            target = torch.cat([target[b, :n] for b, n in enumerate(lengths)])
        if labels is not None:
            labels = labels.reshape(batch, -1)
            labels = torch.cat([labels[b, :n] for b, n in enumerate(lengths)])
    return base.compute_loss(layers, y, z, {"loss": config.get("loss", "mse")}, target, labels)


def torch_nn_packed(layers, params, x, lengths):
    """The model through torch.nn modules over packed sequences, for the streams of nonzero
    length: (y [B'][T][O] with 0 past each length, flat final state [B'][state_size], kept indices)."""
    keep = [b for b, n in enumerate(lengths) if n > 0]
    seq, steps = x[keep], x.shape[1]
    lens = torch.tensor([lengths[b] for b in keep], dtype=torch.int64)
    finals, index = [], 0
    while index < len(layers):
        layer = layers[index]
        kind = layer["type"]
        if kind == "dense":
            p = params[index]
            seq = base.apply_activation(layer["activation"], F.linear(seq, p["weight"], p.get("bias")))
            index += 1
            continue
        group = index + 1  # consecutive layers PyTorch would build as one module with num_layers > 1
        while group < len(layers) and all(layers[group].get(k) == layer.get(k) for k in
                                          ("type", "size", "activation", "bidirectional")):
            group += 1
        count, H, bi = group - index, layer["size"], layer["bidirectional"]
        options = dict(num_layers=count, bidirectional=bi, batch_first=True)
        if kind == "rnn":
            module = torch.nn.RNN(layer["input_size"], H, nonlinearity=layer["activation"], **options)
        else:
            module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](layer["input_size"], H, **options)
        module = module.double()
        with torch.no_grad():
            for offset in range(count):
                p = params[index + offset]
                for suffix in ("", "_reverse") if bi else ("",):
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                        value = p.get(name + suffix)
                        if value is None:
                            value = torch.zeros(base.GATES[kind] * H)
                        getattr(module, f"{name}_l{offset}{suffix}").copy_(value)
            packed = pack_padded_sequence(seq, lens, batch_first=True, enforce_sorted=False)
            out, state = module(packed)
            seq, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        if not bi:
            for offset in range(count):
                finals.extend([state[0][offset], state[1][offset]] if kind == "lstm" else [state[offset]])
        index = group
    mask = (torch.arange(steps)[None, :] < lens[:, None]).unsqueeze(-1)
    y = torch.where(mask, seq, torch.zeros(()))
    return y, torch.cat(finals, dim=1) if finals else torch.zeros(len(keep), 0), keep


def forward(layers, params, x, lengths, margins, name):
    """output (and final_state unless a layer is bidirectional) over per-stream lengths,
    cross-checked with torch.nn over packed sequences."""
    batch = x.shape[0]
    with torch.no_grad():
        y, _, finals = run_streams(layers, params, x, lengths, margins=margins)
        state = base.flat_state(finals, batch)
        if any(n > 0 for n in lengths):
            y_nn, state_nn, keep = torch_nn_packed(layers, params, x, lengths)
            gap = float((y[keep] - y_nn).abs().max())
            if state.numel():
                gap = max(gap, float((state[keep] - state_nn).abs().max()))
            if gap > 1e-12:
                raise AssertionError(f"{name}: explicit cells and packed torch.nn disagree by {gap:.3g}")
    result = {"output": y.reshape(-1).tolist()}
    if not any(layer["bidirectional"] for layer in layers):
        result["final_state"] = state.reshape(-1).tolist()
    return result


def draw_reverse(weights, which, bound, rng):
    """Adds a bidirectional layer's backward cell to its drawn forward tensors: same shapes and
    bounds, drawn after them, PyTorch's names. Returns the layer's output size, 2H."""
    rows, H = weights["weight_hh"].shape
    weights["weight_ih_reverse"] = rng.uniform(-bound, bound, weights["weight_ih"].shape).astype(np.float32)
    weights["weight_hh_reverse"] = rng.uniform(-bound, bound, (rows, H)).astype(np.float32)
    b_ih = rng.uniform(-bound, bound, rows).astype(np.float32)
    b_hh = rng.uniform(-bound, bound, rows).astype(np.float32)
    if which in ("both", "ih"):
        weights["bias_ih_reverse"] = b_ih
    if which in ("both", "hh"):
        weights["bias_hh_reverse"] = b_hh
    return 2 * H


def fill_padding(x, lengths, rng):
    """Inputs past each stream's length: 1000 + N(0, 1), which changes the result if read."""
    x = np.array(x)
    for b, n in enumerate(lengths):
        x[b, n:] = PADDING + rng.standard_normal(x[b, n:].shape)
    return x


def pad_targets(target, lengths, steps):
    """Float "sequence" targets past each stream's length: 1000, never to be read."""
    array = np.asarray(target, np.float64).reshape(len(lengths), steps, -1)
    for b, n in enumerate(lengths):
        array[b, n:] = PADDING
    return base.f32_list(array)


# --------------------------------------------------------------------------
# The cases written into sequences/ (spec keys as in generate.py, plus
# "lengths" and "direction" on recurrent layers)
# --------------------------------------------------------------------------

BI = "bidirectional"
ADAM = base.ADAM

SPECS = [
    # Bidirectional layers alone, over full sequences.
    dict(name="birnn_tanh_head", description="bidirectional tanh RNN (output 2H: forward h_t then backward h_t) "
                                             "with a linear head; mse on every step, plain SGD",
         seed=201, input_size=3, batch=2, steps=5,
         layers=[{"type": "rnn", "hidden_size": 4, "direction": BI}, {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1}},
                    steps=2, targets="normal")),
    dict(name="bilstm_labels_adam", description="bidirectional LSTM with a linear head; cross-entropy on labels "
                                                "at every step; Adam",
         seed=202, input_size=3, batch=2, steps=6,
         layers=[{"type": "lstm", "hidden_size": 4, "direction": BI}, {"type": "dense", "units": 3}],
         train=dict(config={"loss": "cross_entropy", "optimizer": ADAM}, steps=2, targets="labels")),
    dict(name="bigru_sigmoid_bce", description="bidirectional GRU with a sigmoid head; binary cross-entropy on "
                                               "every step; AdamW",
         seed=203, input_size=2, batch=3, steps=4,
         layers=[{"type": "gru", "hidden_size": 5, "direction": BI},
                 {"type": "dense", "units": 2, "activation": "sigmoid"}],
         train=dict(config={"loss": "binary_cross_entropy",
                            "optimizer": {"type": "adamw", "learning_rate": 0.01, "epsilon": 0.0001}},
                    steps=2, targets="binary")),
    dict(name="bilstm_nobias", description="bidirectional LSTM without biases (neither direction has them) and "
                                           "a dense head without bias; run only",
         seed=204, input_size=3, batch=2, steps=4,
         layers=[{"type": "lstm", "hidden_size": 3, "direction": BI, "bias": "none"},
                 {"type": "dense", "units": 2, "bias": False}]),
    # Bidirectional layers stacked with others, with per-stream lengths.
    dict(name="bilstm_lstm_lengths", description="bidirectional LSTM into a forward LSTM into a linear head; "
                                                 "lengths 5, 2, 4; mse over the valid steps; Adam",
         seed=205, input_size=3, batch=3, steps=5, lengths=[5, 2, 4],
         layers=[{"type": "lstm", "hidden_size": 4, "direction": BI}, {"type": "lstm", "hidden_size": 5},
                 {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "optimizer": ADAM}, steps=2, targets="normal")),
    dict(name="lstm_bigru_last_lengths", description="forward LSTM into a bidirectional GRU into a softmax head; "
                                                     "lengths 3, 6, 1; cross-entropy on a label at each stream's "
                                                     "own last step; SGD with momentum",
         seed=206, input_size=2, batch=3, steps=6, lengths=[3, 6, 1],
         layers=[{"type": "lstm", "hidden_size": 5}, {"type": "gru", "hidden_size": 3, "direction": BI},
                 {"type": "dense", "units": 3, "activation": "softmax"}],
         train=dict(config={"loss": "cross_entropy", "targets": "last",
                            "optimizer": {"type": "sgd", "learning_rate": 0.2, "momentum": 0.9}},
                    steps=3, targets="labels")),
    dict(name="bilstm2_probs_lengths", description="two bidirectional LSTM layers (nn.LSTM(num_layers=2, "
                                                   "bidirectional=True): the second takes 2H inputs) and a "
                                                   "linear head; lengths 4, 7; cross-entropy on probabilities "
                                                   "over the valid steps; Adam with clipping (active)",
         seed=207, input_size=3, batch=2, steps=7, lengths=[4, 7],
         layers=[{"type": "lstm", "hidden_size": 3, "direction": BI},
                 {"type": "lstm", "hidden_size": 3, "direction": BI}, {"type": "dense", "units": 3}],
         train=dict(config={"loss": "cross_entropy", "optimizer": ADAM, "clip_gradient_norm": 0.3},
                    steps=2, targets="probs", clipped=True)),
    dict(name="birnn_relu_last_lengths", description="bidirectional relu RNN as the last layer (output 2H), "
                                                     "lengths 2, 5, 4; mse at each stream's own last step; SGD",
         seed=208, input_size=3, batch=3, steps=5, lengths=[2, 5, 4],
         layers=[{"type": "rnn", "hidden_size": 3, "activation": "relu", "direction": BI}],
         train=dict(config={"loss": "mse", "targets": "last", "optimizer": {"type": "sgd", "learning_rate": 0.1}},
                    steps=2, targets="normal")),
    dict(name="dense_bigru_lengths", description="dense tanh layer first (it sees the padding, which must not "
                                                 "matter), bidirectional GRU with bias_hh only, linear head; "
                                                 "lengths 4, 1; mse over the valid steps; Adam with weight decay",
         seed=209, input_size=2, batch=2, steps=4, lengths=[4, 1],
         layers=[{"type": "dense", "units": 4, "activation": "tanh"},
                 {"type": "gru", "hidden_size": 3, "direction": BI, "bias": "hh"}, {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "optimizer": dict(ADAM, weight_decay=0.05)}, steps=2,
                    targets="normal")),
    # Per-stream lengths, forward layers only.
    dict(name="gru_lengths_zero", description="GRU and a linear head, lengths 0, 5, 3, 1: a zero-length stream "
                                              "outputs 0 and keeps its zero state; run only",
         seed=210, input_size=3, batch=4, steps=5, lengths=[0, 5, 3, 1],
         layers=[{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 2}]),
    dict(name="lstm2_probs_lengths", description="two LSTM layers (nn.LSTM(num_layers=2)) and a softmax head; "
                                                 "lengths 6, 3, 5; cross-entropy on probabilities over the "
                                                 "valid steps; Adam",
         seed=211, input_size=3, batch=3, steps=6, lengths=[6, 3, 5],
         layers=[{"type": "lstm", "hidden_size": 4}, {"type": "lstm", "hidden_size": 4},
                 {"type": "dense", "units": 3, "activation": "softmax"}],
         train=dict(config={"loss": "cross_entropy", "optimizer": ADAM}, steps=2, targets="probs")),
    dict(name="gru_bce_last_lengths", description="GRU and a sigmoid head, lengths 2, 6, 4; binary cross-entropy "
                                                  "at each stream's own last step; Adam",
         seed=212, input_size=2, batch=3, steps=6, lengths=[2, 6, 4],
         layers=[{"type": "gru", "hidden_size": 4}, {"type": "dense", "units": 1, "activation": "sigmoid"}],
         train=dict(config={"loss": "binary_cross_entropy", "targets": "last", "optimizer": ADAM},
                    steps=2, targets="binary")),
    dict(name="rnn_lstm_stateful_lengths", description="tanh RNN into LSTM into a linear head, lengths 5, 2, 4; "
                                                       "stateful training (each stream carries its state after its "
                                                       "own last step); mse over the valid steps; SGD clipped",
         seed=213, input_size=3, batch=3, steps=5, lengths=[5, 2, 4],
         layers=[{"type": "rnn", "hidden_size": 4}, {"type": "lstm", "hidden_size": 3}, {"type": "dense", "units": 2}],
         train=dict(config={"loss": "mse", "optimizer": {"type": "sgd", "learning_rate": 0.1},
                            "clip_gradient_norm": 0.2, "stateful": True},
                    steps=3, targets="normal", clipped=True)),
    dict(name="lstm_labels_last_lengths", description="LSTM and a linear head, lengths 1, 4, 3; cross-entropy on "
                                                      "a label at each stream's own last step; AdamW",
         seed=214, input_size=3, batch=3, steps=4, lengths=[1, 4, 3],
         layers=[{"type": "lstm", "hidden_size": 5}, {"type": "dense", "units": 4}],
         train=dict(config={"loss": "cross_entropy", "targets": "last",
                            "optimizer": {"type": "adamw", "learning_rate": 0.01, "epsilon": 0.0001}},
                    steps=2, targets="labels")),
]
