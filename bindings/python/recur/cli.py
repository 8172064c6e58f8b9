"""The command line: python -m recur info | convert | run (see docs/python.md)."""

import argparse
import json
import sys

import numpy as np

from . import convert as converters
from ._model import Model
from .errors import RecurError


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m recur", description="Recur models from the command line.")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="show a model's layers, sizes and parameter count")
    info.add_argument("model", help="a Recur model file (JSON)")
    info.set_defaults(handler=_info)

    conversion = commands.add_parser("convert", help="convert a PyTorch, Keras or RTNeural model to Recur")
    conversion.add_argument("--from", dest="source_format", required=True, choices=("torch", "keras", "rtneural"))
    conversion.add_argument("source", help="torch: a state_dict (.pt/.pth via torch.load, or .npz); "
                            "keras: a .keras/.h5 model; rtneural: a JSON model file")
    conversion.add_argument("output", help="the Recur model file to write")
    conversion.add_argument("--architecture", help="torch only: the layer list (a JSON file, or JSON text), "
                            "see recur.convert.from_torch_state_dict")
    conversion.add_argument("--encoding", choices=("flat", "base64"), default="flat", help="how tensors are written")
    conversion.add_argument("--no-strict", dest="strict", action="store_false",
                            help="torch only: ignore state_dict keys the architecture does not use")
    conversion.set_defaults(handler=_convert)

    run = commands.add_parser("run", help="run a model over an input sequence (.npy)")
    run.add_argument("model", help="a Recur model file (JSON)")
    run.add_argument("input", help=".npy array (steps, inputs) or (batch, steps, inputs)")
    run.add_argument("-o", "--output", help=".npy file for the outputs (default: print them)")
    run.set_defaults(handler=_run)

    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments) or 0
    except (RecurError, OSError, ValueError, ImportError) as error:
        print(f"recur {arguments.command}: {error}", file=sys.stderr)
        return 1


def _info(arguments):
    with Model.load(arguments.model) as model:
        print(f"model:       {arguments.model}")
        print(f"input size:  {model.input_size}")
        print(f"output size: {model.output_size}")
        print(f"layers:      {model.layer_count}")
        for layer in model.layers:
            tensors = ", ".join(f"{name} {list(shape)}" for name, shape in layer.tensors.items())
            activation = layer.activation or ""
            print(f"  {layer.index:>3}  {layer.type:<5} {layer.input_size:>6} -> {layer.output_size:<6} "
                  f"{activation:<8} {tensors}")
        print(f"parameters:  {model.parameter_count}")
        print(f"state size:  {model.state_size} floats per stream")
        metadata = model.to_dict(encoding="base64").get("metadata")
        if metadata:
            print(f"metadata:    {json.dumps(metadata)}")


def _convert(arguments):
    if arguments.source_format == "rtneural":
        with open(arguments.source, encoding="utf-8") as file:
            document = converters.from_rtneural(json.load(file))
    elif arguments.source_format == "torch":
        if not arguments.architecture:
            raise ValueError("--from torch needs --architecture (see recur.convert.from_torch_state_dict)")
        document = converters.from_torch_state_dict(_load_state_dict(arguments.source),
                                                    _load_architecture(arguments.architecture),
                                                    strict=arguments.strict)
    else:
        import keras  # only here
        document = converters.from_keras(keras.models.load_model(arguments.source))
    with Model.from_dict(document) as model:
        model.save(arguments.output, encoding=arguments.encoding)
        print(f"wrote {arguments.output}: {model.layer_count} layers, {model.input_size} -> "
              f"{model.output_size}, {model.parameter_count} parameters")


def _load_state_dict(path):
    if path.endswith(".npz"):
        with np.load(path) as arrays:
            return dict(arrays)
    import torch  # only here
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(loaded, dict) and isinstance(loaded.get("state_dict"), dict):
        loaded = loaded["state_dict"]  # a training checkpoint
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} does not hold a state_dict; save one with torch.save(module.state_dict(), path)")
    return loaded


def _load_architecture(text):
    if not text.lstrip().startswith("["):
        with open(text, encoding="utf-8") as file:
            text = file.read()
    return json.loads(text)


def _run(arguments):
    xs = np.load(arguments.input)
    if xs.ndim not in (2, 3):
        raise ValueError(f"{arguments.input}: expected (steps, inputs) or (batch, steps, inputs), got shape {xs.shape}")
    with Model.load(arguments.model) as model, model.state(1 if xs.ndim == 2 else xs.shape[0]) as state:
        ys = state.run(xs)
    if arguments.output:
        np.save(arguments.output, ys)
    elif ys.ndim == 2:
        np.savetxt(sys.stdout, ys, fmt="%.9g")
    else:
        for stream, outputs in enumerate(ys):
            print(f"# stream {stream}")
            np.savetxt(sys.stdout, outputs, fmt="%.9g")
