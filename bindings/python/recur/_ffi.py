"""Declarations of the C API, 1:1 with include/recur.h.

FUNCTIONS spells every prototype as the header does (C type names), and
C_TYPES maps those names to ctypes. tests/test_ffi.py parses the header and
checks that both list the same functions with the same parameter types, and
that the enums below have the header's values.

Importing this module loads the library (see _library.py), declares every
function on it, and checks that the library's version matches the header
this binding was written against (same MAJOR.MINOR): ImportError otherwise.
"""

import ctypes
import enum
from ctypes import POINTER, c_char, c_char_p, c_float, c_int, c_int32, c_size_t, c_uint32

from . import _library
from ._version import HEADER_VERSION_NUMBER


class Status(enum.IntEnum):
    """recur_status: why a call failed (RECUR_OK, RECUR_ERROR_<NAME>)."""

    OK = 0
    INVALID_ARGUMENT = 1
    PARSE = 2
    MODEL = 3
    IO = 4
    SHAPE = 5
    NUMERIC = 6
    OUT_OF_MEMORY = 7
    INTERNAL = 8


class TensorEncoding(enum.IntEnum):
    """recur_tensor_encoding: how saved tensors are written (RECUR_TENSORS_<NAME>)."""

    FLAT = 0
    BASE64 = 1
    AUTOMATIC = 2


class WeightStorage(enum.IntEnum):
    """recur_weight_storage: how inference reads the weights (RECUR_WEIGHTS_<NAME>)."""

    FP32 = 0
    FP16 = 1
    INT8 = 2


class recur_model(ctypes.Structure):
    """Opaque model handle (used only through pointers)."""


class recur_state(ctypes.Structure):
    """Opaque inference state handle."""


class recur_trainer(ctypes.Structure):
    """Opaque trainer handle."""


