"""int8 weight storage from Python: outputs close to float32 and the same bits
at every kernel level the library picks; training refused; back to fp32."""

import numpy as np
import pytest

import recur
from conftest import TESTDATA


def test_int8_storage_runs_close_to_float32_and_refuses_training():
    import json
    case = json.loads((TESTDATA / "lstm_stack_softmax.json").read_text())
    model = recur.Model.from_dict(case["model"])
    xs = np.array(case["input"], np.float32).reshape(case["batch"], case["steps"], model.input_size)
    exact = model.state(case["batch"]).run(xs)
    model.weight_storage = "int8"
    assert model.weight_storage == "int8"
    quantized = model.state(case["batch"]).run(xs)
    assert 0 < np.abs(quantized - exact).max() < 0.02
    with model.trainer({"loss": "mse"}) as trainer:
        with pytest.raises(recur.ModelError, match="int8"):
            trainer.step(xs, np.zeros_like(exact))
    model.weight_storage = "fp32"
    assert model.state(case["batch"]).run(xs).tobytes() == exact.tobytes()
    with pytest.raises(recur.InvalidArgumentError, match="int8"):
        model.weight_storage = "int4"
