"""Keras -> Recur, from layer configs and get_weights() (Keras itself is never imported)."""

import numpy as np

from ..errors import ConversionError
from ._document import array, dense_layer, model_document, recurrent_layer, set_activation

_RECURRENT = {"SimpleRNN": "rnn", "LSTM": "lstm", "GRU": "gru"}
_SKIPPED = {"InputLayer", "Dropout"}


def from_keras(model):
    """A Recur model document from a Keras model (or a list of Keras layers).

    Reads each layer's class name, get_config() and get_weights():
      - SimpleRNN (tanh or relu), LSTM, GRU: kernels are transposed; LSTM
        gates i, f, c, o are PyTorch's i, f, g, o; GRU gates z, r, h are
        reordered to r, z, n. GRU needs reset_after=True (Keras 2.3+ and 3
        default), whose bias (2, 3 * units) holds the input bias in row 0 and
        the recurrent bias in row 1. reset_after=False applies the reset gate
        before the recurrent matrix product, which Recur's GRU cannot express:
        refused. LSTM/GRU need activation "tanh" and recurrent_activation
        "sigmoid". go_backwards=True is refused.
      - Dense (TimeDistributed(Dense) too), with activation linear, relu,
        tanh, sigmoid or softmax; Activation directly after a Dense becomes
        its activation (an Activation anywhere else is refused).
      - Bidirectional(SimpleRNN | LSTM | GRU, merge_mode="concat") becomes a
        bidirectional layer: the forward layer's weights as above, the
        backward layer's as the "_reverse" tensors; Keras' concat order
        [forward, backward] is Recur's. Other merge modes (sum, mul, ave,
        None) are refused, and so is return_sequences=False on the wrapped
        layer (Keras then joins the forward cell's last step with the
        backward cell's step 0, which is no one step of Recur's output).
      - InputLayer and Dropout are skipped (Dropout acts only in training).

    return_sequences: Recur always outputs every step. A recurrent layer
    with return_sequences=False is accepted when only Dense/Activation/Dropout
    layers follow it; the document's metadata then says
    "keras_return_sequences": false, and the Keras model's output is the
    last step of Recur's output (outputs[:, -1]).
    """
    keras_layers = list(model.layers) if hasattr(model, "layers") else list(model)
    layers, sources, last_step_only = [], [], None
    for position, keras_layer in enumerate(keras_layers):
        name = type(keras_layer).__name__
        label = getattr(keras_layer, "name", None)
        where = f"layers[{position}] ({name} {label!r})" if label else f"layers[{position}] ({name})"
        if name == "TimeDistributed" and type(getattr(keras_layer, "layer", None)).__name__ == "Dense":
            keras_layer, name = keras_layer.layer, "Dense"
        config = keras_layer.get_config() if hasattr(keras_layer, "get_config") else {}
        if name in _SKIPPED:
            continue
        if name in _RECURRENT or name == "Bidirectional":
            if last_step_only is not None:
                raise ConversionError(f"{where}: follows {last_step_only}, which has return_sequences=False; "
                                      "Recur can only feed every step to the next recurrent layer")
            if name == "Bidirectional":
                layers.append(_bidirectional(keras_layer, config, where))
            else:
                layers.append(_recurrent(_RECURRENT[name], config, keras_layer.get_weights(), where))
                if not config.get("return_sequences", False):
                    last_step_only = where
            sources.append(where)
        elif name == "Dense":
            weights = [array(w, f"{where} weights") for w in keras_layer.get_weights()]
            kernel, bias = weights[0], (weights[1] if config.get("use_bias", True) else None)
            layers.append(dense_layer(kernel.T, bias, _activation(config, where), where))
            sources.append(where)
        elif name == "Activation":
            set_activation(layers, _activation(config, where), where)
        else:
            raise ConversionError(f"{where}: Keras layer {name} is not supported (supported: SimpleRNN, "
                                  "LSTM, GRU, Bidirectional of these, Dense, Activation after Dense, "
                                  "InputLayer, Dropout)")
    metadata = {"converted_from": "keras"}
    if last_step_only is not None:
        metadata["keras_return_sequences"] = False
        metadata["note"] = (f"{last_step_only} had return_sequences=False: Recur outputs every step; "
                            "the Keras model's output is the last step of Recur's output")
    return model_document(layers, metadata, sources)


def _activation(config, where):
    activation = config.get("activation", "linear")
    if activation is None:
        return "linear"
    if not isinstance(activation, str):
        raise ConversionError(f"{where}: activation {activation!r} is not supported")
    return activation


def _recurrent(kind, config, weights, where):
    """A forward rnn/lstm/gru layer from a Keras SimpleRNN/LSTM/GRU."""
    if config.get("go_backwards", False):
        raise ConversionError(f"{where}: go_backwards=True is not supported (Recur runs forward in time)")
    *cell, activation = _cell(kind, config, weights, where)
    return recurrent_layer(kind, *cell, activation if kind == "rnn" else None, where)


_MERGE_MODES = {
    "sum": "adds the two directions' outputs",
    "mul": "multiplies the two directions' outputs",
    "ave": "averages the two directions' outputs",
    None: "returns the two directions' outputs separately",
}


