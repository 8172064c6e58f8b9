"""recur.convert.from_torch_state_dict (numpy, never skipped) and from_torch (real torch modules)."""

import os
import subprocess
import sys

import numpy as np
import pytest

import recur
from recur.convert import from_torch, from_torch_state_dict

import reference_numpy
from conftest import ROOT, TESTDATA, assert_close, load_case, torch_available

needs_torch = pytest.mark.skipif(not torch_available(), reason="torch is not installed")
RNG = np.random.default_rng(7)


def random(*shape):
    return RNG.uniform(-0.6, 0.6, shape).astype(np.float32)


def lstm_state_dict(prefix, input_size, hidden, layers, bias=True):
    state = {}
    for k in range(layers):
        inputs = input_size if k == 0 else hidden
        state[f"{prefix}weight_ih_l{k}"] = random(4 * hidden, inputs)
        state[f"{prefix}weight_hh_l{k}"] = random(4 * hidden, hidden)
        if bias:
            state[f"{prefix}bias_ih_l{k}"] = random(4 * hidden)
            state[f"{prefix}bias_hh_l{k}"] = random(4 * hidden)
    return state


def recur_outputs(document, xs):
    with recur.Model.from_dict(document) as model, model.state(xs.shape[0]) as state:
        return state.run(xs)


def expected_lstm_document(state, prefix, layers, hidden, head=None):
    """The document written out by hand: torch layer k -> Recur layer k, same tensors."""
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    result = [{"type": "lstm", "hidden_size": hidden,
               "weights": {n: state[f"{prefix}{n}_l{k}"] for n in names if f"{prefix}{n}_l{k}" in state}}
              for k in range(layers)]
    if head:
        result.append(head)
    return {"layers": result}


def test_two_layer_lstm_and_softmax_head_from_a_numpy_state_dict():
    # input_size == hidden_size: loading layer 0's tensors into layer 1 would not even fail on shapes
    state = lstm_state_dict("rnn.", 3, 3, 2)
    state["head.weight"], state["head.bias"] = random(4, 3), random(4)
    document = from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn", "num_layers": 2},
                                             {"type": "dense", "prefix": "head", "activation": "softmax"}])
    assert [layer["type"] for layer in document["layers"]] == ["lstm", "lstm", "dense"]
    assert document["input_size"] == 3 and document["metadata"]["converted_from"] == "pytorch"
    second = document["layers"][1]["weights"]
    assert np.array_equal(reference_numpy.tensor(second["weight_ih"]), state["rnn.weight_ih_l1"])
    xs = random(2, 9, 3)
    head = {"type": "dense", "activation": "softmax",
            "weights": {"weight": state["head.weight"], "bias": state["head.bias"]}}
    expected = reference_numpy.run(expected_lstm_document(state, "rnn.", 2, 3, head), xs)
    assert_close(recur_outputs(document, xs), expected, "outputs")


def test_the_rtneural_torch_helper_multi_layer_mistake_changes_the_outputs():
    """RTNeural's torch_helpers.h loadLSTM/loadGRU read "<prefix>weight_ih_l0" etc. whatever the layer:
    loading a 2-layer nn.LSTM layer by layer with it puts layer 0's weights into layer 1 (silently when
    input_size == hidden_size), and python/model_utils_torch.py exports only the _l0 tensors.
    Recur maps torch layer k to Recur layer k."""
    state = lstm_state_dict("rnn.", 3, 3, 2)
    right = from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn", "num_layers": 2}])
    as_rtneural = {key.replace("_l1", "_l0_"): value for key, value in state.items()}  # hide layer 1 ...
    as_rtneural.update({key.replace("_l0", "_l1"): value for key, value in state.items() if "_l0" in key})
    wrong = from_torch_state_dict(as_rtneural, [{"type": "lstm", "prefix": "rnn", "num_layers": 2}], strict=False)
    xs = random(1, 12, 3)
    expected = reference_numpy.run(expected_lstm_document(state, "rnn.", 2, 3), xs)
    assert_close(recur_outputs(right, xs), expected, "per-layer weights")
    assert np.abs(recur_outputs(wrong, xs) - expected).max() > 1e-2, "layer 0's weights in layer 1 went unnoticed"


