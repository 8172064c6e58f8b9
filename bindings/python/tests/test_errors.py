"""Error mapping: statuses -> exception classes carrying the library's message."""

import json

import numpy as np
import pytest

import recur

from conftest import EXAMPLE_MODELS, TESTDATA

MANIFEST = json.loads((TESTDATA / "invalid" / "manifest.json").read_text())
CLASSES = {
    "RECUR_ERROR_INVALID_ARGUMENT": recur.InvalidArgumentError,
    "RECUR_ERROR_PARSE": recur.ParseError,
    "RECUR_ERROR_MODEL": recur.ModelError,
    "RECUR_ERROR_IO": recur.RecurIOError,
    "RECUR_ERROR_SHAPE": recur.ShapeError,
    "RECUR_ERROR_NUMERIC": recur.NumericError,
    "RECUR_ERROR_OUT_OF_MEMORY": recur.OutOfMemoryError,
    "RECUR_ERROR_INTERNAL": recur.InternalError,
}


def test_the_manifest_covers_every_invalid_file():
    listed = {entry["file"] for entry in MANIFEST}
    on_disk = {path.name for path in (TESTDATA / "invalid").glob("*.json")} - {"manifest.json"}
    assert listed == on_disk


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
@pytest.mark.parametrize("source", ["file", "text"])
def test_invalid_document(entry, source):
    path = TESTDATA / "invalid" / entry["file"]
    with pytest.raises(recur.RecurError) as caught:
        if source == "file":
            recur.Model.load(path)
        else:
            recur.Model.from_json(path.read_bytes())
    error = caught.value
    if entry["status"] is not None:
        expected = CLASSES[entry["status"]]
        assert type(error) is expected
        assert error.status == recur.Status[entry["status"][len("RECUR_ERROR_"):]]
    assert error.message and str(error) == error.message
    for part in entry["message_contains"]:
        assert part in error.message


def test_exception_classes_are_also_builtin_ones():
    assert issubclass(recur.ParseError, ValueError) and issubclass(recur.ModelError, ValueError)
    assert issubclass(recur.ShapeError, ValueError) and issubclass(recur.RecurIOError, OSError)
    assert issubclass(recur.OutOfMemoryError, MemoryError) and issubclass(recur.InternalError, RuntimeError)
    assert issubclass(recur.ClosedError, recur.InvalidArgumentError)
    assert issubclass(recur.ConversionError, recur.RecurError) and recur.ConversionError("x").status is None


def test_an_unknown_status_keeps_its_number():
    error = recur.errors.error_for_status(99, "from the future")
    assert type(error) is recur.RecurError and error.status == 99 and error.message == "from the future"


