"""Model and State API: sizes, layers, tensors, array shapes and dtypes, out=."""

import numpy as np
import pytest

import recur
from recur import _arrays

from conftest import EXAMPLE_MODELS

TINY_LSTM = EXAMPLE_MODELS / "tiny_lstm.json"
RUNNING_SUM = EXAMPLE_MODELS / "running_sum.json"


def test_running_sum_by_hand():
    with recur.Model.load(RUNNING_SUM) as model, model.state() as state:
        assert state.run([[1], [2], [3], [-2], [-10], [5]]).ravel().tolist() == [1, 3, 6, 4, 0, 5]


def test_sizes_and_layers():
    with recur.Model.load(TINY_LSTM) as model:
        assert (model.input_size, model.output_size, model.layer_count) == (2, 1, 2)
        assert (model.parameter_count, model.state_size) == (133, 8)
        lstm, dense = model.layers
        assert (lstm.type, lstm.input_size, lstm.output_size, lstm.activation) == ("lstm", 2, 4, None)
        assert lstm.tensors == {"weight_ih": (16, 2), "weight_hh": (16, 4), "bias_ih": (16,), "bias_hh": (16,)}
        assert (dense.type, dense.activation, dense.tensors) == ("dense", "linear", {"weight": (1, 4), "bias": (1,)})
        assert repr(model) == "<recur.Model lstm(2 -> 4), dense(4 -> 1, linear); 133 parameters>"
        with model.state(3) as state:
            assert (state.batch, state.size, state.input_size, state.output_size) == (3, 8, 2, 1)
            assert repr(state) == "<recur.State batch=3 size=8>"


def test_absent_biases_stay_absent():
    with recur.Model.load(RUNNING_SUM) as model:
        assert model.layers[0].tensors == {"weight_ih": (1, 1), "weight_hh": (1, 1)}
        assert "bias_ih" not in model.to_dict()["layers"][0]["weights"]


def test_get_and_set_tensor():
    document = recur.Model.load(TINY_LSTM).to_dict()
    with recur.Model.from_dict(document) as model:
        weight = model.get_tensor(1, "weight")
        assert weight.dtype == np.float32 and weight.shape == (1, 4)
        assert np.array_equal(weight.ravel(), np.float32(document["layers"][1]["weights"]["weight"]["data"]))
        model.set_tensor(1, "weight", [[1.0, 2.0, 3.0, 4.0]])
        assert model.get_tensor(1, "weight").tolist() == [[1, 2, 3, 4]]
        model.set_tensor(1, "bias", np.array([0.5], np.float64))
        assert model.to_dict()["layers"][1]["weights"]["bias"]["data"] == [0.5]


def test_from_dict_takes_numpy_arrays_and_numbers():
    document = {"format": "recur", "version": np.int64(1), "input_size": 1, "layers": [
        {"type": "dense", "units": 2, "activation": "relu",
         "weights": {"weight": np.array([[1.0], [-1.0]], np.float32), "bias": np.zeros(2)}}]}
    with recur.Model.from_dict(document) as model, model.state() as state:
        assert state.step([3.0]).tolist() == [3.0, 0.0]


def test_to_json_encodings():
    with recur.Model.load(TINY_LSTM) as model:
        flat, packed = model.to_dict("flat"), model.to_dict(encoding="base64")
        assert "data" in flat["layers"][0]["weights"]["weight_ih"]
        assert "base64" in packed["layers"][0]["weights"]["weight_ih"]
        with recur.Model.from_dict(packed) as again:
            assert again.to_json() == model.to_json()
        assert model.to_json(recur.TensorEncoding.BASE64) == model.to_json("base64")
        with pytest.raises(recur.InvalidArgumentError):
            model.to_json("hex")


def test_clone_is_independent():
    with recur.Model.load(TINY_LSTM) as model, model.clone() as copy:
        copy.set_tensor(1, "bias", [10.0])
        assert model.get_tensor(1, "bias")[0] != 10.0
        assert copy.to_json() != model.to_json()