def test_strict_refuses_unused_keys_such_as_a_missing_layer():
    state = lstm_state_dict("rnn.", 3, 3, 2)
    with pytest.raises(recur.ConversionError, match=r"not used.*rnn\.weight_ih_l1"):
        from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn"}])
    document = from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn"}], strict=False)
    assert len(document["layers"]) == 1


def test_missing_tensors_are_named():
    state = lstm_state_dict("rnn.", 3, 3, 1)
    with pytest.raises(recur.ConversionError, match=r"no 'rnn\.weight_ih_l1'.*rnn\.bias_hh_l0"):
        from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn", "num_layers": 2}])
    with pytest.raises(recur.ConversionError, match=r"no 'encoder\.weight_ih_l0'"):
        from_torch_state_dict(state, [{"type": "lstm", "prefix": "encoder"}])


def test_projection_is_refused():
    state = lstm_state_dict("", 2, 4, 1)
    projected = dict(state, weight_hr_l0=random(2, 4))
    with pytest.raises(recur.ConversionError, match="proj_size"):
        from_torch_state_dict(projected, [{"type": "lstm"}])


# ---- bidirectional state_dicts, against the PyTorch-made cases of Tests/testdata/sequences ----

SEQUENCES = TESTDATA / "sequences"
BIDIRECTIONAL_CASES = sorted(path.stem for path in SEQUENCES.glob("*.json")
                             if any(layer.get("direction") == "bidirectional"
                                    for layer in load_case(path)["model"]["layers"]))


def as_torch_state_dict(model):
    """A sequences/ case's model as the state_dict of torch modules, and its architecture: consecutive
    recurrent layers of one kind, direction and bias become one module with num_layers (as PyTorch
    names them: weight_ih_l1_reverse is layer 1's backward cell)."""
    state, architecture = {}, []
    for layer in model["layers"]:
        weights = {name: reference_numpy.tensor(value) for name, value in layer["weights"].items()}
        kind = layer["type"]
        bidirectional = layer.get("direction") == "bidirectional"
        if kind == "dense":
            entry = {"type": "dense", "prefix": f"m{len(architecture)}", "activation": layer.get("activation", "linear")}
            state.update((f"{entry['prefix']}.{name}", value) for name, value in weights.items())
            architecture.append(entry)
            continue
        previous = architecture[-1] if architecture else {}
        same = (previous.get("type") == kind and previous.get("bidirectional") == bidirectional
                and previous.get("activation") == layer.get("activation")
                and previous.get("_names") == sorted(weights))
        if not same:
            previous = {"type": kind, "prefix": f"m{len(architecture)}", "num_layers": 0,
                        "bidirectional": bidirectional, "_names": sorted(weights)}
            if kind == "rnn":
                previous["activation"] = layer.get("activation", "tanh")
            architecture.append(previous)
        k = previous["num_layers"]
        previous["num_layers"] += 1
        for name, value in weights.items():
            base, reverse = (name[:-len("_reverse")], "_reverse") if name.endswith("_reverse") else (name, "")
            state[f"{previous['prefix']}.{base}_l{k}{reverse}"] = value
    for entry in architecture:
        entry.pop("_names", None)
    return state, architecture


@pytest.mark.parametrize("name", BIDIRECTIONAL_CASES)
@pytest.mark.parametrize("say_it", [True, False], ids=["bidirectional_given", "bidirectional_inferred"])
def test_bidirectional_state_dicts_match_pytorch_made_cases(name, say_it):
    case = load_case(SEQUENCES / f"{name}.json")
    state, architecture = as_torch_state_dict(case["model"])
    if not say_it:
        for entry in architecture:
            entry.pop("bidirectional", None)
    document = from_torch_state_dict(state, architecture)
    assert [layer.get("direction", "forward") for layer in document["layers"] if layer["type"] != "dense"] == \
        [layer.get("direction", "forward") for layer in case["model"]["layers"] if layer["type"] != "dense"]
    xs = np.asarray(case["input"], np.float32).reshape(case["batch"], case["steps"], -1)
    with recur.Model.from_dict(document) as model, model.state(case["batch"]) as recur_state:
        assert_close(recur_state.run(xs, lengths=case.get("lengths")).ravel(), case["output"], name)


