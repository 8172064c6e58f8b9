"""python -m recur info | convert | run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import recur
from recur.cli import main

from conftest import EXAMPLE_MODELS, ROOT, TESTDATA, load_case, torch_available
from test_convert_rtneural import rtneural_document

TINY_LSTM = str(EXAMPLE_MODELS / "tiny_lstm.json")


def test_info(capsys):
    assert main(["info", TINY_LSTM]) == 0
    out = capsys.readouterr().out
    assert "input size:  2" in out and "output size: 1" in out and "parameters:  133" in out
    assert "lstm" in out and "weight_hh [16, 4]" in out and "dense" in out and "state size:  8" in out


def test_info_shows_metadata(capsys):
    assert main(["info", str(EXAMPLE_MODELS / "running_sum.json")]) == 0
    assert "h_t = relu" in capsys.readouterr().out


def test_errors_are_one_line_and_exit_1(capsys, tmp_path):
    assert main(["info", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("recur info: cannot open") and "missing.json" in err
    assert main(["info", str(TESTDATA / "invalid" / "typo_key.json")]) == 1
    assert "hiden_size" in capsys.readouterr().err


def test_run_sequence_and_batch(tmp_path, capsys):
    xs = np.random.default_rng(0).standard_normal((3, 5, 2)).astype(np.float32)
    with recur.Model.load(TINY_LSTM) as model:
        expected = model.state(3).run(xs)
    np.save(tmp_path / "batch.npy", xs)
    assert main(["run", TINY_LSTM, str(tmp_path / "batch.npy"), "-o", str(tmp_path / "out.npy")]) == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), expected)
    np.save(tmp_path / "one.npy", xs[1].astype(np.float64))
    assert main(["run", TINY_LSTM, str(tmp_path / "one.npy")]) == 0
    printed = np.array([float(v) for v in capsys.readouterr().out.split()])
    assert np.array_equal(printed.astype(np.float32), expected[1].ravel())
    np.save(tmp_path / "bad.npy", xs[0, 0])
    assert main(["run", TINY_LSTM, str(tmp_path / "bad.npy")]) == 1
    assert "(steps, inputs) or (batch, steps, inputs)" in capsys.readouterr().err


def test_convert_rtneural(tmp_path, capsys):
    case = load_case(TESTDATA / "lstm_stack_softmax.json")
    (tmp_path / "rt.json").write_text(json.dumps(rtneural_document(case["model"])))
    out = tmp_path / "model.json"
    assert main(["convert", "--from", "rtneural", str(tmp_path / "rt.json"), str(out), "--encoding", "base64"]) == 0
    assert "3 layers" in capsys.readouterr().out
    with recur.Model.load(out) as model:
        assert model.layer_count == 3 and "base64" in out.read_text()


def test_convert_torch_state_dict_from_npz(tmp_path):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "weights.npz", **{"rnn.weight_ih_l0": rng.standard_normal((12, 2)),
                                          "rnn.weight_hh_l0": rng.standard_normal((12, 4)),
                                          "head.weight": rng.standard_normal((1, 4))})
    (tmp_path / "arch.json").write_text('[{"type": "gru", "prefix": "rnn"}, {"type": "dense", "prefix": "head"}]')
    out = tmp_path / "model.json"
    assert main(["convert", "--from", "torch", str(tmp_path / "weights.npz"), str(out),
                 "--architecture", str(tmp_path / "arch.json")]) == 0
    with recur.Model.load(out) as model:
        assert [layer.type for layer in model.layers] == ["gru", "dense"]


def test_convert_torch_needs_an_architecture(tmp_path, capsys):
    assert main(["convert", "--from", "torch", "x.pt", str(tmp_path / "out.json")]) == 1
    assert "--architecture" in capsys.readouterr().err


@pytest.mark.skipif(not torch_available(), reason="torch is not installed")
def test_convert_torch_pt_file(tmp_path):
    import torch
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, num_layers=2)
    torch.save({"state_dict": {f"rnn.{k}": v for k, v in lstm.state_dict().items()}}, tmp_path / "ckpt.pt")
    out = tmp_path / "model.json"
    assert main(["convert", "--from", "torch", str(tmp_path / "ckpt.pt"), str(out),
                 "--architecture", '[{"type": "lstm", "prefix": "rnn", "num_layers": 2}]']) == 0
    with recur.Model.load(out) as model:
        assert model.layer_count == 2 and model.parameter_count == sum(p.numel() for p in lstm.parameters())


def test_convert_keras_file(tmp_path):
    from test_convert_keras import keras
    if keras is None:
        pytest.skip("keras (with a usable backend) is not installed")
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.GRU(3, return_sequences=True),
                              keras.layers.Dense(1, activation="tanh")])
    model.save(tmp_path / "model.keras")
    out = tmp_path / "model.json"
    assert main(["convert", "--from", "keras", str(tmp_path / "model.keras"), str(out)]) == 0
    xs = np.random.default_rng(2).standard_normal((2, 5, 2)).astype(np.float32)
    with recur.Model.load(out) as converted:
        assert np.allclose(converted.state(2).run(xs), model.predict(xs, verbose=0), atol=1e-5)


def test_python_dash_m_recur():
    environment = dict(os.environ, PYTHONPATH=str(ROOT / "bindings" / "python"))
    result = subprocess.run([sys.executable, "-m", "recur", "info", TINY_LSTM], capture_output=True, text=True,
                            env=environment, timeout=60)
    assert result.returncode == 0 and "parameters:  133" in result.stdout
    result = subprocess.run([sys.executable, "-m", "recur"], capture_output=True, text=True, env=environment,
                            timeout=60)
    assert result.returncode == 2 and "info" in result.stderr