class recur_layer_info(ctypes.Structure):
    """recur_layer_info: what recur_model_layer_info says about one layer
    (the header's struct, field for field; tests/test_ffi.py checks it)."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("type", c_char_p),
        ("activation", c_char_p),
        ("input_size", c_size_t),
        ("output_size", c_size_t),
        ("hidden_size", c_size_t),
        ("state_size", c_size_t),
        ("bidirectional", c_int),
        ("has_bias", c_int),
        ("tensor_count", c_size_t),
    ]


ModelPointer = POINTER(recur_model)
StatePointer = POINTER(recur_state)
TrainerPointer = POINTER(recur_trainer)
FloatPointer = POINTER(c_float)
Int32Pointer = POINTER(c_int32)
CharPointer = POINTER(c_char)  # a library-owned `char *` we must free: not c_char_p, which copies

C_TYPES = {
    "void": None,
    "recur_status": c_int,
    "recur_tensor_encoding": c_int,
    "recur_weight_storage": c_int,
    "size_t": c_size_t,
    "uint32_t": c_uint32,
    "float": c_float,
    "const char *": c_char_p,
    "char *": CharPointer,
    "char **": POINTER(CharPointer),
    "const char **": POINTER(c_char_p),
    "size_t *": POINTER(c_size_t),
    "const size_t *": POINTER(c_size_t),
    "const float *": FloatPointer,
    "float *": FloatPointer,
    "const int32_t *": Int32Pointer,
    "recur_model *": ModelPointer,
    "const recur_model *": ModelPointer,
    "recur_model **": POINTER(ModelPointer),
    "recur_state *": StatePointer,
    "const recur_state *": StatePointer,
    "recur_state **": POINTER(StatePointer),
    "recur_trainer *": TrainerPointer,
    "const recur_trainer *": TrainerPointer,
    "recur_trainer **": POINTER(TrainerPointer),
    "recur_layer_info *": POINTER(recur_layer_info),
}

# name: (return type, [parameter types]), in the header's order.
FUNCTIONS = {
    # Library
    "recur_version_number": ("uint32_t", []),
    "recur_version_string": ("const char *", []),
    "recur_last_error": ("const char *", []),
    "recur_status_string": ("const char *", ["recur_status"]),
    "recur_cpu_kernels": ("const char *", []),
    # Models
    "recur_model_load_file": ("recur_status", ["const char *", "recur_model **"]),
    "recur_model_load_json": ("recur_status", ["const char *", "size_t", "recur_model **"]),
    "recur_model_save_file": ("recur_status", ["const recur_model *", "const char *"]),
    "recur_model_save_file_encoded": ("recur_status", ["const recur_model *", "const char *", "recur_tensor_encoding"]),
    "recur_model_to_json": ("recur_status", ["const recur_model *", "char **", "size_t *"]),
    "recur_model_to_json_encoded": ("recur_status", ["const recur_model *", "recur_tensor_encoding", "char **", "size_t *"]),
    "recur_string_free": ("void", ["char *"]),
    "recur_model_clone": ("recur_status", ["const recur_model *", "recur_model **"]),
    "recur_model_free": ("void", ["recur_model *"]),
    "recur_model_input_size": ("size_t", ["const recur_model *"]),
    "recur_model_output_size": ("size_t", ["const recur_model *"]),
    "recur_model_parameter_count": ("size_t", ["const recur_model *"]),
    "recur_model_layer_count": ("size_t", ["const recur_model *"]),
    "recur_model_layer_info": ("recur_status", ["const recur_model *", "size_t", "recur_layer_info *"]),
    "recur_model_tensor_name": ("recur_status", ["const recur_model *", "size_t", "size_t", "const char **"]),
    "recur_model_state_size": ("size_t", ["const recur_model *"]),
    "recur_model_get_tensor": ("recur_status", ["const recur_model *", "size_t", "const char *", "float *", "size_t"]),
    "recur_model_set_tensor": ("recur_status", ["recur_model *", "size_t", "const char *", "const float *", "size_t"]),
    "recur_model_tensor_shape": ("recur_status", ["const recur_model *", "size_t", "const char *", "size_t *", "size_t *"]),
    "recur_model_set_weight_storage": ("recur_status", ["recur_model *", "recur_weight_storage"]),
    "recur_model_weight_storage": ("recur_weight_storage", ["const recur_model *"]),
    # Inference state
    "recur_state_create": ("recur_status", ["const recur_model *", "size_t", "recur_state **"]),
    "recur_state_free": ("void", ["recur_state *"]),
    "recur_state_reset": ("recur_status", ["recur_state *"]),
    "recur_state_reset_stream": ("recur_status", ["recur_state *", "size_t"]),
    "recur_state_size": ("size_t", ["const recur_state *"]),
    "recur_state_batch": ("size_t", ["const recur_state *"]),
    "recur_state_get": ("recur_status", ["const recur_state *", "float *", "size_t"]),
    "recur_state_set": ("recur_status", ["recur_state *", "const float *", "size_t"]),
    "recur_state_step": ("recur_status", ["recur_state *", "const float *", "float *"]),
    "recur_state_run": ("recur_status", ["recur_state *", "const float *", "size_t", "float *"]),
    "recur_state_run_lengths": ("recur_status", ["recur_state *", "const float *", "size_t", "const size_t *", "float *"]),
    "recur_state_set_threads": ("recur_status", ["recur_state *", "size_t"]),
    # Fine-tuning
    "recur_trainer_create": ("recur_status", ["recur_model *", "const char *", "recur_trainer **"]),
    "recur_trainer_free": ("void", ["recur_trainer *"]),
    "recur_trainer_clone": ("recur_status", ["const recur_trainer *", "recur_model *", "recur_trainer **"]),
    "recur_trainer_step": ("recur_status", ["recur_trainer *", "const float *", "size_t", "size_t", "const float *", "float *"]),
    "recur_trainer_step_labels": ("recur_status", ["recur_trainer *", "const float *", "size_t", "size_t", "const int32_t *", "float *"]),
    "recur_trainer_step_lengths": ("recur_status", ["recur_trainer *", "const float *", "size_t", "size_t", "const size_t *", "const float *", "float *"]),
    "recur_trainer_step_labels_lengths": ("recur_status", ["recur_trainer *", "const float *", "size_t", "size_t", "const size_t *", "const int32_t *", "float *"]),
    "recur_trainer_target_count": ("recur_status", ["const recur_trainer *", "size_t", "size_t", "size_t *", "size_t *"]),
    "recur_trainer_last_gradient_norm": ("float", ["const recur_trainer *"]),
    "recur_trainer_get_gradient": ("recur_status", ["const recur_trainer *", "size_t", "const char *", "float *", "size_t"]),
    "recur_trainer_reset_state": ("recur_status", ["recur_trainer *"]),
    "recur_trainer_set_threads": ("recur_status", ["recur_trainer *", "size_t"]),
    "recur_trainer_hidden_gradient_norms": ("recur_status", ["const recur_trainer *", "size_t", "float *", "size_t"]),
}


def _declare(library):
    for name, (result, parameters) in FUNCTIONS.items():
        try:
            function = getattr(library, name)
        except AttributeError:
            raise ImportError(f"recur: the loaded library {library._name} has no {name}; "
                              "it is older than this binding") from None
        function.restype = C_TYPES[result]
        function.argtypes = [C_TYPES[parameter] for parameter in parameters]
    return library


def _version_text(number):
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _check_version(library):
    found = library.recur_version_number()
    if found // 100 != HEADER_VERSION_NUMBER // 100:  # MAJOR and MINOR must match
        raise ImportError(
            f"recur: this binding was written for Recur {_version_text(HEADER_VERSION_NUMBER)} "
            f"({HEADER_VERSION_NUMBER}), but the library {library._name} is "
            f"{library.recur_version_string().decode()} ({found})")


lib = _declare(_library.load())
_check_version(lib)