def test_a_two_layer_bidirectional_stack_reads_layer_k_reverse():
    state, architecture = as_torch_state_dict(load_case(SEQUENCES / "bilstm2_probs_lengths.json")["model"])
    assert architecture[0]["num_layers"] == 2 and state["m0.weight_ih_l1_reverse"].shape == (12, 6)
    document = from_torch_state_dict(state, architecture)
    second = document["layers"][1]
    assert second["direction"] == "bidirectional" and second["weights"]["weight_ih_reverse"]["shape"] == [12, 6]
    assert np.array_equal(reference_numpy.tensor(second["weights"]["weight_hh_reverse"]), state["m0.weight_hh_l1_reverse"])


def test_bidirectional_state_dict_mistakes_are_named():
    state = lstm_state_dict("rnn.", 2, 4, 1)
    reverse = dict(state, **{f"rnn.{key}_reverse": value for key, value in lstm_state_dict("", 2, 4, 1).items()})
    with pytest.raises(recur.ConversionError, match=r"not used.*_reverse.*\"bidirectional\": true"):
        from_torch_state_dict(reverse, [{"type": "lstm", "prefix": "rnn", "bidirectional": False}])
    with pytest.raises(recur.ConversionError, match=r"no 'rnn\.weight_ih_l0_reverse'"):
        from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn", "bidirectional": True}])
    no_reverse_bias = {key: value for key, value in reverse.items() if key != "rnn.bias_hh_l0_reverse"}
    with pytest.raises(recur.ConversionError, match=r"no 'rnn\.bias_hh_l0_reverse'"):
        from_torch_state_dict(no_reverse_bias, [{"type": "lstm", "prefix": "rnn"}])
    only_reverse_bias = {key: value for key, value in reverse.items() if key != "rnn.bias_ih_l0"}
    with pytest.raises(recur.ConversionError, match="has bias_ih_reverse but no bias_ih"):
        from_torch_state_dict(only_reverse_bias, [{"type": "lstm", "prefix": "rnn"}])
    wrong_shape = dict(reverse, **{"rnn.weight_ih_l0_reverse": random(16, 3)})
    with pytest.raises(recur.ConversionError, match=r"weight_ih_reverse has shape \[16, 3\], expected \[16, 2\]"):
        from_torch_state_dict(wrong_shape, [{"type": "lstm", "prefix": "rnn"}])
    with pytest.raises(recur.ConversionError, match="bidirectional must be true or false"):
        from_torch_state_dict(reverse, [{"type": "lstm", "prefix": "rnn", "bidirectional": "yes"}])
    reverse["head.weight"] = random(1, 4)  # a bidirectional layer gives 2 * hidden_size = 8 outputs
    with pytest.raises(recur.ConversionError, match="takes 4 inputs.*gives 8 outputs"):
        from_torch_state_dict(reverse, [{"type": "lstm", "prefix": "rnn"}, {"type": "dense", "prefix": "head"}])


def test_architecture_typos_are_refused():
    state = lstm_state_dict("", 2, 4, 1)
    with pytest.raises(recur.ConversionError, match="num_layer"):
        from_torch_state_dict(state, [{"type": "lstm", "num_layer": 1}])
    with pytest.raises(recur.ConversionError, match="unknown type 'transformer'"):
        from_torch_state_dict(state, [{"type": "transformer"}])
    with pytest.raises(recur.ConversionError, match="activation 'gelu'"):
        from_torch_state_dict({"weight": random(2, 2)}, [{"type": "linear", "activation": "gelu"}])
    with pytest.raises(recur.ConversionError, match="does not look|weight_hh"):
        from_torch_state_dict(state, [{"type": "gru"}])  # LSTM tensors called a GRU
    with pytest.raises(recur.ConversionError, match="num_layers"):
        from_torch_state_dict(state, [{"type": "lstm", "num_layers": 0}])