def _bidirectional(wrapper, config, where):
    """A bidirectional rnn/lstm/gru layer from a Keras Bidirectional(SimpleRNN | LSTM | GRU)."""
    merge_mode = config.get("merge_mode", "concat")
    if merge_mode != "concat":
        does = _MERGE_MODES.get(merge_mode, "combines the two directions' outputs in its own way")
        raise ConversionError(f"{where}: merge_mode={merge_mode!r} is not supported: it {does}, while Recur's "
                              "bidirectional layer concatenates them, [forward, backward] "
                              "(merge_mode='concat'). Rebuild the wrapper with merge_mode='concat' and "
                              "retrain, or combine the two halves of Recur's output yourself")
    forward, backward = getattr(wrapper, "forward_layer", None), getattr(wrapper, "backward_layer", None)
    if forward is None or backward is None:
        raise ConversionError(f"{where}: a Bidirectional layer without forward_layer and backward_layer "
                              "(is it built?)")
    name, backward_name = type(forward).__name__, type(backward).__name__
    if name not in _RECURRENT:
        raise ConversionError(f"{where}: Bidirectional({name}) is not supported (supported: "
                              "Bidirectional of SimpleRNN, LSTM or GRU)")
    if backward_name != name:
        raise ConversionError(f"{where}: its backward layer is a {backward_name} and its forward layer a "
                              f"{name}; Recur's bidirectional layer has two cells of the same kind")
    kind = _RECURRENT[name]
    forward_config, backward_config = forward.get_config(), backward.get_config()
    if forward_config.get("go_backwards", False):
        raise ConversionError(f"{where}: the wrapped layer has go_backwards=True, so the first half of the "
                              "output runs backwards in time; Recur's bidirectional layer runs it forwards")
    if not backward_config.get("go_backwards", True):
        raise ConversionError(f"{where}: its backward layer has go_backwards=False, so both halves run "
                              "forwards in time; Recur's bidirectional layer runs the second half backwards")
    if not forward_config.get("return_sequences", False):
        raise ConversionError(
            f"{where}: return_sequences=False on the wrapped {name} is not supported: Keras then outputs the "
            "forward cell's last step joined with the backward cell's output at step 0 (where it ends), which "
            "is no one step of Recur's output. Set return_sequences=True (Recur outputs every step); the "
            "wrapper's old output is then ys[:, -1, :units] joined with ys[:, 0, units:]")
    for key, default in (("units", None), ("activation", "tanh"), ("use_bias", True)):
        if forward_config.get(key, default) != backward_config.get(key, default):
            raise ConversionError(f"{where}: the forward layer has {key}={forward_config.get(key, default)!r} "
                                  f"and the backward layer {key}={backward_config.get(key, default)!r}; Recur's "
                                  "bidirectional layer has two cells of the same size, activation and biases")
    *cell, activation = _cell(kind, forward_config, forward.get_weights(), f"{where} forward layer")
    *reverse, _ = _cell(kind, backward_config, backward.get_weights(), f"{where} backward layer")
    return recurrent_layer(kind, *cell, activation if kind == "rnn" else None, where, reverse=reverse)


def _cell(kind, config, weights, where):
    """(weight_ih, weight_hh, bias_ih, bias_hh, activation) in PyTorch's layout from one Keras layer."""
    activation = _activation(config, where)
    if kind != "rnn":
        if activation != "tanh":
            raise ConversionError(f"{where}: activation {activation!r} is not supported (Recur's {kind} uses tanh)")
        recurrent_activation = config.get("recurrent_activation", "sigmoid")
        if recurrent_activation != "sigmoid":
            raise ConversionError(f"{where}: recurrent_activation {recurrent_activation!r} is not supported "
                                  f"(Recur's {kind} gates use sigmoid)")
    weights = [array(w, f"{where} weights") for w in weights]
    use_bias = config.get("use_bias", True)
    if len(weights) != (3 if use_bias else 2):
        raise ConversionError(f"{where}: expected {3 if use_bias else 2} weight arrays "
                              f"(kernel, recurrent_kernel[, bias]), got {len(weights)}")
    kernel, recurrent_kernel = weights[0], weights[1]
    bias = weights[2] if use_bias else None
    if kind == "gru":
        if not config.get("reset_after", True) or (bias is not None and bias.ndim == 1):
            raise ConversionError(
                f"{where}: reset_after=False is not supported: that GRU variant applies the reset gate "
                "before multiplying by the recurrent kernel, r * h, which Recur's (PyTorch's) GRU cannot "
                "express. Rebuild the layer with reset_after=True and retrain or fine-tune it")
        kernel, recurrent_kernel = keras_gru_to_torch(kernel), keras_gru_to_torch(recurrent_kernel)
        if bias is not None:
            if bias.shape[0] != 2:
                raise ConversionError(f"{where}: a reset_after GRU bias has shape (2, 3 * units), "
                                      f"got {bias.shape}")
            bias_ih, bias_hh = keras_gru_to_torch(bias[0]), keras_gru_to_torch(bias[1])
        else:
            bias_ih = bias_hh = None
    else:  # SimpleRNN and LSTM (i, f, c, o == PyTorch's i, f, g, o): one bias, as bias_ih
        bias_ih, bias_hh = bias, None
    return kernel.T, recurrent_kernel.T, bias_ih, bias_hh, activation


def keras_gru_to_torch(value):
    """Reorders the last axis's gate blocks from Keras' z, r, h to PyTorch's r, z, n."""
    z, r, h = np.split(value, 3, axis=-1)
    return np.concatenate([r, z, h], axis=-1)
