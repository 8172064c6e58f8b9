"""PyTorch -> Recur: from modules (imports torch) or from a state_dict (does not)."""

import re

from ..errors import ConversionError
from ._document import array, dense_layer, model_document, recurrent_layer

_ENTRY_KEYS = {
    "rnn": {"type", "prefix", "num_layers", "activation"},
    "lstm": {"type", "prefix", "num_layers"},
    "gru": {"type", "prefix", "num_layers"},
    "dense": {"type", "prefix", "activation"},
}


def from_torch_state_dict(state_dict, architecture, strict=True):
    """A Recur model document from a PyTorch state_dict, without importing torch.

    state_dict maps names to torch tensors or numpy arrays (as
    `module.state_dict()` or `torch.load(path, weights_only=True)` give).
    architecture lists the layers in order, each a dict:

        {"type": "lstm" | "gru" | "rnn", "prefix": "rnn", "num_layers": 2}
            an nn.LSTM / nn.GRU / nn.RNN whose tensors are
            "<prefix>.weight_ih_l<k>", "<prefix>.weight_hh_l<k>" and, when the
            module has biases, "<prefix>.bias_ih_l<k>", "<prefix>.bias_hh_l<k>"
            for k < num_layers (default 1). Each k becomes one Recur layer.
            "rnn" also takes "activation": "tanh" (default) | "relu"
            (the module's nonlinearity).
        {"type": "dense", "prefix": "head", "activation": "softmax"}
            an nn.Linear: "<prefix>.weight" and optional "<prefix>.bias";
            "activation": "linear" (default) | "relu" | "tanh" | "sigmoid" |
            "softmax" is applied after it. "linear" is accepted as a type alias.

    prefix "" means the keys have no prefix (a bare nn.LSTM's state_dict).
    Hidden and input sizes come from the tensors' shapes. Bidirectional
    modules (keys ending in "_reverse") and LSTMs with proj_size (weight_hr)
    are refused. With strict=True (default), a state_dict key that no layer
    uses is an error: it usually means a num_layers or a layer is missing.
    """
    if not isinstance(architecture, (list, tuple)):
        raise ConversionError("architecture must be a list of layer descriptions")
    tensors = {str(key): value for key, value in state_dict.items()}
    used = set()
    layers, sources = [], []

    def take(key, where, required=True):
        if key not in tensors:
            if not required:
                return None
            near = sorted(name for name in tensors if name.startswith(key.rsplit(".", 1)[0]))
            hint = f"; keys with that prefix: {', '.join(near)}" if near and "." in key else ""
            raise ConversionError(f"{where}: state_dict has no {key!r}{hint}")
        used.add(key)
        return array(tensors[key], key)

    for position, entry in enumerate(architecture):
        where = f"architecture[{position}]"
        kind, prefix = _check_entry(entry, where)
        if kind == "dense":
            weight = take(prefix + "weight", where)
            bias = take(prefix + "bias", where, required=False)
            layers.append(dense_layer(weight, bias, entry.get("activation", "linear"), where))
            sources.append(f"{where} (dense {prefix!r})")
            continue
        num_layers = entry.get("num_layers", 1)
        if not isinstance(num_layers, int) or isinstance(num_layers, bool) or num_layers < 1:
            raise ConversionError(f"{where}: num_layers must be an integer >= 1, got {num_layers!r}")
        for key in tensors:
            if key.startswith(prefix) and re.fullmatch(r"(weight|bias)_(ih|hh)_l\d+_reverse", key[len(prefix):]):
                raise ConversionError(f"{where}: {key!r} belongs to a bidirectional {kind}, "
                                      "which Recur does not support (it runs forward in time only)")
            if key.startswith(prefix) and re.fullmatch(r"weight_hr_l\d+", key[len(prefix):]):
                raise ConversionError(f"{where}: {key!r} belongs to an LSTM with proj_size > 0, "
                                      "which Recur does not support")
        for k in range(num_layers):
            layer_where = f"{where} ({kind} {prefix!r}, layer {k})"
            layers.append(recurrent_layer(
                kind,
                take(f"{prefix}weight_ih_l{k}", layer_where),
                take(f"{prefix}weight_hh_l{k}", layer_where),
                take(f"{prefix}bias_ih_l{k}", layer_where, required=False),
                take(f"{prefix}bias_hh_l{k}", layer_where, required=False),
                entry.get("activation", "tanh") if kind == "rnn" else None,
                layer_where))
            sources.append(layer_where)

    unused = [key for key in tensors if key not in used]
    if strict and unused:
        raise ConversionError(f"state_dict keys not used by the architecture: {', '.join(unused)} "
                              "(a layer or num_layers missing? pass strict=False to ignore them)")
    metadata = {"converted_from": "pytorch", "architecture": [dict(entry) for entry in architecture]}
    return model_document(layers, metadata, sources)