def test_relu_rnn_without_biases_and_a_bare_prefix():
    state = {"weight_ih_l0": random(5, 2), "weight_hh_l0": random(5, 5)}
    document = from_torch_state_dict(state, [{"type": "rnn", "activation": "relu"}])
    layer = document["layers"][0]
    assert layer["activation"] == "relu" and set(layer["weights"]) == {"weight_ih", "weight_hh"}
    xs = random(3, 6, 2)
    assert_close(recur_outputs(document, xs), reference_numpy.run(
        {"layers": [{"type": "rnn", "activation": "relu", "hidden_size": 5,
                     "weights": {"weight_ih": state["weight_ih_l0"], "weight_hh": state["weight_hh_l0"]}}]}, xs),
        "relu rnn")
    with recur.Model.from_dict(document) as model:
        assert model.parameter_count == 10 + 25


def test_sizes_that_do_not_chain_are_refused():
    state = lstm_state_dict("rnn.", 2, 4, 1)
    state["head.weight"] = random(1, 5)
    with pytest.raises(recur.ConversionError, match="takes 5 inputs.*gives 4 outputs"):
        from_torch_state_dict(state, [{"type": "lstm", "prefix": "rnn"}, {"type": "dense", "prefix": "head"}])


# ---- real PyTorch modules -------------------------------------------------------------


def torch_outputs(modules, xs, batch_first=True):
    import torch
    with torch.no_grad():
        h = torch.from_numpy(xs if batch_first else np.ascontiguousarray(xs.transpose(1, 0, 2)))
        for module in modules:
            h = module(h)
            if isinstance(h, tuple):
                h = h[0]
        h = h.numpy()
    return h if batch_first else h.transpose(1, 0, 2)


@needs_torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [True, False])
def test_multi_layer_recurrent_modules_match_torch(kind, batch_first):
    import torch
    torch.manual_seed(3)
    module = getattr(torch.nn, kind)(4, 6, num_layers=3, batch_first=batch_first)
    modules = [module.eval(), torch.nn.Linear(6, 2)]
    document = from_torch(modules)
    assert len(document["layers"]) == 4
    xs = random(3, 11, 4)
    assert_close(recur_outputs(document, xs), torch_outputs(modules, xs, batch_first), f"{kind} outputs")


@needs_torch
def test_relu_rnn_without_bias_matches_torch():
    import torch
    torch.manual_seed(4)
    modules = [torch.nn.RNN(3, 5, num_layers=2, nonlinearity="relu", bias=False, batch_first=True)]
    document = from_torch(modules)
    assert all(set(layer["weights"]) == {"weight_ih", "weight_hh"} for layer in document["layers"])
    assert document["layers"][0]["activation"] == "relu"
    xs = random(2, 8, 3)
    assert_close(recur_outputs(document, xs), torch_outputs(modules, xs), "relu rnn outputs")


@needs_torch
def test_sequential_with_linear_and_softmax_matches_torch():
    import torch
    torch.manual_seed(5)
    sequential = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4, bias=False),
                                     torch.nn.Softmax(dim=-1))
    document = from_torch(sequential)
    assert [layer["activation"] for layer in document["layers"]] == ["tanh", "softmax"]
    assert "bias" not in document["layers"][1]["weights"]
    xs = random(2, 5, 3)
    assert_close(recur_outputs(document, xs), torch_outputs([sequential], xs), "sequential outputs")


@needs_torch
def test_lstm_with_dropout_then_head_matches_torch_in_eval_mode():
    import torch
    torch.manual_seed(6)
    modules = [torch.nn.LSTM(2, 5, num_layers=2, dropout=0.3, batch_first=True), torch.nn.Dropout(0.1),
               torch.nn.Linear(5, 1), torch.nn.Sigmoid()]
    document = from_torch(modules)
    assert len(document["metadata"]["notes"]) == 2 and "dropout" in document["metadata"]["notes"][0]
    for module in modules:
        module.eval()
    xs = random(2, 7, 2)
    assert_close(recur_outputs(document, xs), torch_outputs(modules, xs), "outputs")


