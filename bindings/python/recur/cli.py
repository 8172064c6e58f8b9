"""The command line: python -m recur info | convert | run (see docs/python.md)."""

import argparse
import json
import re
import sys

import numpy as np

from . import convert as converters
from ._model import Model
from .convert._torch import STRICT_HINT, read_torch_file
from .errors import ConversionError, RecurError


FROM_HELP = """what the source is:
  torch     a file written by torch.save (.pt/.pth) or an .npz of arrays: a whole module
            (torch.save(net), layers read from it), a state_dict (torch.save(net.state_dict()),
            needs --architecture), or a checkpoint dict holding one under "state_dict",
            "model_state_dict", "model", "net" ... ("module." prefixes of DataParallel removed)
  keras     a .keras or .h5 model file (needs keras)
  rtneural  an RTNeural JSON model file"""

ARCHITECTURE_HELP = """--from torch with a state_dict: its layers in order, as JSON text or a JSON file.
Each entry: {"type": "lstm"|"gru"|"rnn", "prefix": P, "num_layers": N} for tensors
P.weight_ih_l0 ... (rnn also "activation": "tanh"|"relu"), or {"type": "dense", "prefix": P,
"activation": "linear"|"relu"|"tanh"|"sigmoid"|"softmax"} for P.weight and P.bias.
Example: '[{"type": "lstm", "prefix": "lstm", "num_layers": 2}, {"type": "dense", "prefix": "head"}]'.
When it is missing, the error message suggests one guessed from the keys."""


class _Parser(argparse.ArgumentParser):
    """Usage errors are one line on stderr and exit status 1, as every other error."""

    def error(self, message):
        self.exit(1, f"{self.prog}: {message} (see {self.prog} --help)\n")


def main(argv=None):
    parser = _Parser(prog="python -m recur", description="Recur models from the command line.")
    parser.add_argument("--version", action=_Version, nargs=0,
                        help="print the package's version, the library's and where it was loaded from")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{info,convert,run}")

    info = commands.add_parser("info", help="show a model's layers, sizes and parameter count")
    info.add_argument("model", help="a Recur model file (JSON)")
    info.set_defaults(handler=_info)

    conversion = commands.add_parser(
        "convert", help="convert a PyTorch, Keras or RTNeural model to Recur",
        formatter_class=argparse.RawTextHelpFormatter,
        epilog="examples:\n"
               "  python -m recur convert --from torch net.pt model.json          # torch.save(net)\n"
               "  python -m recur convert --from torch checkpoint.pt model.json \\\n"
               "      --architecture '[{\"type\": \"gru\", \"prefix\": \"rnn\"}, {\"type\": \"dense\", \"prefix\": \"head\"}]'\n"
               "  python -m recur convert --from keras model.keras model.json\n"
               "  python -m recur convert --from rtneural rtneural.json model.json")
    conversion.add_argument("--from", dest="source_format", required=True, choices=("torch", "keras", "rtneural"),
                            metavar="{torch,keras,rtneural}", help=FROM_HELP)
    conversion.add_argument("source", help="the file to convert (see --from)")
    conversion.add_argument("output", help="the Recur model file to write (JSON)")
    conversion.add_argument("--architecture", metavar="JSON", help=ARCHITECTURE_HELP)
    conversion.add_argument("--encoding", choices=("flat", "base64"), default="flat",
                            help="how tensors are written: flat number lists (default) or base64 (compact, exact)")
    conversion.add_argument("--no-strict", dest="strict", action="store_false",
                            help="torch state_dict: ignore keys the architecture does not use")
    conversion.set_defaults(handler=_convert)

    run = commands.add_parser("run", help="run a model over an input sequence (.npy)")
    run.add_argument("model", help="a Recur model file (JSON)")
    run.add_argument("input", help=".npy array (steps, inputs) or (batch, steps, inputs)")
    run.add_argument("-o", "--output", help=".npy file for the outputs (default: print them)")
    run.set_defaults(handler=_run)

    arguments = parser.parse_args(argv)
    try:
        return arguments.handler(arguments) or 0
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - every error is one line, never a traceback
        message = " ".join(str(error).split()) or type(error).__name__
        if not isinstance(error, (RecurError, OSError, ValueError, ImportError)):
            message = f"{type(error).__name__}: {message}"
        print(f"recur {arguments.command}: {message}", file=sys.stderr)
        return 1


class _Version(argparse.Action):
    """--version on one line (argparse's own action wraps long text at the terminal's width)."""

    def __call__(self, parser, namespace, values, option_string=None):
        from . import __version__, library_path, library_version
        print(f"recur {__version__} (library {library_version()}, {library_path()})")
        parser.exit(0)


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
        document = _convert_torch(arguments)
    else:
        import keras  # only here
        document = converters.from_keras(keras.models.load_model(arguments.source))
    with Model.from_dict(document) as model:
        model.save(arguments.output, encoding=arguments.encoding)
        print(f"wrote {arguments.output}: {model.layer_count} layers, {model.input_size} -> "
              f"{model.output_size}, {model.parameter_count} parameters")
    for note in document.get("metadata", {}).get("notes", []):
        print(f"note: {note}")


def _convert_torch(arguments):
    kind, value, description = read_torch_file(arguments.source)
    if kind == "module":
        if arguments.architecture:
            print(f"note: {arguments.source} holds {description}; its layers are read from it and "
                  "--architecture is not used")
        return converters.from_torch(value)
    if not arguments.architecture:
        guess = _guess_architecture(value)
        suggestion = f"; guessed from its keys: --architecture '{json.dumps(guess)}'" if guess else ""
        raise ValueError(f"{arguments.source} holds {description} ({_key_summary(value)}), which does not say "
                         f"which layers these are: pass --architecture{suggestion}")
    try:
        return converters.from_torch_state_dict(value, _load_architecture(arguments.architecture),
                                                strict=arguments.strict)
    except ConversionError as error:
        raise ConversionError(str(error).replace(STRICT_HINT, "pass --no-strict to ignore them")) from None


def _key_summary(state_dict, limit=8):
    keys = list(state_dict)
    return "keys " + ", ".join(keys[:limit]) + (f", ... ({len(keys)} in all)" if len(keys) > limit else "")


def _guess_architecture(state_dict):
    """The architecture the keys suggest, in their order (the order of the module's attributes), or None."""
    entries = {}
    for key, value in state_dict.items():
        prefix, _, name = key.rpartition(".")
        recurrent = re.fullmatch(r"weight_hh_l(\d+)", name)
        if recurrent:
            rows, hidden = value.shape
            kind = {1: "rnn", 3: "gru", 4: "lstm"}.get(rows // hidden if hidden else 0)
            entry = entries.setdefault(prefix, {"type": kind, "prefix": prefix, "num_layers": 0})
            entry["num_layers"] = max(entry.get("num_layers", 0), int(recurrent.group(1)) + 1)
        elif name == "weight" and len(value.shape) == 2:
            entries.setdefault(prefix, {"type": "dense", "prefix": prefix})
        elif not re.fullmatch(r"(weight_ih|bias_ih|bias_hh)_l\d+|bias", name):
            return None
    if not entries or any(entry["type"] is None for entry in entries.values()):
        return None
    for entry in entries.values():
        if entry.get("num_layers") == 1:
            del entry["num_layers"]
    return list(entries.values())


def _load_architecture(text):
    if not text.lstrip().startswith("["):
        with open(text, encoding="utf-8") as file:
            text = file.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"--architecture is not valid JSON ({error}); "
                         "example: '[{\"type\": \"lstm\", \"prefix\": \"lstm\"}]'") from None


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