def _check_entry(entry, where):
    """(kind, key prefix with its trailing dot) of an architecture entry."""
    if not isinstance(entry, dict):
        raise ConversionError(f"{where}: expected a dict like {{'type': 'lstm', 'prefix': 'rnn'}}")
    kind = entry.get("type")
    kind = "dense" if kind == "linear" else kind
    if kind not in _ENTRY_KEYS:
        raise ConversionError(f"{where}: unknown type {entry.get('type')!r} "
                              "(expected rnn, lstm, gru, dense or linear)")
    unknown = set(entry) - _ENTRY_KEYS[kind]
    if unknown:
        raise ConversionError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} for a {kind} layer "
                              f"(expected {', '.join(sorted(_ENTRY_KEYS[kind]))})")
    prefix = entry.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConversionError(f"{where}: prefix must be a string")
    prefix = prefix.rstrip(".")
    return kind, prefix + "." if prefix else ""


def from_torch(modules):
    """A Recur model document from PyTorch modules (imports torch).

    modules is an nn.Sequential, a list of modules, or one module:
      - nn.RNN (tanh or relu), nn.LSTM, nn.GRU with any num_layers (one Recur
        layer per torch layer), batch_first either way, with or without
        biases. Refused: bidirectional=True, proj_size > 0. dropout between
        layers only acts in training; it is ignored and noted in metadata.
      - nn.Linear, optionally followed directly by nn.ReLU, nn.Tanh,
        nn.Sigmoid or nn.Softmax(dim=-1), which becomes its activation.
        An activation anywhere else is refused.
      - nn.Dropout and nn.Identity are inference no-ops and are skipped.
    Nested nn.Sequential modules are flattened.
    """
    import torch.nn as nn  # only here: the rest of the package never needs torch

    activations = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softmax: "softmax"}
    recurrent = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}
    architecture, state_dict, notes, names = [], {}, [], []
    previous_is_linear = False
    for position, module in enumerate(_flatten(modules, nn)):
        name = type(module).__name__
        where = f"modules[{position}] ({name})"
        names.append(name)
        prefix = str(position)
        kind = next((k for cls, k in recurrent.items() if type(module) is cls), None)
        activation = next((a for cls, a in activations.items() if type(module) is cls), None)
        if kind:
            if module.bidirectional:
                raise ConversionError(f"{where}: bidirectional=True is not supported "
                                      "(Recur runs forward in time only)")
            if getattr(module, "proj_size", 0):
                raise ConversionError(f"{where}: proj_size={module.proj_size} is not supported")
            if module.dropout:
                notes.append(f"{where}: dropout={module.dropout} between layers acts only in "
                             "training and was dropped")
            entry = {"type": kind, "prefix": prefix, "num_layers": module.num_layers}
            if kind == "rnn":
                entry["activation"] = module.nonlinearity
            architecture.append(entry)
            state_dict.update((f"{prefix}.{key}", value) for key, value in module.state_dict().items())
            previous_is_linear = False
        elif type(module) is nn.Linear:
            architecture.append({"type": "dense", "prefix": prefix})
            state_dict.update((f"{prefix}.{key}", value) for key, value in module.state_dict().items())
            previous_is_linear = True
        elif activation:
            if activation == "softmax" and module.dim != -1:
                raise ConversionError(f"{where}: only nn.Softmax(dim=-1) (over the features) is "
                                      f"supported, got dim={module.dim}")
            if not previous_is_linear or "activation" in architecture[-1]:
                raise ConversionError(f"{where}: an activation is supported only directly after an "
                                      "nn.Linear, as that layer's activation")
            architecture[-1]["activation"] = activation
            previous_is_linear = False
        elif type(module) in (nn.Dropout, nn.Identity):
            if type(module) is nn.Dropout:
                notes.append(f"{where}: acts only in training and was dropped")
        else:
            raise ConversionError(f"{where}: {name} is not supported (supported: RNN, LSTM, GRU, "
                                  "Linear, ReLU/Tanh/Sigmoid/Softmax after a Linear, Dropout, Identity)")
    document = from_torch_state_dict(state_dict, architecture)
    document["metadata"] = {"converted_from": "pytorch", "modules": names}
    if notes:
        document["metadata"]["notes"] = notes
    return document


def _flatten(modules, nn):
    if isinstance(modules, nn.Sequential) or isinstance(modules, (list, tuple)):
        for module in modules:
            yield from _flatten(module, nn)
    elif isinstance(modules, nn.Module):
        yield modules
    else:
        raise ConversionError(f"expected torch modules, got {type(modules).__name__}")