@needs_torch
def test_the_rtneural_torch_helper_mistake_with_a_real_module():
    import torch
    torch.manual_seed(8)
    lstm = torch.nn.LSTM(4, 4, num_layers=2, batch_first=True)
    xs = random(1, 10, 4)
    expected = torch_outputs([lstm], xs)
    assert_close(recur_outputs(from_torch([lstm]), xs), expected, "from_torch")
    state = {key: value for key, value in lstm.state_dict().items()}
    assert_close(recur_outputs(from_torch_state_dict(state, [{"type": "lstm", "num_layers": 2}]), xs),
                 expected, "from_torch_state_dict with torch tensors")
    # What torch_helpers.h does when a user loads both layers with the same prefix: _l0 twice.
    l0_twice = {key.replace("_l0", f"_l{k}"): value for k in (0, 1) for key, value in state.items() if "_l0" in key}
    wrong = recur_outputs(from_torch_state_dict(l0_twice, [{"type": "lstm", "num_layers": 2}]), xs)
    assert np.abs(wrong - expected).max() > 1e-2


@needs_torch
def test_unsupported_torch_modules_are_refused():
    import torch
    nn = torch.nn
    with pytest.raises(recur.ConversionError, match="proj_size"):
        from_torch([nn.LSTM(2, 4, proj_size=2)])
    with pytest.raises(recur.ConversionError, match="proj_size"):
        from_torch([nn.LSTM(2, 4, proj_size=2, bidirectional=True)])
    with pytest.raises(recur.ConversionError, match=r"modules\[1\] \(ReLU\).*directly after an nn.Linear"):
        from_torch([nn.LSTM(2, 4), nn.ReLU()])
    with pytest.raises(recur.ConversionError, match="dim=-1"):
        from_torch([nn.Linear(2, 4), nn.Softmax(dim=1)])
    with pytest.raises(recur.ConversionError, match="Conv1d is not supported"):
        from_torch([nn.Conv1d(2, 4, 3)])
    with pytest.raises(recur.ConversionError, match="expected torch modules"):
        from_torch(["lstm"])


def torch_module(kind, *args, **kwargs):
    """nn.RNN / nn.LSTM / nn.GRU by name; "RNN_relu" is nn.RNN(nonlinearity="relu")."""
    import torch
    if kind == "RNN_relu":
        return torch.nn.RNN(*args, nonlinearity="relu", **kwargs)
    return getattr(torch.nn, kind)(*args, **kwargs)


@needs_torch
@pytest.mark.parametrize("kind", ["RNN", "RNN_relu", "LSTM", "GRU"])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_bidirectional_modules_match_torch(kind, num_layers):
    import torch
    torch.manual_seed(11)
    module = torch_module(kind, 3, 5, num_layers=num_layers, bidirectional=True, batch_first=True).eval()
    document = from_torch([module])
    assert [layer["direction"] for layer in document["layers"]] == ["bidirectional"] * num_layers
    assert [layer["weights"]["weight_ih"]["shape"][1] for layer in document["layers"]] == [3, 10][:num_layers]
    xs = random(3, 9, 3)
    outputs = recur_outputs(document, xs)
    assert outputs.shape == (3, 9, 10)
    assert_close(outputs, torch_outputs([module], xs), f"bidirectional {kind}, num_layers={num_layers}")


