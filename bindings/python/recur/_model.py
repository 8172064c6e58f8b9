"""Model: a loaded Recur model (recur_model)."""

import ctypes
import dataclasses
import json
import os

import numpy as np

from . import _arrays
from ._ffi import CharPointer, ModelPointer, TensorEncoding, WeightStorage, lib, recur_layer_info
from ._handle import Handle
from .errors import ClosedError, InvalidArgumentError, ModelError, check


@dataclasses.dataclass(frozen=True)
class LayerInfo:
    """The structure of one layer, as in the model format (no weights)."""

    index: int
    type: str            # "rnn" | "lstm" | "gru" | "dense"
    input_size: int
    output_size: int     # values per step going out: hidden_size (2x when bidirectional), or units
    activation: object   # "tanh", "relu", ... or None for lstm/gru
    tensors: dict        # name -> shape, only the tensors the layer has
    hidden_size: int = 0         # hidden_size of each direction, or units for dense
    state_size: int = 0          # floats per stream the layer keeps (0 for dense and bidirectional)
    bidirectional: bool = False  # "direction": "bidirectional"

    def __str__(self):
        activation = f", {self.activation}" if self.activation else ""
        direction = ", bidirectional" if self.bidirectional else ""
        return f"{self.type}({self.input_size} -> {self.output_size}{activation}{direction})"


def _encoding(encoding):
    if isinstance(encoding, TensorEncoding):
        return encoding
    try:
        return TensorEncoding[str(encoding).upper()]
    except KeyError:
        raise InvalidArgumentError(f"unknown tensor encoding {encoding!r} (expected 'flat', 'base64' or 'automatic')") from None


