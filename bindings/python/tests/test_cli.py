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


def test_convert_torch_state_dict_without_architecture_suggests_one(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "weights.npz", **{"lstm.weight_ih_l0": rng.standard_normal((16, 2)),
                                          "lstm.weight_hh_l0": rng.standard_normal((16, 4)),
                                          "lstm.weight_ih_l1": rng.standard_normal((16, 4)),
                                          "lstm.weight_hh_l1": rng.standard_normal((16, 4)),
                                          "head.weight": rng.standard_normal((1, 4)), "head.bias": np.zeros(1)})
    assert main(["convert", "--from", "torch", str(tmp_path / "weights.npz"), str(tmp_path / "out.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pass --architecture" in err and "lstm.weight_ih_l0" in err
    suggested = err.split("--architecture '")[1].rstrip("'\n")
    assert json.loads(suggested) == [{"type": "lstm", "prefix": "lstm", "num_layers": 2},
                                     {"type": "dense", "prefix": "head"}]
    assert main(["convert", "--from", "torch", str(tmp_path / "weights.npz"), str(tmp_path / "out.json"),
                 "--architecture", suggested]) == 0


def test_convert_torch_unused_keys_name_the_cli_flag(tmp_path, capsys):
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "weights.npz", **{"rnn.weight_ih_l0": rng.standard_normal((12, 2)),
                                          "rnn.weight_hh_l0": rng.standard_normal((12, 4)),
                                          "head.weight": rng.standard_normal((1, 4))})
    arguments = ["convert", "--from", "torch", str(tmp_path / "weights.npz"), str(tmp_path / "out.json"),
                 "--architecture", '[{"type": "gru", "prefix": "rnn"}]']
    assert main(arguments) == 1
    err = capsys.readouterr().err
    assert "head.weight" in err and "--no-strict" in err and "strict=False" not in err
    assert main(arguments + ["--no-strict"]) == 0


def test_convert_errors_are_one_line_and_exit_1(tmp_path, capsys):
    (tmp_path / "junk.pt").write_bytes(b"not a torch file at all")
    (tmp_path / "arch.json").write_text("[{not json")
    runs = [["convert", "--from", "torch", str(tmp_path / "missing.pt"), str(tmp_path / "o.json")],
            ["convert", "--from", "rtneural", str(tmp_path / "junk.pt"), str(tmp_path / "o.json")],
            ["convert", "--from", "torch", str(tmp_path / "x.npz"), str(tmp_path / "o.json"),
             "--architecture", str(tmp_path / "arch.json")],
            ["convert", "--from", "tensorflow", "a", "b"],
            ["convert", "a", "b"],
            ["frobnicate"]]
    if torch_available():
        runs.append(["convert", "--from", "torch", str(tmp_path / "junk.pt"), str(tmp_path / "o.json")])
    for arguments in runs:
        assert _status(arguments) == 1, arguments
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, (arguments, err)


def _status(arguments):
    """main's return value, or the status it exits with (argparse usage errors exit)."""
    try:
        return main(arguments)
    except SystemExit as exited:
        return exited.code


def test_help_explains_from_and_architecture(capsys):
    with pytest.raises(SystemExit):
        main(["convert", "--help"])
    out = capsys.readouterr().out
    for text in ("torch.save(net)", "model_state_dict", "DataParallel", "keras", "rtneural", '"type": "lstm"',
                 '"prefix"', "num_layers", "examples:"):
        assert text in out, text


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"recur {recur.__version__} (library {recur.library_version()}")


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
    assert result.returncode == 1 and "info" in result.stderr and result.stderr.count("\n") == 1
    result = subprocess.run([sys.executable, "-m", "recur", "--version"], capture_output=True, text=True,
                            env=environment, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith(f"recur {recur.__version__} ")


class _Net:
    """A module class of a training script's own (made on demand: torch is optional)."""

    @staticmethod
    def make():
        import torch

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
                self.head = torch.nn.Linear(5, 2)

            def forward(self, x):
                return self.head(self.lstm(x)[0])

        torch.manual_seed(0)
        return Net().eval()


def _outputs_match(path, net):
    import torch
    xs = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
    with torch.no_grad():
        expected = net(torch.from_numpy(xs)).numpy()
    with recur.Model.load(path) as model:
        assert np.allclose(model.state(2).run(xs), expected, atol=1e-5)


TRAINING_SCRIPT = """
import sys, numpy as np, torch

class Net(torch.nn.Module):  # __main__.Net: the class exists only in this script
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(5, 2)

    def forward(self, x):
        return self.head(self.lstm(x)[0])

torch.manual_seed(0)
net = Net().eval()
torch.save(net, sys.argv[1] + "/net.pt")
xs = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
with torch.no_grad():
    np.save(sys.argv[1] + "/expected.npy", net(torch.from_numpy(xs)).numpy())
"""


@pytest.mark.skipif(not torch_available(), reason="torch is not installed")
def test_convert_a_whole_module_saved_with_torch_save(tmp_path, capsys):
    import torch
    subprocess.run([sys.executable, "-c", TRAINING_SCRIPT, str(tmp_path)], check=True, timeout=120)
    # Read without the script's class and without running code from the file.
    assert main(["convert", "--from", "torch", str(tmp_path / "net.pt"), str(tmp_path / "net.json")]) == 0
    out = capsys.readouterr().out
    assert "3 layers" in out and "order they were assigned in __init__: lstm, head" in out
    xs = np.random.default_rng(5).standard_normal((2, 4, 3)).astype(np.float32)
    with recur.Model.load(tmp_path / "net.json") as model:
        assert np.allclose(model.state(2).run(xs), np.load(tmp_path / "expected.npy"), atol=1e-5)

    net = _Net.make()
    sequential = torch.nn.Sequential(net.lstm, net.head)
    torch.save(sequential, tmp_path / "seq.pth")
    assert main(["convert", "--from", "torch", str(tmp_path / "seq.pth"), str(tmp_path / "seq.json")]) == 0
    _outputs_match(tmp_path / "seq.json", net)
    torch.save({"model": sequential, "epoch": 3}, tmp_path / "ckpt_module.pt")
    assert main(["convert", "--from", "torch", str(tmp_path / "ckpt_module.pt"), str(tmp_path / "m.json")]) == 0
    _outputs_match(tmp_path / "m.json", net)


@pytest.mark.skipif(not torch_available(), reason="torch is not installed")
@pytest.mark.parametrize("layout", ["model", "state_dict", "model_state_dict", "net", "dataparallel", "bare"])
def test_convert_checkpoint_layouts(tmp_path, capsys, layout):
    import torch
    net = _Net.make()
    state = net.state_dict()
    saved = {"model": {"model": state, "epoch": 3},
             "state_dict": {"state_dict": state, "optimizer": {"lr": 0.1}},
             "model_state_dict": {"epoch": 7, "model_state_dict": state, "loss": 0.25},
             "net": {"net": state},
             "dataparallel": {"state_dict": {f"module.{key}": value for key, value in state.items()}},
             "bare": state}[layout]
    torch.save(saved, tmp_path / "ckpt.pt")
    architecture = '[{"type": "lstm", "prefix": "lstm", "num_layers": 2}, {"type": "dense", "prefix": "head"}]'
    assert main(["convert", "--from", "torch", str(tmp_path / "ckpt.pt"), str(tmp_path / "out.json"),
                 "--architecture", architecture]) == 0, capsys.readouterr().err
    _outputs_match(tmp_path / "out.json", net)


@pytest.mark.skipif(not torch_available(), reason="torch is not installed")
def test_convert_a_checkpoint_without_a_state_dict_names_its_keys(tmp_path, capsys):
    import torch
    torch.save({"epoch": 3, "weights": [1, 2]}, tmp_path / "odd.pt")
    assert main(["convert", "--from", "torch", str(tmp_path / "odd.pt"), str(tmp_path / "out.json")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'epoch' (int), 'weights' (list)" in err and "model_state_dict" in err