@needs_torch
@pytest.mark.parametrize("batch_first", [True, False])
def test_bidirectional_stacks_mixed_with_forward_layers_and_a_head_match_torch(batch_first):
    import torch
    nn = torch.nn
    torch.manual_seed(12)
    stacks = [
        [nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first),
         nn.GRU(8, 5, batch_first=batch_first), nn.Linear(5, 2)],
        [nn.GRU(3, 5, batch_first=batch_first), nn.RNN(5, 4, bidirectional=True, bias=False, batch_first=batch_first),
         nn.Linear(8, 3), nn.Softmax(dim=-1)],
        nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.GRU(6, 4, bidirectional=True, batch_first=batch_first),
                      nn.Dropout(0.2), nn.LSTM(8, 3, batch_first=batch_first), nn.Linear(3, 1)),
    ]
    xs = random(2, 8, 3)
    for modules in stacks:
        modules = list(modules)
        for module in modules:
            module.eval()
        document = from_torch(modules)
        assert_close(recur_outputs(document, xs), torch_outputs(modules, xs, batch_first),
                     " + ".join(type(module).__name__ for module in modules))


@needs_torch
def test_a_module_of_your_own_with_a_bidirectional_lstm_matches_torch():
    import torch
    nn = torch.nn

    class BiTagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 6, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Linear(12, 4)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out)

    torch.manual_seed(13)
    net = BiTagger().eval()
    document = from_torch(net)
    assert [layer["type"] for layer in document["layers"]] == ["lstm", "lstm", "dense"]
    xs = random(2, 7, 3)
    with torch.no_grad():
        assert_close(recur_outputs(document, xs), net(torch.from_numpy(xs)).numpy(), "BiTagger")


def torch_packed_outputs(modules, xs, lengths):
    """PyTorch's packed-sequence run: pack_padded_sequence(enforce_sorted=False) through the recurrent
    modules, pad_packed_sequence back (zeros past each length), then the rest."""
    import torch
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    with torch.no_grad():
        h = pack_padded_sequence(torch.from_numpy(xs), torch.tensor(lengths), batch_first=True,
                                 enforce_sorted=False)
        for module in modules:
            if isinstance(module, (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU)):
                h = module(h)[0]
            else:
                if not isinstance(h, torch.Tensor):
                    h = pad_packed_sequence(h, batch_first=True, total_length=xs.shape[1])[0]
                h = module(h)
        if not isinstance(h, torch.Tensor):
            h = pad_packed_sequence(h, batch_first=True, total_length=xs.shape[1])[0]
    return h.numpy()


@needs_torch
@pytest.mark.parametrize("kind", ["RNN_relu", "LSTM", "GRU"])
def test_packed_sequences_match_run_with_lengths(kind):
    import torch
    torch.manual_seed(14)
    lengths = [5, 9, 1, 7]
    xs = random(4, 9, 3)
    for stream, length in enumerate(lengths):
        xs[stream, length:] = 100.0  # padding that would change every output if it were read
    stacks = [[torch_module(kind, 3, 4, num_layers=2, bidirectional=True, batch_first=True)],
              [torch_module(kind, 3, 4, bidirectional=True, batch_first=True), torch.nn.LSTM(8, 5, batch_first=True)]]
    for modules in stacks:
        document = from_torch(modules)
        with recur.Model.from_dict(document) as model, model.state(len(lengths)) as state:
            outputs = state.run(xs, lengths=lengths)
        expected = torch_packed_outputs(modules, xs, lengths)
        for stream, length in enumerate(lengths):
            assert not outputs[stream, length:].any() and not expected[stream, length:].any(), \
                "outputs past a stream's length are 0 in both"
        assert_close(outputs, expected, f"packed {kind} stack of {len(modules)}")
        # The backward cell starts at each stream's own last step: a stream alone, cut to its length, agrees.
        for stream, length in enumerate(lengths):
            assert_close(outputs[stream:stream + 1, :length], torch_outputs(modules, xs[stream:stream + 1, :length]),
                         f"stream {stream} alone")