def _json_default(value):
    """Lets documents hold numpy arrays and numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class Model(Handle):
    """A Recur model. Make one with Model.load, Model.from_json or Model.from_dict.

    Inference never changes a model, so any number of threads may run their
    own State on one model at once. set_tensor and Trainer.step change the
    weights in place: no state may run on the model meanwhile.
    """

    _free_function = "recur_model_free"

    def __init__(self, pointer):
        super().__init__(pointer)
        self._layers = None

    # -- making models ----------------------------------------------------

    @classmethod
    def load(cls, path):
        """Loads a model file (JSON, model format v1)."""
        pointer = ModelPointer()
        check(lib.recur_model_load_file(_arrays.path(path), ctypes.byref(pointer)))
        return cls(pointer)

    @classmethod
    def from_json(cls, text):
        """A model from JSON text (str or bytes)."""
        data = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        pointer = ModelPointer()
        check(lib.recur_model_load_json(data, len(data), ctypes.byref(pointer)))
        return cls(pointer)

    @classmethod
    def from_dict(cls, document):
        """A model from a document (dict) in the model format; tensors may be numpy arrays."""
        try:
            text = json.dumps(document, default=_json_default, allow_nan=False)
        except ValueError:
            raise ModelError("the document holds NaN or infinity, which JSON cannot represent") from None
        except TypeError as error:
            raise ModelError(f"the document cannot be written as JSON: {error}") from None
        return cls.from_json(text)

    @property
    def weight_storage(self):
        """How inference reads the weights: "fp32" (the default), "fp16" or "int8"."""
        return WeightStorage(lib.recur_model_weight_storage(self._handle())).name.lower()

    @weight_storage.setter
    def weight_storage(self, storage):
        """"fp16" keeps fp16 copies of the weights for inference (float32
        arithmetic, half the bytes per step); "int8" keeps int8 copies with a
        scale per output and multiplies in integers (a quarter of the bytes;
        inference only: trainer steps are refused); "fp32" goes back."""
        try:
            code = WeightStorage[str(storage).upper()]
        except KeyError:
            raise InvalidArgumentError(f"unknown weight storage {storage!r} (expected 'fp32', 'fp16' or 'int8')") from None
        check(lib.recur_model_set_weight_storage(self._handle(), code))

    def clone(self):
        """An independent copy with its own weights."""
        pointer = ModelPointer()
        check(lib.recur_model_clone(self._handle(), ctypes.byref(pointer)))
        return Model(pointer)

    # -- saving -----------------------------------------------------------

    def to_json(self, encoding="flat"):
        """The model as JSON text; tensors "flat" ({"shape", "data"}) or "base64"."""
        text = CharPointer()
        length = ctypes.c_size_t()
        check(lib.recur_model_to_json_encoded(self._handle(), _encoding(encoding),
                                              ctypes.byref(text), ctypes.byref(length)))
        try:
            return ctypes.string_at(text, length.value).decode("utf-8")
        finally:
            lib.recur_string_free(text)

    def to_dict(self, encoding="flat"):
        """The model as a document (dict)."""
        return json.loads(self.to_json(encoding))

    def save(self, path, encoding="automatic"):
        """Saves the model to a file, atomically (see docs/c-api.md)."""
        check(lib.recur_model_save_file_encoded(self._handle(), _arrays.path(path), _encoding(encoding)))

    # -- sizes --------------------------------------------------------------

    @property
    def input_size(self):
        """Features per time step of the input."""
        return lib.recur_model_input_size(self._handle())

    @property
    def output_size(self):
        """Features per time step of the output (the last layer's)."""
        return lib.recur_model_output_size(self._handle())

    @property
    def parameter_count(self):
        """Number of weight and bias elements."""
        return lib.recur_model_parameter_count(self._handle())

    @property
    def state_size(self):
        """Floats of state per stream (each recurrent layer's h, and c for LSTM)."""
        return lib.recur_model_state_size(self._handle())

    @property
    def layer_count(self):
        return lib.recur_model_layer_count(self._handle())

    @property
    def layers(self):
        """The layers' structure: a tuple of LayerInfo (computed once)."""
        handle = self._handle()
        if self._layers is None:
            self._layers = _layer_infos(handle)
        return self._layers

    # -- weights ------------------------------------------------------------

    def get_tensor(self, layer, name):
        """A copy of tensor `name` of layer `layer` ("weight_ih", ..., "weight", "bias")."""
        shape = self.tensor_shape(layer, name)
        out = np.empty(shape, dtype=np.float32)
        check(lib.recur_model_get_tensor(self._handle(), layer, name.encode(), _arrays.float_pointer(out), out.size))
        return out

    def set_tensor(self, layer, name, values):
        """Replaces tensor `name` of layer `layer`; `values` must have its exact shape."""
        shape = self.tensor_shape(layer, name)
        values = _arrays.as_array(values, "values")
        _arrays.check_shape(values, shape, f"layers[{layer}].{name}")
        values = _arrays.float32(values)
        check(lib.recur_model_set_tensor(self._handle(), layer, name.encode(),
                                         _arrays.float_pointer(values), values.size))

    def tensor_shape(self, layer, name):
        """The shape of tensor `name` of layer `layer`, or InvalidArgumentError."""
        return tensor_shape(self.layers, layer, name)

    # -- running and training -------------------------------------------------

    def state(self, batch=1):
        """New inference state for `batch` independent streams, all at zero."""
        from ._state import State
        return State(self, batch)

    def trainer(self, config=None):
        """A Trainer that fine-tunes this model in place (config: dict, JSON text or None)."""
        from ._trainer import Trainer
        return Trainer(self, config)

    # -- pickling and copying ---------------------------------------------------

    def __reduce__(self):
        """Pickles the model as its JSON document (tensors in base64: exact bits)
        plus its weight storage; unpickling loads the document with from_json.
        So Ray, multiprocessing and copy.deepcopy ship a model between
        processes as text, never as a native pointer. A closed model cannot
        be pickled (ClosedError)."""
        if self.closed:
            raise ClosedError("this Model is closed: a closed model cannot be pickled or copied")
        return (_unpickle_model, (type(self), self.to_json("base64"), self.weight_storage))

    def __copy__(self):
        """copy.copy: an independent model (clone): two Model objects never share one native model."""
        return self._copy()

    def __deepcopy__(self, memo):
        """copy.deepcopy: an independent model with its own weights (clone)."""
        copied = self._copy()
        memo[id(self)] = copied
        return copied

    def _copy(self):
        if self.closed:
            raise ClosedError("this Model is closed: a closed model cannot be pickled or copied")
        pointer = ModelPointer()
        check(lib.recur_model_clone(self._handle(), ctypes.byref(pointer)))
        return type(self)(pointer)  # the clone keeps the weight storage too

    def __repr__(self):
        if self.closed:
            return "<recur.Model (closed)>"
        layers = ", ".join(str(layer) for layer in self.layers)
        return f"<recur.Model {layers}; {self.parameter_count} parameters>"


def _unpickle_model(cls, text, weight_storage):
    """Rebuilds a pickled Model (Model.__reduce__)."""
    model = cls.from_json(text)
    if weight_storage != "fp32":
        model.weight_storage = weight_storage
    return model


class NotCopyableError(InvalidArgumentError, TypeError):
    """Raised when a Trainer is pickled: its optimizer state has no portable
    form (copy.copy and copy.deepcopy work). Also a TypeError, what pickle
    raises for objects it cannot pickle."""


def tensor_shape(layers, layer, name):
    """The shape of tensor `name` of layers[layer], or InvalidArgumentError."""
    layer = _arrays.index(layer, "layer")
    if layer >= len(layers):
        raise InvalidArgumentError(f"layer {layer} is out of range: the model has {len(layers)} layers")
    tensors = layers[layer].tensors
    if not isinstance(name, str) or name not in tensors:
        raise InvalidArgumentError(f"layers[{layer}] ({layers[layer].type}) has no tensor {name!r}; "
                                   f"it has {', '.join(tensors)}")
    return tensors[name]


def _layer_infos(handle):
    """LayerInfo for every layer, from recur_model_layer_info and the tensors' names and shapes."""
    infos = []
    for index in range(lib.recur_model_layer_count(handle)):
        info = recur_layer_info(struct_size=ctypes.sizeof(recur_layer_info))
        check(lib.recur_model_layer_info(handle, index, ctypes.byref(info)))
        tensors = {}
        for t in range(info.tensor_count):
            name = ctypes.c_char_p()
            check(lib.recur_model_tensor_name(handle, index, t, ctypes.byref(name)))
            rows, columns = ctypes.c_size_t(), ctypes.c_size_t()
            check(lib.recur_model_tensor_shape(handle, index, name.value, ctypes.byref(rows), ctypes.byref(columns)))
            # Weights are matrices [rows, columns], biases vectors [rows] (the format's shapes).
            is_matrix = name.value.startswith(b"weight")
            tensors[name.value.decode()] = (rows.value, columns.value) if is_matrix else (rows.value,)
        layer_type = info.type.decode()
        # The format gives lstm and gru no activation key: show none for them.
        activation = info.activation.decode() if layer_type in ("rnn", "dense") else None
        infos.append(LayerInfo(index, layer_type, info.input_size, info.output_size, activation, tensors,
                               hidden_size=info.hidden_size, state_size=info.state_size,
                               bidirectional=bool(info.bidirectional)))
    return tuple(infos)