def test_missing_file_is_an_io_error_naming_the_path(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(recur.RecurIOError) as caught:
        recur.Model.load(missing)
    assert str(missing) in caught.value.message and caught.value.status == recur.Status.IO
    with pytest.raises(OSError):
        recur.Model.load(missing)


def test_saving_into_a_missing_directory_is_an_io_error(tmp_path):
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model:
        with pytest.raises(recur.RecurIOError):
            model.save(tmp_path / "no" / "such" / "dir" / "model.json")
        with pytest.raises(recur.InvalidArgumentError, match="encoding"):
            model.save(tmp_path / "model.json", encoding="yaml")


def test_non_finite_inputs_and_states_are_numeric_errors():
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model, model.state(2) as state:
        with pytest.raises(recur.NumericError) as caught:
            state.step(np.array([[0, 0], [0, np.inf]]))
        assert "inf" in caught.value.message
        with pytest.raises(recur.NumericError):
            state.run(np.full((2, 3, 2), np.nan))
        with pytest.raises(recur.NumericError):
            state.set(np.full((2, state.size), np.nan))
        assert not state.get().any(), "a refused call changed the state"


def test_from_dict_refusals():
    with pytest.raises(recur.ModelError, match="NaN"):
        recur.Model.from_dict({"format": "recur", "version": 1, "input_size": 1,
                               "layers": [{"type": "dense", "units": 1, "weights": {"weight": [[float("nan")]]}}]})
    with pytest.raises(recur.ModelError, match="JSON"):
        recur.Model.from_dict({"format": "recur", "metadata": {"x": object()}})
    with pytest.raises(recur.ModelError, match="format"):
        recur.Model.from_dict({"format": "onnx"})


def test_argument_errors_from_the_library_carry_its_message():
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model:
        with pytest.raises(recur.InvalidArgumentError) as caught:
            model.state(0)
        assert "batch" in caught.value.message
        with model.state(2) as state:
            with pytest.raises(recur.InvalidArgumentError) as caught:
                state.reset_stream(2)
            assert caught.value.message
            with pytest.raises(recur.InvalidArgumentError, match=">= 0"):
                state.reset_stream(-1)
            with pytest.raises(recur.InvalidArgumentError):
                state.run(np.zeros((2, 0, 2)))  # zero steps


def test_shape_errors_name_expected_and_actual_shapes():
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model:
        with model.state(3) as state:
            with pytest.raises(recur.ShapeError, match=r"x must have shape \(3, 2\), got \(3, 5\)"):
                state.step(np.zeros((3, 5)))
            with pytest.raises(recur.ShapeError, match=r"x must have shape \(3, 2\), got \(2,\)"):
                state.step(np.zeros(2))  # 1-D only for batch 1
            with pytest.raises(recur.ShapeError, match=r"xs must have shape \(3, 4, 2\), got \(3, 4, 1\)"):
                state.run(np.zeros((3, 4, 1)))
            with pytest.raises(recur.ShapeError, match=r"xs must have shape \(3, steps, 2\), got \(4, 2\)"):
                state.run(np.zeros((4, 2)))
            with pytest.raises(recur.ShapeError, match="values must have shape"):
                state.set(np.zeros((3, state.size + 1)))
        with model.state() as state:
            with pytest.raises(recur.ShapeError, match=r"\(or \(2,\) for batch 1\)"):
                state.step(np.zeros(3))
            with pytest.raises(recur.ShapeError, match=r"or \(steps, 2\) for batch 1"):
                state.run(np.zeros((4, 3)))
        with pytest.raises(recur.ShapeError, match=r"layers\[0\].weight_ih must have shape \(16, 2\), got \(2, 16\)"):
            model.set_tensor(0, "weight_ih", np.zeros((2, 16)))
        with pytest.raises(recur.InvalidArgumentError, match="out of range"):
            model.get_tensor(2, "weight")
        with pytest.raises(recur.InvalidArgumentError, match="has no tensor 'weight'; it has weight_ih"):
            model.get_tensor(0, "weight")
        with pytest.raises(recur.NumericError):
            model.set_tensor(1, "bias", [np.inf])


@pytest.mark.parametrize("bad", [np.zeros((1, 2), complex), np.array([["a", "b"]]), np.array([[None, 1]], object),
                                 [[1, 2], [3]]])
def test_arrays_that_are_not_real_numbers_are_refused(bad):
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model, model.state() as state:
        with pytest.raises(recur.InvalidArgumentError, match="x"):
            state.step(bad)


def test_bad_out_arrays_are_refused():
    with recur.Model.load(EXAMPLE_MODELS / "tiny_lstm.json") as model, model.state(2) as state:
        with pytest.raises(recur.InvalidArgumentError, match="float32"):
            state.step(np.zeros((2, 2)), out=np.zeros((2, 1)))
        with pytest.raises(recur.InvalidArgumentError, match="C-contiguous"):
            state.step(np.zeros((2, 2)), out=np.zeros((2, 2), np.float32)[:, :1])
        with pytest.raises(recur.ShapeError, match=r"out must have shape \(2, 1\)"):
            state.step(np.zeros((2, 2)), out=np.zeros((2, 2), np.float32))
