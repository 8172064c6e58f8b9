"""What score.py and finetune.py share: the synthetic robot fleet, its sensor
logs, and the base model.

A robot's log has 8 sensor channels per step (joint loads and vibration:
sines of random frequency and phase plus noise) and runs 20 to 200 steps.
The quantity to predict is the motor's temperature, a value in (0, 1): it
follows the load with a lag, y_t = y_{t-1} + rate * (gain * load_t - y_{t-1}),
where load_t = sigmoid(w . x_t) with w the same for the whole fleet, and
`rate` and `gain` belong to each robot (its motor and its cooling). The
base model learns the fleet's average robot; fine-tuning adapts a copy to
one robot.

Everything is deterministic: log `i` depends only on SEED and i, robot `r`
(its rate, gain and logs) only on SEED and r, so any process (a Ray worker,
the driver) rebuilds exactly the same arrays.
"""

import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]

SEED = 2024
FEATURES = 8
MIN_LENGTH, MAX_LENGTH = 20, 200
HIDDEN = 32

# The base model: GRU 8 -> 32, dense 32 -> 1 with a sigmoid; no weights in the
# document, so the library draws them from "init" (docs/model-format.md).
MODEL_DOCUMENT = {
    "format": "recur",
    "version": 1,
    "input_size": FEATURES,
    "init": {"seed": SEED, "recurrent": "orthogonal"},
    "layers": [
        {"type": "gru", "hidden_size": HIDDEN},
        {"type": "dense", "units": 1, "activation": "sigmoid"},
    ],
    "metadata": {"description": "motor temperature from 8 sensor channels (examples/python/scale_out)"},
}

_LOAD_WEIGHTS = np.random.default_rng([SEED, 1]).standard_normal(FEATURES) / np.sqrt(FEATURES)


def import_recur():
    """The recur package: installed, or else the checkout's bindings/python."""
    try:
        import recur
    except ImportError:
        sys.path.insert(0, str(ROOT / "bindings" / "python"))
        import recur
    return recur


def robot(number):
    """(rate, gain) of robot `number`: how fast its motor heats and how hot it runs."""
    rng = np.random.default_rng([SEED, 2, number])
    return float(rng.uniform(0.03, 0.3)), float(rng.uniform(0.4, 1.0))


def log(number, length=None, rng=None):
    """Sensor log `number`: float32 (length, 8); length drawn from 20..200 unless given."""
    rng = rng or np.random.default_rng([SEED, 3, number])
    if length is None:
        length = int(rng.integers(MIN_LENGTH, MAX_LENGTH + 1))
    u = rng.random((3, FEATURES), dtype=np.float32)
    frequency, phase, amplitude = 0.01 + 0.14 * u[0], 2 * np.pi * u[1], 0.5 + 1.5 * u[2]
    t = np.arange(length, dtype=np.float32)[:, None]
    x = amplitude * np.sin((2 * np.pi) * frequency * t + phase)
    x += 0.1 * rng.standard_normal((length, FEATURES), dtype=np.float32)
    return x


def temperature(x, rate, gain):
    """The motor temperature for log x on a robot with this (rate, gain): float32 (length, 1)."""
    load = 1.0 / (1.0 + np.exp(-(x.astype(np.float64) @ _LOAD_WEIGHTS)))
    y = np.empty(len(x))
    level = 0.5 * gain
    for step, value in enumerate(load):
        level += rate * (gain * value - level)
        y[step] = level
    return y.astype(np.float32)[:, None]


def pad(logs):
    """Pads a list of (length_i, 8) arrays into (batch, max length, 8) zeros; returns (xs, lengths)."""
    lengths = np.array([len(x) for x in logs], dtype=np.int64)
    xs = np.zeros((len(logs), int(lengths.max()), FEATURES), np.float32)
    for row, x in enumerate(logs):
        xs[row, :len(x)] = x
    return xs, lengths


def robot_logs(number, count, length_range=(MIN_LENGTH, MAX_LENGTH)):
    """`count` logs of robot `number` with their temperatures, padded: (xs, targets, lengths)."""
    rate, gain = robot(number)
    rng = np.random.default_rng([SEED, 4, number])
    logs = [log(None, int(rng.integers(length_range[0], length_range[1] + 1)), rng) for _ in range(count)]
    xs, lengths = pad(logs)
    targets = np.zeros(xs.shape[:2] + (1,), np.float32)
    for row, x in enumerate(logs):
        targets[row, :len(x)] = temperature(x, rate, gain)
    return xs, targets, lengths


def masked_mse(model, xs, targets, lengths):
    """Mean squared error over the valid steps, computed from a forward run (float64 sum)."""
    with model.state(len(xs)) as state:
        ys = state.run(xs, lengths=lengths)
    mask = np.arange(xs.shape[1])[None, :] < lengths[:, None]
    return float(np.mean((ys[..., 0][mask].astype(np.float64) - targets[..., 0][mask]) ** 2))


TRAINER_CONFIG = {"loss": "mse", "optimizer": {"type": "adam", "learning_rate": 0.01}, "clip_gradient_norm": 1.0}


def base_model(recur, steps=60, robots=32, batch=64, verbose=True):
    """The fleet model: MODEL_DOCUMENT trained `steps` Adam steps on logs of `robots` robots
    (a stand-in for the big training run of docs/scaling.md). Deterministic."""
    model = recur.Model.from_dict(MODEL_DOCUMENT)
    per_robot = batch // robots
    parts = [robot_logs(10_000 + r, per_robot, (60, 120)) for r in range(robots)]
    width = max(p[0].shape[1] for p in parts)
    xs = np.concatenate([np.pad(p[0], ((0, 0), (0, width - p[0].shape[1]), (0, 0))) for p in parts])
    targets = np.concatenate([np.pad(p[1], ((0, 0), (0, width - p[1].shape[1]), (0, 0))) for p in parts])
    lengths = np.concatenate([p[2] for p in parts])
    with model.trainer(TRAINER_CONFIG) as trainer:
        first = last = None
        for _ in range(steps):
            last = trainer.step(xs, targets, lengths=lengths)
            first = last if first is None else first
    if verbose:
        print(f"base model: {model}; trained {steps} steps on {robots} robots' logs, mse {first:.4f} -> {last:.4f}")
    return model


def start_ray(recur, num_cpus=2):
    """Imports Ray and starts a local cluster of `num_cpus` CPUs whose workers import
    recur and fleet as this process does. Returns the ray module, or None (with a
    message on stderr) when Ray is not installed."""
    import logging
    import os
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "ERROR")   # Ray Data's notes go to its log files only
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as error:
        print(f"this example needs Ray ({error}): run bindings/python/install_test_extras.sh "
              "(or pip install \"ray[data]\")", file=sys.stderr)
        return None
    # A local cluster's workers inherit this environment: put fleet.py and the recur package on their path.
    paths = [str(HERE), str(pathlib.Path(recur.__file__).resolve().parent.parent)]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [os.environ.get("PYTHONPATH")] if p])
    ray.init(num_cpus=num_cpus, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray
