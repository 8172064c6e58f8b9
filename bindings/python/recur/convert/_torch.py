"""PyTorch -> Recur: from modules (imports torch) or from a state_dict (does not)."""

import re

from ..errors import ConversionError
from ._document import array, dense_layer, model_document, recurrent_layer

# The end of the message for unused keys; the command line names its own flag instead.
STRICT_HINT = "pass strict=False to ignore them"

_ENTRY_KEYS = {
    "rnn": {"type", "prefix", "num_layers", "activation", "bidirectional"},
    "lstm": {"type", "prefix", "num_layers", "bidirectional"},
    "gru": {"type", "prefix", "num_layers", "bidirectional"},
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
            (the module's nonlinearity). A bidirectional module also has
            "<prefix>.weight_ih_l<k>_reverse" etc. (the backward cell); each
            k then becomes one bidirectional Recur layer, and layer k > 0
            takes 2 * hidden_size inputs. "bidirectional": true | false
            says which is expected; left out, it is true when the state_dict
            has "_reverse" tensors under the prefix.
        {"type": "dense", "prefix": "head", "activation": "softmax"}
            an nn.Linear: "<prefix>.weight" and optional "<prefix>.bias";
            "activation": "linear" (default) | "relu" | "tanh" | "sigmoid" |
            "softmax" is applied after it. "linear" is accepted as a type alias.

    prefix "" means the keys have no prefix (a bare nn.LSTM's state_dict).
    Hidden and input sizes come from the tensors' shapes. LSTMs with
    proj_size (weight_hr) are refused. With strict=True (default), a state_dict key that no layer
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
            if near and "." in key:
                hint = f"; keys with that prefix: {', '.join(near)}"
            else:
                hint = f"; its keys are {_summary(tensors)}"
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
        reverse_keys = [key for key in tensors if key.startswith(prefix) and
                        re.fullmatch(r"(weight|bias)_(ih|hh)_l\d+_reverse", key[len(prefix):])]
        bidirectional = entry.get("bidirectional", bool(reverse_keys))
        if not isinstance(bidirectional, bool):
            raise ConversionError(f"{where}: bidirectional must be true or false, got {bidirectional!r}")
        for key in tensors:
            if key.startswith(prefix) and re.fullmatch(r"weight_hr_l\d+", key[len(prefix):]):
                raise ConversionError(f"{where}: {key!r} belongs to an LSTM with proj_size > 0, "
                                      "which Recur does not support")
        for k in range(num_layers):
            layer_where = f"{where} ({kind} {prefix!r}, layer {k})"
            names = [f"{prefix}{name}_l{k}" for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            forward = [take(names[0], layer_where), take(names[1], layer_where),
                       take(names[2], layer_where, required=False), take(names[3], layer_where, required=False)]
            reverse = None
            if bidirectional:
                # Biases of the backward cell are required exactly when the forward cell has them.
                reverse = [take(f"{name}_reverse", layer_where, required=index < 2 or forward[index] is not None)
                           for index, name in enumerate(names)]
            layers.append(recurrent_layer(
                kind, *forward, entry.get("activation", "tanh") if kind == "rnn" else None, layer_where,
                reverse=reverse))
            sources.append(layer_where)

    unused = [key for key in tensors if key not in used]
    if strict and unused:
        missing = ("a layer, num_layers or \"bidirectional\": true missing?"
                   if any(key.endswith("_reverse") for key in unused) else "a layer or num_layers missing?")
        raise ConversionError(f"state_dict keys not used by the architecture: {', '.join(unused)} "
                              f"({missing} {STRICT_HINT})")
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
        biases, bidirectional or not (bidirectional=True gives bidirectional
        Recur layers, which run whole sequences: state.run, with lengths for
        what pack_padded_sequence does). Refused: proj_size > 0. dropout
        between layers only acts in training; it is ignored and noted in
        metadata.
      - nn.Linear, optionally followed directly by nn.ReLU, nn.Tanh,
        nn.Sigmoid or nn.Softmax(dim=-1), which becomes its activation.
        An activation anywhere else is refused.
      - nn.Dropout and nn.Identity are inference no-ops and are skipped.
    Nested nn.Sequential modules are flattened.

    A module of your own (an nn.Module subclass) whose children are such
    layers is converted in the order its forward calls them, found by
    tracing it with torch.fx. A forward that applies a function (torch.relu,
    F.softmax, arithmetic) or calls a child twice is refused, with the list
    to pass instead. When forward cannot be traced, the children are taken
    in the order they were assigned in __init__, and the metadata says so.
    """
    import torch.nn as nn  # only here: the rest of the package never needs torch

    activations = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softmax: "softmax"}
    recurrent = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}
    leaves = (nn.Linear, nn.Dropout, nn.Identity, *activations, *recurrent)
    architecture, state_dict, notes, names = [], {}, [], []
    previous_is_linear = False
    for position, (path, module) in enumerate(_flatten(modules, nn, leaves, notes)):
        name = type(module).__name__
        where = f"modules[{position}] ({path + ': ' if path else ''}{name})"
        names.append(name)
        prefix = str(position)
        kind = next((k for cls, k in recurrent.items() if type(module) is cls), None)
        activation = next((a for cls, a in activations.items() if type(module) is cls), None)
        if kind:
            if getattr(module, "proj_size", 0):
                raise ConversionError(f"{where}: proj_size={module.proj_size} is not supported")
            if module.dropout:
                notes.append(f"{where}: dropout={module.dropout} between layers acts only in "
                             "training and was dropped")
            entry = {"type": kind, "prefix": prefix, "num_layers": module.num_layers,
                     "bidirectional": bool(module.bidirectional)}
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
                                  "Linear, ReLU/Tanh/Sigmoid/Softmax after a Linear, Dropout, Identity, "
                                  "and modules made of these)")
    if not architecture:
        raise ConversionError("no layers to convert (expected RNN, LSTM, GRU or Linear modules)")
    document = from_torch_state_dict(state_dict, architecture)
    document["metadata"] = {"converted_from": "pytorch", "modules": names}
    if notes:
        document["metadata"]["notes"] = notes
    return document


def _flatten(modules, nn, leaves, notes, path=""):
    """(attribute path, module) of each layer, in the order they run."""
    if isinstance(modules, (list, tuple)):
        for position, module in enumerate(modules):
            yield from _flatten(module, nn, leaves, notes, f"{path}[{position}]" if path else "")
    elif type(modules) is nn.Sequential:
        for name, module in modules.named_children():
            yield from _flatten(module, nn, leaves, notes, f"{path}.{name}" if path else name)
    elif isinstance(modules, nn.Module):
        if type(modules) in leaves or not list(modules.children()):
            yield path, modules
        else:
            for name, module in _children_in_call_order(modules, nn, leaves, notes, path):
                yield (f"{path}.{name}" if path else name), module
    else:
        raise ConversionError(f"expected torch modules, got {type(modules).__name__}")


# Functions and methods a traced forward may apply without changing what Recur computes.
_HARMLESS_METHODS = {"contiguous", "float"}


def _children_in_call_order(module, nn, leaves, notes, path):
    """(dotted name, leaf module) pairs of a custom module, in the order its forward calls them."""
    import operator

    owner = path or type(module).__name__
    registered = [(name, child) for name, child in module.named_modules()
                  if name and (type(child) in leaves or not list(child.children()))]
    by_name = dict(registered)
    if getattr(type(module), "_recur_stand_in", False):
        notes.append(f"{owner}: {type(module).__module__}.{type(module).__qualname__} is a class of your own, "
                     "whose forward is not in the file; its layers were taken in the order they were assigned "
                     f"in __init__: {', '.join(name for name, _ in registered)}")
        return registered
    try:
        import torch.fx
        graph = torch.fx.symbolic_trace(module).graph
    except Exception as error:  # noqa: BLE001 - any failure to trace means: order unknown
        reason = " ".join(str(error).split())[:160] or type(error).__name__
        notes.append(f"{owner}: its forward could not be traced ({type(error).__name__}: {reason}); "
                     f"its layers were taken in the order they were assigned in __init__: "
                     f"{', '.join(name for name, _ in registered)}")
        return registered
    called = []
    suggestion = ("pass its layers in the order they run, with their activations as modules: "
                  f"recur.convert.from_torch([{', '.join(f'{owner}.{name}' for name, _ in registered)}]) "
                  "(reordered and completed to match forward)")
    for node in graph.nodes:
        if node.op == "call_module":
            if node.target in {name for name, _ in called}:
                raise ConversionError(f"{owner}: its forward calls {node.target} more than once; "
                                      "Recur runs each layer once")
            called.append((node.target, by_name[node.target]) if node.target in by_name
                          else (node.target, module.get_submodule(node.target)))
        elif node.op == "call_function" and node.target is operator.getitem:
            if not isinstance(node.args[1], int):
                notes.append(f"{owner}: its forward indexes an output ({node.name}, e.g. out[:, -1]); "
                             "Recur outputs every step, so take the same part of Recur's output")
        elif node.op == "call_method" and node.target in _HARMLESS_METHODS:
            continue
        elif node.op in ("call_function", "call_method"):
            target = getattr(node.target, "__name__", str(node.target))
            raise ConversionError(f"{owner}: its forward applies {target} (not a module), which a "
                                  f"conversion cannot see; {suggestion}")
    unused = [name for name, _ in registered if name not in {name for name, _ in called}]
    if unused:
        notes.append(f"{owner}: not called by forward, so not converted: {', '.join(unused)}")
    return called


def _summary(tensors, limit=12):
    keys = list(tensors)
    shown = ", ".join(keys[:limit])
    return shown + (f", ... ({len(keys)} in all)" if len(keys) > limit else "") if keys else "(none: it is empty)"


# ---- reading a file saved with torch.save ----------------------------------------------

# Where training scripts commonly keep the state_dict inside a checkpoint dict.
CHECKPOINT_KEYS = ("state_dict", "model_state_dict", "model_state", "model", "net", "network", "module")
# Key prefixes added by wrappers: nn.DataParallel / DistributedDataParallel, torch.compile.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")


def read_torch_file(path):
    """(kind, value, description) for a file written by torch.save or an .npz of arrays.

    kind is "module" (value: an nn.Module, from torch.save(net)) or
    "state_dict" (value: a dict of tensors, unpacked from a checkpoint dict
    and stripped of DataParallel's "module." prefix). description says where
    in the file it was found. Raises ValueError naming what the file holds
    when it is neither. A pickled module is read without running code from
    the file: with weights_only=True, allowing torch.nn classes, and standing
    in for classes of your own (their children and weights are kept; their
    forward is not).
    """
    path = str(path)
    if path.endswith(".npz"):
        import numpy as np
        with np.load(path) as arrays:
            return "state_dict", _strip_wrapper_prefix(dict(arrays)), "the arrays of the .npz file"
    loaded = _load_weights_only(path)
    import torch.nn as nn
    if isinstance(loaded, nn.Module):
        return "module", loaded, f"a whole {type(loaded).__name__} module (torch.save(net))"
    if _is_state_dict(loaded):
        return "state_dict", _strip_wrapper_prefix(loaded), "a state_dict"
    if isinstance(loaded, dict):
        for key in CHECKPOINT_KEYS:
            value = loaded.get(key)
            if isinstance(value, nn.Module):
                return "module", value, f"a whole {type(value).__name__} module under the key {key!r}"
            if _is_state_dict(value):
                return "state_dict", _strip_wrapper_prefix(value), f"the state_dict under the key {key!r}"
        found = ", ".join(f"{key!r} ({_kind(value)})" for key, value in list(loaded.items())[:12])
        raise ValueError(f"{path} holds a dict without a state_dict: its keys are {found or 'none'}; "
                         f"expected tensors, or a checkpoint with one of the keys {', '.join(CHECKPOINT_KEYS)}")
    raise ValueError(f"{path} holds a {type(loaded).__name__}, not a state_dict, checkpoint dict or module")


def _is_state_dict(value):
    return isinstance(value, dict) and bool(value) and all(
        isinstance(key, str) and hasattr(tensor, "shape") for key, tensor in value.items())


def _strip_wrapper_prefix(state_dict):
    for prefix in WRAPPER_PREFIXES:
        if state_dict and all(key.startswith(prefix) for key in state_dict):
            state_dict = {key[len(prefix):]: value for key, value in state_dict.items()}
    return state_dict


def _kind(value):
    if _is_state_dict(value):
        return f"{len(value)} tensors"
    return type(value).__name__


def _load_weights_only(path):
    """torch.load(weights_only=True), allowing torch.nn module classes and standing in for other classes."""
    import pickle
    import re as _re
    import torch
    import torch.nn as nn

    allowed = []
    for _ in range(64):
        try:
            with torch.serialization.safe_globals(allowed):
                return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            match = _re.search(r"Unsupported global: GLOBAL ([\w.]+)", str(error))
            if not match:
                raise ValueError(f"{path}: torch.load cannot read it: {' '.join(str(error).split())[:300]}") from None
            allowed.append(_global_for(match.group(1), nn, path))
        except (OSError, ValueError):
            raise
        except Exception as error:  # noqa: BLE001 - torch.load's errors on a file that is not its format vary
            raise ValueError(f"{path}: torch.load cannot read it (not a file written by torch.save? "
                             f"{type(error).__name__}: {' '.join(str(error).split())[:200]})") from None
    raise ValueError(f"{path}: too many classes to stand in for")


def _global_for(full_name, nn, path):
    """The class for a pickled global: a torch.nn module class itself; a stand-in for a class of your own."""
    import importlib
    module_name, _, class_name = full_name.rpartition(".")
    if module_name.startswith("torch.") or module_name == "torch":
        try:
            found = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            found = None
        if isinstance(found, type) and issubclass(found, nn.Module) or module_name == "torch.nn.parameter":
            return found
        raise ValueError(f"{path}: it needs {full_name}, which is not a torch.nn module; save a state_dict "
                         "instead: torch.save(net.state_dict(), path)")
    # A class of your own (e.g. __main__.Net): an nn.Module stand-in keeps the children and weights.
    stand_in = type(class_name, (nn.Module,), {"__module__": module_name, "__qualname__": class_name,
                                               "_recur_stand_in": True})
    return stand_in