@needs_torch
def test_packed_sequences_through_a_bidirectional_tagger_with_a_head():
    import torch
    torch.manual_seed(15)
    lengths = [3, 6, 2]
    modules = [torch.nn.GRU(2, 4, bidirectional=True, batch_first=True), torch.nn.Linear(8, 3),
               torch.nn.Softmax(dim=-1)]
    xs = random(3, 6, 2)
    with recur.Model.from_dict(from_torch(modules)) as model, model.state(3) as state:
        outputs = state.run(xs, lengths=lengths)
    expected = torch_packed_outputs(modules, xs, lengths)  # the head runs on padded zeros too
    for stream, length in enumerate(lengths):
        assert not outputs[stream, length:].any(), "Recur writes 0 past a stream's length, after the head too"
        assert_close(outputs[stream, :length], expected[stream, :length], f"stream {stream}")


@needs_torch
def test_a_converted_bidirectional_model_runs_whole_sequences_only():
    import torch
    document = from_torch([torch.nn.GRU(2, 3, bidirectional=True)])
    with recur.Model.from_dict(document) as model, model.state(1) as state:
        with pytest.raises(recur.RecurError, match="bidirectional"):
            state.step(np.zeros((1, 2), np.float32))


def custom_modules():
    """Modules of a user's own: children that are supported layers, in various orders and styles."""
    import torch
    nn = torch.nn

    class Tagger(nn.Module):  # assigned in the order they run
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 8, num_layers=2, batch_first=True)
            self.head = nn.Linear(8, 4)
            self.act = nn.Softmax(dim=-1)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.act(self.head(out))

    class HeadFirst(nn.Module):  # assigned head first, run GRU first: forward decides
        def __init__(self):
            super().__init__()
            self.head = nn.Linear(5, 2)
            self.squash = nn.Tanh()
            self.gru = nn.GRU(3, 5, batch_first=True)
            self.drop = nn.Dropout(0.2)

        def forward(self, x):
            return self.squash(self.head(self.drop(self.gru(x)[0])))

    class Nested(nn.Module):  # a Sequential child and a module of its own inside
        def __init__(self):
            super().__init__()
            self.encoder = Tagger()
            self.decoder = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return Tagger, HeadFirst, Nested


@needs_torch
def test_modules_of_your_own_are_converted_in_the_order_forward_calls_their_children():
    import torch
    torch.manual_seed(3)
    xs = random(2, 6, 3)
    for cls in custom_modules():
        net = cls().eval()
        document = from_torch(net)
        with torch.no_grad():
            expected = net(torch.from_numpy(xs)).numpy()
        assert_close(recur_outputs(document, xs), expected, cls.__name__)


@needs_torch
def test_modules_of_your_own_that_use_functions_say_how_to_pass_the_layers():
    import torch
    nn = torch.nn

    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(2, 4, batch_first=True)
            self.out = nn.Linear(4, 1)

        def forward(self, x):
            return self.out(torch.relu(self.rnn(x)[0]))

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.Linear(2, 2)

        def forward(self, x):
            return self.layer(self.layer(x))

    with pytest.raises(recur.ConversionError, match=r"applies relu \(not a module\).*"
                                                    r"recur\.convert\.from_torch\(\[Functional\.rnn, Functional\.out\]\)"):
        from_torch(Functional())
    with pytest.raises(recur.ConversionError, match="calls layer more than once"):
        from_torch(Twice())


@needs_torch
def test_a_forward_that_cannot_be_traced_falls_back_to_the_order_of_assignment():
    import torch
    nn = torch.nn

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(2, 4, batch_first=True)
            self.head = nn.Linear(4, 1)

        def forward(self, x):
            if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace it
                x = x * 1
            return self.head(self.lstm(x)[0])

    torch.manual_seed(4)
    net = Branchy()
    document = from_torch(net)
    assert any("could not be traced" in note and "lstm, head" in note for note in document["metadata"]["notes"])
    xs = random(1, 5, 2)
    with torch.no_grad():
        assert_close(recur_outputs(document, xs), net(torch.from_numpy(xs)).numpy(), "Branchy")


def test_the_package_and_the_state_dict_converter_never_import_torch():
    code = ("import sys, numpy as np, recur\n"
            "recur.convert.from_torch_state_dict({'weight': np.ones((1, 2))}, [{'type': 'dense'}])\n"
            "print(sorted(m for m in ('torch', 'keras', 'tensorflow') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python")))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
