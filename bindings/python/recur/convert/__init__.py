"""Converters to Recur model documents (dicts for recur.Model.from_dict).

    from_torch(modules)                          PyTorch modules (imports torch)
    from_torch_state_dict(state_dict, architecture)   a state_dict, no torch needed
    from_keras(model)                            a Keras model or list of layers
    from_rtneural(document)                      an RTNeural JSON model (dict)

Each is exact (weights are copied, transposed or reordered, never refit) and
raises recur.ConversionError naming the first feature Recur cannot represent.
"""

from ._keras import from_keras
from ._rtneural import from_rtneural
from ._torch import from_torch, from_torch_state_dict

__all__ = ["from_keras", "from_rtneural", "from_torch", "from_torch_state_dict"]