def test_shapes_for_batch_one_and_many():
    with recur.Model.load(TINY_LSTM) as model:
        xs = np.random.default_rng(1).standard_normal((3, 5, 2)).astype(np.float32)
        with model.state(3) as state:
            batched = state.run(xs)
            assert batched.shape == (3, 5, 1)
        with model.state() as state:
            assert state.run(xs[1]).shape == (5, 1)
            state.reset()
            assert state.run(xs[1:2]).shape == (1, 5, 1)
            state.reset()
            assert state.step(xs[1, 0]).shape == (1,)
            assert state.step(xs[1, 1][np.newaxis]).shape == (1, 1)
            state.reset()
            assert np.array_equal(state.run(xs[1]), batched[1])


def test_other_dtypes_and_layouts_are_converted():
    with recur.Model.load(TINY_LSTM) as model:
        xs = np.random.default_rng(2).standard_normal((2, 5, 2))
        expected = model.state(2).run(xs.astype(np.float32))
        time_major = np.ascontiguousarray(xs.transpose(1, 0, 2)).transpose(1, 0, 2)  # not C-contiguous
        assert not time_major.flags.c_contiguous
        assert np.array_equal(model.state(2).run(time_major), expected)
        assert np.array_equal(model.state(2).run(xs.tolist()), expected)
        integers = np.arange(20).reshape(2, 5, 2) % 3
        assert np.array_equal(model.state(2).run(integers), model.state(2).run(integers.astype(np.float32)))
        assert np.array_equal(model.state(2).run(xs.astype(np.float16)),
                              model.state(2).run(xs.astype(np.float16).astype(np.float32)))


def test_float32_contiguous_inputs_are_not_copied():
    x = np.zeros((4, 3), np.float32)
    assert _arrays.float32(x) is x
    assert _arrays.float32(x.astype(np.float64)) is not x


def test_out_is_filled_and_returned():
    with recur.Model.load(TINY_LSTM) as model, model.state(2) as state:
        out = np.empty((2, 1), np.float32)
        result = state.step(np.ones((2, 2)), out=out)
        assert result is out
        outs = np.empty((2, 4, 1), np.float32)
        assert state.run(np.ones((2, 4, 2)), out=outs) is outs
        state.reset()
        assert np.array_equal(state.run(np.ones((2, 5, 2)))[:, 1:], outs)


def test_reset_stream_and_state_get_set():
    with recur.Model.load(TINY_LSTM) as model, model.state(2) as state:
        state.run(np.ones((2, 3, 2)))
        saved = state.get()
        assert saved.shape == (2, 8) and saved.dtype == np.float32 and saved.any()
        state.reset_stream(1)
        assert np.array_equal(state.get()[0], saved[0]) and not state.get()[1].any()
        state.set(saved)
        assert np.array_equal(state.get(), saved)
        state.reset()
        assert not state.get().any()
    with recur.Model.load(TINY_LSTM) as model, model.state() as state:
        state.set(np.arange(8))  # (size,) for batch 1
        assert state.get().tolist() == [list(range(8))]


def test_library_version_path_and_kernels():
    assert recur.library_version() == "0.1.0"
    assert recur.library_path().endswith(recur._library.LIBRARY_FILE)
    assert recur.cpu_kernels() in ("avx512", "avx2", "sse2", "portable", "reference")


def test_fp16_weights_and_threads():
    """fp16 storage moves outputs by at most about 1e-3; threads change nothing."""
    import json as _json
    import numpy as _np
    import recur as _recur
    from conftest import TESTDATA
    case = _json.load(open(TESTDATA / "lstm_stack_softmax.json"))
    model = _recur.Model.from_dict(case["model"])
    xs = _np.asarray(case["input"], dtype=_np.float32).reshape(case["batch"], case["steps"], -1)
    expected = _np.asarray(case["output"], dtype=_np.float32).reshape(case["batch"], case["steps"], -1)
    with model.state(batch=case["batch"]) as state:
        state.set_threads(2)
        single = model.state(batch=case["batch"]).run(xs)
        assert _np.array_equal(state.run(xs), single)
    assert model.weight_storage == "fp32"
    model.weight_storage = "fp16"
    assert model.weight_storage == "fp16"
    half = model.state(batch=case["batch"]).run(xs)
    assert _np.max(_np.abs(half - expected)) < 5e-3
    assert not _np.array_equal(half, single)
