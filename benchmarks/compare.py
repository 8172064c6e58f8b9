#!/usr/bin/env python3
"""Recur against its peers, measured in one run on this machine.

Runs Recur's C benchmark (build/bench/bench, through the public C ABI), the
same workloads with PyTorch (CPU) and ONNX Runtime (IOBinding), json-c's
bare parse of the L1 files (build/bench/jsonc_parse), and the machine's own
limits (yardsticks.py: stream, build/bench/stream; peak, numpy's sgemm);
prints one table with the ratios and the project's targets (TARGETS below,
and yardsticks.LIMIT_TARGETS), and writes it as markdown to
benchmarks/results/<date>-<cpu>.md, and its ratios as a bar chart beside it
(<date>-<cpu>.png, benchmarks/chart.py; matplotlib, pip-installed when
missing). RTNeural's figures come from the JSON its harness wrote in the same
session (--rtneural; README.md, "RTNeural").

    python3 benchmarks/compare.py [--quick] [--only S1,Q1,...] [--no-peers] [--rtneural FILE]

Peers are installed when missing: torch (CPU wheel from /opt/wheels, through
bindings/python/install_test_extras.sh), onnxruntime and onnx from PyPI. A peer
that cannot be installed is reported and its columns read "n/a".
All peer timings use the method of bench.c (see `time_call`).
"""
import argparse
import ctypes
import datetime
import importlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import yardsticks

ROOT = Path(__file__).resolve().parent.parent
LIB = ROOT / "build/lib/librecur.so"
BENCH = ROOT / "build/bench/bench"
JSONC = ROOT / "build/bench/jsonc_parse"
STREAM = ROOT / "build/bench/stream"
RESULTS = ROOT / "benchmarks/results"
INSTALL_TORCH = ROOT / "bindings/python/install_test_extras.sh"
WHEELS = Path(os.environ.get("PIP_FIND_LINKS", "/opt/wheels"))
# bench.c saves the L1 model to these files before loading them back.
L1_FILES = {"flat": Path("/tmp/recur_bench_L1_flat.json"), "base64": Path("/tmp/recur_bench_L1_base64.json")}

ALL_IDS = ["S1", "S1h", "S1q", "S1g", "S1r", "S2", "S2h", "S2q", "S3", "Q1", "Q2", "QF", "QB", "QL", "QLa", "T1", "T2", "L1"]
THREADED_IDS = ["S3", "Q1", "T1"]  # also measured with 2 threads

US, MS = 1e3, 1e6

# ---- Workloads (benchmarks.md) ----------------------------------------------


@dataclass(frozen=True)
class Workload:
    what: str
    kind: str  # "step": one cell step per call; "sequence": T steps per call; "train": one training step
    cell: str  # lstm, gru, rnn
    inputs: int
    hidden: int
    layers: int
    head: int
    batch: int
    steps: int
    loss: str = ""  # train: mse or ce
    optimizer: str = ""  # train: adam or sgd
    learning_rate: float = 0.0
    recur_only: bool = False  # fp16 weight storage (S1h, S2h), lengths (QL, QLa): no peer columns
    bidirectional: bool = False  # QB: each layer runs both ways, its head sees 2H
    total_steps: int = 0  # QL, QLa: the steps actually run (lengths 1..T), when not batch x steps

    @property
    def flops(self):
        """Per call: 2 per multiply-add of the matrix products; training = 3x forward."""
        gates = {"lstm": 4, "gru": 3, "rnn": 1}[self.cell]
        directions = 2 if self.bidirectional else 1
        per_step, width = 0, self.inputs
        for _ in range(self.layers):
            per_step += directions * 2 * gates * self.hidden * (width + self.hidden)
            width = directions * self.hidden
        per_step += 2 * self.head * width
        positions = self.total_steps or self.batch * self.steps
        return per_step * positions * (3 if self.kind == "train" else 1)


def ql_total_steps(batch=32, steps=128, seed=11):
    """The steps QL and QLa run: bench.c's lengths (an LCG with its seed, uniform in 1..steps)."""
    total = 0
    for _ in range(batch):
        seed = (seed * 1664525 + 1013904223) % 2**32
        total += 1 + (seed >> 8) % steps
    return total


QL_TOTAL_STEPS = ql_total_steps()

WORKLOADS = {
    "S1": Workload("LSTM 16→64, dense 4; B=1, step", "step", "lstm", 16, 64, 1, 4, 1, 1),
    "S1h": Workload("LSTM 16→64, dense 4; B=1, step; fp16 weights", "step", "lstm", 16, 64, 1, 4, 1, 1,
                    recur_only=True),
    "S1q": Workload("LSTM 16→64, dense 4; B=1, step; int8 weights", "step", "lstm", 16, 64, 1, 4, 1, 1,
                    recur_only=True),
    "S1g": Workload("GRU 16→64, dense 4; B=1, step", "step", "gru", 16, 64, 1, 4, 1, 1),
    "S1r": Workload("RNN 16→64, dense 4; B=1, step", "step", "rnn", 16, 64, 1, 4, 1, 1),
    "S2": Workload("LSTM 64→256, dense 16; B=1, step", "step", "lstm", 64, 256, 1, 16, 1, 1),
    "S2h": Workload("LSTM 64→256, dense 16; B=1, step; fp16 weights", "step", "lstm", 64, 256, 1, 16, 1, 1,
                    recur_only=True),
    "S2q": Workload("LSTM 64→256, dense 16; B=1, step; int8 weights", "step", "lstm", 64, 256, 1, 16, 1, 1,
                    recur_only=True),
    "S3": Workload("LSTM 32→128, dense 8; B=256, step", "step", "lstm", 32, 128, 1, 8, 256, 1),
    "Q1": Workload("LSTM 64→256→256, dense 16; B=32, T=128", "sequence", "lstm", 64, 256, 2, 16, 32, 128),
    "Q2": Workload("GRU 8→32, dense 1; B=1, T=1000", "sequence", "gru", 8, 32, 1, 1, 1, 1000),
    "QF": Workload("LSTM 64→256, dense 16; B=32, T=128", "sequence", "lstm", 64, 256, 1, 16, 32, 128),
    "QB": Workload("bidirectional LSTM 64→256, dense 16; B=32, T=128", "sequence", "lstm", 64, 256, 1, 16, 32, 128,
                   bidirectional=True),
    # Lengths uniform in 1..128 (bench.c's fixed seed): QL in one call, QLa each stream alone, summed.
    "QL": Workload("LSTM 64→256, dense 16; B=32, lengths 1..128, one call", "sequence", "lstm", 64, 256, 1, 16, 32, 128,
                   recur_only=True, total_steps=QL_TOTAL_STEPS),
    "QLa": Workload("the same, each stream alone, summed", "sequence", "lstm", 64, 256, 1, 16, 32, 128,
                    recur_only=True, total_steps=QL_TOTAL_STEPS),
    "T1": Workload("LSTM 32→128, dense 8; MSE, Adam; B=32, T=64", "train", "lstm", 32, 128, 1, 8, 32, 64,
                   "mse", "adam", 1e-3),
    "T2": Workload("GRU 16→64, dense 16; CE labels, SGD; B=16, T=100", "train", "gru", 16, 64, 1, 16, 16, 100,
                   "ce", "sgd", 1e-2),
}

# Targets for Recur, from the project's benchmark contract: (limit per call in ns, as written there).
TARGETS = {
    ("S1", 1): (600, "≤ 600 ns (fp32 weights from JSON)"),
    ("S1h", 1): (350, "≤ 350 ns (fp16 weight storage)"),
    ("S1g", 1): (500, "≤ 500 ns"),
    ("S1r", 1): (200, "≤ 200 ns"),
    ("S2", 1): (9 * US, "≤ 9 µs (fp32)"),
    ("S2h", 1): (5 * US, "≤ 5 µs (fp16)"),
    ("S3", 1): (280 * US, "≤ 280 µs"),
    ("S3", 2): (150 * US, "≤ 150 µs"),
    ("Q1", 1): (44 * MS, "≤ 44 ms"),
    ("Q1", 2): (24 * MS, "≤ 24 ms"),
    ("Q2", 1): (90 * US, "≤ 90 µs"),
    ("T1", 1): (7.5 * MS, "≤ 7.5 ms"),
    ("T2", 1): (2 * MS, "≤ 2 ms"),
}
L1_FLAT_FACTOR = 1.25  # flat JSON load within 1.25x of json-c's bare parse
L1_BASE64_SECONDS, L1_BASE64_MEMORY = 0.25, 3.0  # base64 load ≤ 0.25 s, peak memory ≤ 3x the file

# Workloads RTNeural runs (--rtneural): the others have no RTNeural column.
RTNEURAL_IDS = ["S1", "S1g", "S2", "Q2"]


# ---- Timing (the method of bench.c) -----------------------------------------


@dataclass
class Timing:
    median: float  # ns per call
    p10: float
    p90: float


def time_call(call, quick):
    """Warm up (0.2 s, 0.02 s with --quick, at least 3 calls); batch calls to ~2 ms per
    sample; 101 samples (31 when a call takes over 5 ms, 15 with --quick); ns per call."""
    clock = time.perf_counter_ns
    start, warm = clock(), 0
    while clock() - start < (2e7 if quick else 2e8) or warm < 3:
        call()
        warm += 1
    one = (clock() - start) / warm
    inner = 1 if one > 2e6 else int(2e6 / one)
    count = 15 if quick else (31 if one > 5e6 else 101)
    samples = []
    for _ in range(count):
        t0 = clock()
        for _ in range(inner):
            call()
        samples.append((clock() - t0) / inner)
    samples.sort()
    return Timing(samples[count // 2], samples[count // 10], samples[(count * 9) // 10])


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---- Recur and json-c ---------------------------------------------------------


def build_tools():
    """Builds build/bench/bench and build/bench/jsonc_parse when missing or older than their source."""
    if not LIB.exists():
        sys.exit(f"compare.py: {LIB.relative_to(ROOT)} not found: run 'make lib' first")
    tools = [  # binary, its source, what else it depends on, compile flags, link flags (as mk/bench.mk)
        (BENCH, ROOT / "benchmarks/bench.c", [ROOT / "include/recur.h"], ["-O2", "-std=c99"],
         ["-Iinclude", "-Lbuild/lib", "-lrecur", f"-Wl,-rpath,{LIB.parent}"]),
        (JSONC, ROOT / "benchmarks/jsonc_parse.c", [], ["-O2", "-std=c99"], ["-ljson-c"]),
        (STREAM, ROOT / "benchmarks/stream.c", [], ["-O3", "-std=c11"], []),
    ]
    for binary, source, dependencies, compile_flags, flags in tools:
        if binary.exists() and all(binary.stat().st_mtime >= f.stat().st_mtime for f in [source, *dependencies]):
            continue
        binary.parent.mkdir(parents=True, exist_ok=True)
        temporary = binary.with_name(binary.name + ".tmp")
        command = [os.environ.get("CC", "cc"), *compile_flags, str(source.relative_to(ROOT)), "-o", str(temporary)]
        log("building: " + " ".join(command + flags))
        if subprocess.run(command + flags, cwd=ROOT).returncode != 0:
            sys.exit(f"compare.py: could not build {binary.relative_to(ROOT)}")
        temporary.replace(binary)


def run_recur(ids, threads, quick):
    """Recur's bench for `ids`: {id: record} ({("L1", form): record} for L1)."""
    command = [str(BENCH), "--json", "--only", ",".join(ids), "--threads", str(threads)] + (["--quick"] if quick else [])
    log(f"recur: {' '.join(command[1:])}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"compare.py: bench failed:\n{result.stderr}")
    records = {}
    for line in result.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            records[(record["id"], record["form"]) if "form" in record else record["id"]] = record
    return records


def run_jsonc(quick):
    """json-c's bare parse of the L1 files that bench just wrote: {form: record}."""
    records = {}
    for form, path in L1_FILES.items():
        log(f"json-c: parse {path}")
        result = subprocess.run([str(JSONC), str(path), "1" if quick else "3"], capture_output=True, text=True)
        if result.returncode != 0:
            log(f"json-c: failed: {result.stderr.strip()}")
            continue
        records[form] = json.loads(result.stdout)
    return records


def recur_library_info():
    library = ctypes.CDLL(str(LIB))
    for name in ("recur_cpu_kernels", "recur_version_string"):
        getattr(library, name).restype = ctypes.c_char_p
    return library.recur_version_string().decode(), library.recur_cpu_kernels().decode()


# ---- Installing the peers --------------------------------------------------------


def try_import(name):
    importlib.invalidate_caches()
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def ensure_torch(notes):
    torch = try_import("torch")
    if torch:
        return torch
    wheels = sorted(WHEELS.glob("torch-*+cpu-*.whl"))
    if not wheels:
        notes.append(f"torch: not installed, and no CPU wheel in {WHEELS}; not pulled from PyPI (that would be "
                     "the CUDA build): PyTorch columns are n/a")
        log(notes[-1])
        return None
    log(f"torch: not installed; installing {wheels[-1].name} with {INSTALL_TORCH.relative_to(ROOT)}")
    start = time.monotonic()
    subprocess.run(["bash", str(INSTALL_TORCH)], env={**os.environ, "PYTHON": sys.executable, "PIP_FIND_LINKS": str(WHEELS)})
    torch = try_import("torch")
    notes.append(f"torch: {'installed' if torch else 'could not be installed'} "
                 f"({time.monotonic() - start:.0f} s, install_test_extras.sh, which also installs keras)")
    log(notes[-1])
    return torch


def ensure_onnxruntime(notes):
    if try_import("onnxruntime") and try_import("onnx"):
        return try_import("onnxruntime")
    log("onnxruntime/onnx: not installed; pip install onnxruntime onnx")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "onnxruntime", "onnx"])
    ort = try_import("onnxruntime") if result.returncode == 0 else None
    if ort and not try_import("onnx"):
        ort = None
    notes.append(f"onnxruntime/onnx: {'installed' if ort else 'could not be installed: ORT columns are n/a'} "
                 f"({time.monotonic() - start:.0f} s, pip install onnxruntime onnx)")
    log(notes[-1])
    return ort


# ---- PyTorch ---------------------------------------------------------------------


def random_input(*shape, seed=7):
    return np.random.default_rng(seed).uniform(-1, 1, size=shape).astype(np.float32)


def make_torch_models(torch):
    """Model classes with the state as explicit inputs and outputs (as exported to ONNX)."""
    nn = torch.nn

    class StepModel(nn.Module):
        """One cell step + dense head: forward(x, h[, c]) -> (y, h'[, c'])."""

        def __init__(self, w):
            super().__init__()
            self.lstm = w.cell == "lstm"
            self.cell = {"lstm": nn.LSTMCell, "gru": nn.GRUCell, "rnn": nn.RNNCell}[w.cell](w.inputs, w.hidden)
            self.head = nn.Linear(w.hidden, w.head)

        def forward(self, x, *state):
            if self.lstm:
                h, c = self.cell(x, state)
                return self.head(h), h, c
            h = self.cell(x, state[0])
            return self.head(h), h

    class SequenceModel(nn.Module):
        """A stack of LSTM or GRU layers over (B, T, I) + dense head at every step."""

        def __init__(self, w):
            super().__init__()
            self.lstm = w.cell == "lstm"
            kind = nn.LSTM if self.lstm else nn.GRU
            self.rnn = kind(w.inputs, w.hidden, num_layers=w.layers, batch_first=True, bidirectional=w.bidirectional)
            self.head = nn.Linear(w.hidden * (2 if w.bidirectional else 1), w.head)

        def forward(self, x, *state):
            if self.lstm:
                out, (h, c) = self.rnn(x, state if state else None)
                return self.head(out), h, c
            out, h = self.rnn(x, state[0] if state else None)
            return self.head(out), h

    return StepModel, SequenceModel


def initial_state(w):
    """Numpy zeros for the state inputs, with their ONNX names."""
    shape = (w.batch, w.hidden) if w.kind == "step" else (w.layers * (2 if w.bidirectional else 1), w.batch, w.hidden)
    names = ["h", "c"] if w.cell == "lstm" else ["h"]
    return {name: np.zeros(shape, np.float32) for name in names}


def model_input(w):
    return random_input(w.batch, w.inputs) if w.kind == "step" else random_input(w.batch, w.steps, w.inputs)


def build_torch_model(torch, w):
    torch.manual_seed(1)
    StepModel, SequenceModel = make_torch_models(torch)
    return (StepModel if w.kind == "step" else SequenceModel)(w).eval()


def torch_step(torch, w, quick):
    """Cell + Linear called directly, one step per call, state carried between calls."""
    model = build_torch_model(torch, w)
    cell, head = model.cell, model.head
    x = torch.from_numpy(model_input(w))
    state = [torch.from_numpy(s) for s in initial_state(w).values()]
    with torch.inference_mode():
        if w.cell == "lstm":
            hc = tuple(state)

            def call():
                nonlocal hc
                hc = cell(x, hc)
                head(hc[0])
        else:
            h = state[0]

            def call():
                nonlocal h
                h = cell(x, h)
                head(h)

        return time_call(call, quick)


def torch_sequence(torch, w, quick):
    """nn.LSTM / nn.GRU stack over (B, T, I) + Linear, state carried between calls."""
    model = build_torch_model(torch, w)
    x = torch.from_numpy(model_input(w))
    state = [torch.from_numpy(s) for s in initial_state(w).values()]
    with torch.inference_mode():
        def call():
            nonlocal state
            _, *state = model(x, *state)

        return time_call(call, quick)


def torch_train(torch, w, quick):
    """One training step: forward over (B, T, I), loss on every step, backward, optimizer step."""
    model = build_torch_model(torch, w).train()
    x = torch.from_numpy(random_input(w.batch, w.steps, w.inputs, seed=11))
    if w.loss == "mse":
        target = torch.from_numpy(random_input(w.batch, w.steps, w.head, seed=13))
        loss_fn = torch.nn.MSELoss()
    else:
        target = torch.arange(w.batch * w.steps) * 7 % w.head
        loss_fn = torch.nn.CrossEntropyLoss()
    optimizer_class = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}[w.optimizer]
    optimizer = optimizer_class(model.parameters(), lr=w.learning_rate)

    def call():
        optimizer.zero_grad(set_to_none=True)
        y = model(x)[0]
        loss = loss_fn(y.reshape(-1, w.head), target) if w.loss == "ce" else loss_fn(y, target)
        loss.backward()
        optimizer.step()

    return time_call(call, quick)


def run_torch(torch, ids, threads, quick):
    functions = {"step": torch_step, "sequence": torch_sequence, "train": torch_train}
    torch.set_num_threads(threads)
    results = {}
    for id in ids:
        w = WORKLOADS[id]
        results[id] = functions[w.kind](torch, w, quick)
        log(f"torch  {id:<4} {threads} thread(s): {format_time(results[id].median)}")
    torch.set_num_threads(1)
    return results


# ---- ONNX Runtime ----------------------------------------------------------------


def export_onnx(torch, w, directory):
    """Exports the workload's torch model (state as explicit inputs and outputs); returns
    the path and the torch model (to check ORT against it)."""
    model = build_torch_model(torch, w)
    state = initial_state(w)
    args = (torch.from_numpy(model_input(w)),) + tuple(torch.from_numpy(s) for s in state.values())
    path = Path(directory) / f"{w.cell}_{w.kind}_{w.inputs}_{w.hidden}_{w.batch}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(path), dynamo=False, opset_version=17,
                          input_names=["x", *state], output_names=["y", *(name + "_out" for name in state)])
    return path, model


def ort_session(ort, path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def check_ort(torch, session, model, w):
    """ORT's output for the first call equals torch's (a wrong export would time the wrong thing)."""
    x, state = model_input(w), initial_state(w)
    expected = model(torch.from_numpy(x), *(torch.from_numpy(s) for s in state.values()))[0].detach().numpy()
    got = session.run(["y"], {"x": x, **state})[0]
    if not np.allclose(got, expected, rtol=1e-3, atol=1e-4):
        log(f"ort: WARNING: output differs from torch's by up to {np.abs(got - expected).max():.2g}")


def ort_inference(ort, torch, w, path, model, threads, quick):
    """IOBinding with preallocated OrtValues. The state is carried between calls by two
    bindings used in turn: one reads state A and writes state B, the other the reverse."""
    session = ort_session(ort, path, threads)
    check_ort(torch, session, model, w)
    state = initial_state(w)
    arrays = {"x": model_input(w), "y": np.empty(session.get_outputs()[0].shape, np.float32)}
    for name, zeros in state.items():
        arrays[name + "_a"], arrays[name + "_b"] = zeros.copy(), zeros.copy()
    values = {key: ort.OrtValue.ortvalue_from_numpy(array) for key, array in arrays.items()}
    bindings = []
    for source, destination in (("_a", "_b"), ("_b", "_a")):
        binding = session.io_binding()
        binding.bind_ortvalue_input("x", values["x"])
        binding.bind_ortvalue_output("y", values["y"])
        for name in state:
            binding.bind_ortvalue_input(name, values[name + source])
            binding.bind_ortvalue_output(name + "_out", values[name + destination])
        bindings.append(binding)
    turn = 0

    def call():
        nonlocal turn
        session.run_with_iobinding(bindings[turn])
        turn ^= 1

    return time_call(call, quick)


def run_ort(ort, torch, ids, threads, quick):
    results = {}
    with tempfile.TemporaryDirectory(prefix="recur_compare_") as directory:
        for id in ids:
            w = WORKLOADS[id]
            if w.kind == "train":
                continue  # no training in ORT
            path, model = export_onnx(torch, w, directory)
            results[id] = ort_inference(ort, torch, w, path, model, threads, quick)
            log(f"ort    {id:<4} {threads} thread(s): {format_time(results[id].median)}")
    return results


# ---- The table -------------------------------------------------------------------


def format_time(ns):
    if ns is None:
        return "n/a"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            value = ns / scale
            return f"{value:.3g} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{ns:.0f} ns"


def format_ratio(peer, recur):
    return f"{peer / recur:.2f}x" if peer is not None and recur else "n/a"


def rtneural_columns(id, threads, mine, rtneural):
    """RTNeural compile-time, run-time, and its best / Recur ("not measured" without --rtneural)."""
    if id not in RTNEURAL_IDS or threads != 1:
        return ["—", "—", "—"]
    if rtneural is None:
        return ["not measured"] * 3
    times = [rtneural[(id, api)]["median_ns"] if (id, api) in rtneural else None for api in yardsticks.RTNEURAL_APIS]
    measured = [t for t in times if t is not None]
    return [format_time(t) for t in times] + [format_ratio(min(measured), mine) if measured else "n/a"]


def limit_columns(id, threads, mine, streams, peak):
    """Recur's ratio to this machine's limit, benchmarks.md's target for it, met."""
    text, value, kind = yardsticks.limit_ratio(id, threads, mine, WORKLOADS[id].flops, streams, peak)
    return [text, *yardsticks.limit_target(id, threads, value, kind)]


def workload_rows(ids, recur, torch_times, ort_times, rtneural, streams, peak):
    """One row per (id, threads): id, threads, workload, Recur, the peers, ratios, limit ratio and
    target, time target."""
    rows = []
    for threads in (1, 2):
        for id in ids:
            if id == "L1" or (threads == 2 and id not in THREADED_IDS):
                continue
            record = recur[threads].get(id)
            mine = record["median_ns"] if record else None
            peer_torch = torch_times.get((id, threads))
            peer_ort = ort_times.get((id, threads))
            rt = rtneural_columns(id, threads, mine, rtneural)
            limits = limit_columns(id, threads, mine, streams, peak)
            if WORKLOADS[id].recur_only:
                rows.append([id, str(threads), WORKLOADS[id].what, format_time(mine), "—", "—", "—", "—", "—", "—",
                             "—", *limits, *target_columns(id, threads, mine)])
                continue
            rows.append([id, str(threads), WORKLOADS[id].what, format_time(mine), rt[0], rt[1],
                         format_time(peer_torch and peer_torch.median), format_time(peer_ort and peer_ort.median),
                         rt[2], format_ratio(peer_torch and peer_torch.median, mine),
                         format_ratio(peer_ort and peer_ort.median, mine), *limits, *target_columns(id, threads, mine)])
    return rows


# (numerator, denominator, what the ratio says, its target): issue 13's rows.
PAIRS = [("S2q", "S2", "int8 weights / fp32 weights, one LSTM 64→256 step", 0.5, "≤ 0.5x (2x faster)"),
         ("S2h", "S2", "fp16 weights / fp32 weights, one LSTM 64→256 step", 0.6, "≤ 0.6x"),
         ("QB", "QF", "a bidirectional layer / the same layer forward only", 2.2, "about 2x (≤ 2.2x)"),
         ("QL", "QLa", "mixed lengths in one call / each stream alone for its length, summed", 1.0, "≤ 1x")]
PAIR_HEADER = ["ratio", "what", "Recur", "target", "met"]


def pair_rows(recur):
    rows = []
    for top, bottom, what, bound, text in PAIRS:
        if top in recur and bottom in recur:
            value = recur[top]["median_ns"] / recur[bottom]["median_ns"]
            rows.append([f"{top}/{bottom}", what, f"{value:.2f}x", text, "met" if value <= bound else "NOT met"])
    return rows


def target_columns(id, threads, mine):
    limit, text = TARGETS.get((id, threads), (None, "—"))
    met = "—" if limit is None or mine is None else ("met" if mine <= limit else "NOT met")
    return [text, met]


WORKLOAD_HEADER = ["id", "threads", "workload", "Recur", "RTNeural CT", "RTNeural RT", "PyTorch", "ORT",
                   "RTNeural/Recur", "PyTorch/Recur", "ORT/Recur", "Recur vs limit", "limit target", "met",
                   "time target", "met"]
LIMIT_HEADER = ["yardstick", "time / rate", "loads", "measured"]
L1_HEADER = ["form", "file", "Recur load", "Recur peak RSS", "json-c parse", "json-c peak RSS", "json-c/Recur",
             "target", "met"]


def l1_rows(recur, jsonc):
    rows = []
    for form in L1_FILES:
        record = recur[1].get(("L1", form))
        if not record:
            continue
        size, seconds, peak = record["file_bytes"], record["median_ns"] / 1e9, record["peak_rss_kb"] * 1024
        other = jsonc.get(form)
        if form == "flat":
            text = f"≤ {L1_FLAT_FACTOR}x json-c's parse"
            met = "n/a" if not other else ("met" if seconds <= L1_FLAT_FACTOR * other["parse_s"] else "NOT met")
        else:
            text = f"≤ {L1_BASE64_SECONDS} s, peak ≤ {L1_BASE64_MEMORY:g}x file"
            met = "met" if seconds <= L1_BASE64_SECONDS and peak <= L1_BASE64_MEMORY * size else "NOT met"
        rows.append([form, f"{size / 1e6:.1f} MB", f"{seconds:.3f} s", f"{peak / 1e6:.0f} MB ({peak / size:.1f}x file)",
                     f"{other['parse_s']:.3f} s" if other else "n/a",
                     f"{other['peak_rss_kb'] * 1024 / 1e6:.0f} MB" if other else "n/a",
                     f"{other['parse_s'] / seconds:.2f}x" if other else "n/a", text, met])
    return rows


def detail_rows(ids, recur, torch_times, ort_times, rtneural, peak):
    """Median and spread of every timed call, GFLOP/s, and the fraction of the 1-thread peak."""
    rows = []
    for threads in (1, 2):
        for id in ids:
            if id == "L1" or (threads == 2 and id not in THREADED_IDS):
                continue
            record = recur[threads].get(id)
            timings = [("Recur", Timing(record["median_ns"], record["p10_ns"], record["p90_ns"]) if record else None)]
            for api in yardsticks.RTNEURAL_APIS:
                found = (rtneural or {}).get((id, api)) if threads == 1 else None
                timings.append((f"RTNeural {api}" + (f" ({found['build']})" if found and "build" in found else ""),
                                Timing(found["median_ns"], found["p10_ns"], found["p90_ns"]) if found else None))
            timings += [("PyTorch", torch_times.get((id, threads))), ("ORT", ort_times.get((id, threads)))]
            for engine, timing in timings:
                if timing:
                    gflops = WORKLOADS[id].flops / timing.median
                    rows.append([id, str(threads), engine, format_time(timing.median),
                                 f"{format_time(timing.p10)} .. {format_time(timing.p90)}", f"{gflops:.2f}",
                                 f"{gflops / peak.gflops:.2f}" if peak else "n/a"])
    return rows


def text_table(header, rows):
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---- The machine -----------------------------------------------------------------


def cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown-cpu"


def physical_cores():
    try:
        fields = dict(line.split(":", 1) for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                      if ":" in line)
        return int(fields["Core(s) per socket"]) * int(fields["Socket(s)"])
    except (OSError, KeyError, ValueError):
        return None


def slug(text):
    text = re.sub(r"\((r|tm|c)\)", "", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


# ---- The chart -------------------------------------------------------------------


def ensure_matplotlib():
    """matplotlib, installed with pip when missing (an optional dependency): True when importable."""
    if try_import("matplotlib"):
        return True
    log("matplotlib: not installed; pip install -q matplotlib")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"])
    found = result.returncode == 0 and try_import("matplotlib") is not None
    log(f"matplotlib: {'installed' if found else 'could not be installed'} ({time.monotonic() - start:.0f} s)")
    return found


def draw_chart(markdown, rows, cpu, started, quick):
    """The workloads' ratio columns as a bar chart (benchmarks/chart.py), written next to the
    markdown file with its stem: (path, None), or (None, why not)."""
    import chart

    if not chart.chart_rows(WORKLOAD_HEADER, rows)[1]:
        return None, "no row of this run has a peer's ratio to draw"
    if not ensure_matplotlib():
        return None, "matplotlib could not be imported, nor installed with 'pip install -q matplotlib'"
    title = "Recur vs peers: speed ratio (peer time / Recur time)" + (" (--quick)" if quick else "")
    try:
        return chart.draw_ratios(markdown.with_suffix(".png"), WORKLOAD_HEADER, rows, title,
                                 f"{cpu}, {started:%Y-%m-%d}"), None
    except Exception as error:  # a chart must not cost the measurements
        return None, f"drawing it failed ({type(error).__name__}: {error})"


# ---- Main ------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (bench --quick)")
    parser.add_argument("--only", help="comma-separated workload ids: " + ",".join(ALL_IDS))
    parser.add_argument("--no-peers", action="store_true", help="Recur (and json-c for L1) only")
    parser.add_argument("--rtneural", metavar="FILE",
                        help="RTNeural's figures, the JSON its harness wrote in this session (README.md)")
    args = parser.parse_args()
    ids = ALL_IDS if not args.only else [id for id in ALL_IDS if id in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(ALL_IDS) if args.only else set()
    if unknown or not ids:
        parser.error(f"unknown workload id(s): {','.join(sorted(unknown)) or args.only}")
    threaded = [id for id in ids if id in THREADED_IDS]
    peer_ids = [id for id in ids if id != "L1" and not WORKLOADS[id].recur_only]

    started = datetime.datetime.now()
    load_before = os.getloadavg()
    build_tools()
    version, kernels = recur_library_info()

    recur = {1: run_recur(ids, 1, args.quick), 2: run_recur(threaded, 2, args.quick) if threaded else {}}
    jsonc = run_jsonc(args.quick) if "L1" in ids else {}
    log("yardsticks: stream (build/bench/stream), peak (numpy sgemm, 1 thread)")
    streams = yardsticks.run_stream(STREAM, WORKLOADS, ids, args.quick)
    peak = yardsticks.run_peak() if any(id in yardsticks.PEAK_IDS for id in ids) else None
    rtneural, rtneural_method = yardsticks.load_rtneural(args.rtneural) if args.rtneural else (None, None)

    notes, versions = [], {}
    torch_times, ort_times = {}, {}
    if args.no_peers:
        notes.append("--no-peers: PyTorch and ORT not measured")
    elif peer_ids:
        torch = ensure_torch(notes)
        ort = ensure_onnxruntime(notes) if torch else None
        if torch and not ort:
            notes.append("ORT: not measured (needs onnxruntime and onnx)")
        if not torch:
            notes.append("ORT: not measured (its models are exported from torch)")
        if torch:
            versions["torch"] = torch.__version__
            for threads, run_ids in ((1, peer_ids), (2, threaded)):
                for id, timing in run_torch(torch, run_ids, threads, args.quick).items():
                    torch_times[(id, threads)] = timing
        if ort:
            versions["onnxruntime"] = ort.__version__
            versions["onnx"] = importlib.import_module("onnx").__version__
            for threads, run_ids in ((1, peer_ids), (2, [id for id in threaded if WORKLOADS[id].kind != "train"])):
                for id, timing in run_ort(ort, torch, run_ids, threads, args.quick).items():
                    ort_times[(id, threads)] = timing
    versions["numpy"] = np.__version__
    load_after = os.getloadavg()

    if not args.rtneural and any(id in RTNEURAL_IDS for id in ids):
        notes.append("RTNeural: not measured (no --rtneural FILE; README.md, \"RTNeural\", says how)")
    rows = workload_rows(ids, recur, torch_times, ort_times, rtneural, streams, peak)
    pairs = pair_rows(recur[1])
    l1 = l1_rows(recur, jsonc)
    details = detail_rows(ids, recur, torch_times, ort_times, rtneural, peak)
    limits = [[id, f"{stream.ns:.0f} ns", stream.isa, stream.detail] for id, stream in streams.items()]
    if peak:
        limits.append(["peak", f"{peak.gflops:.1f} GFLOP/s", "OpenBLAS", peak.detail])
    cpu, cores = cpu_model(), physical_cores()
    machine = [
        f"date: {started:%Y-%m-%d %H:%M}",
        f"CPU: {cpu}, {cores or '?'} cores ({os.cpu_count()} logical CPUs); kernel {platform.release()}",
        f"Recur {version}, kernels: {kernels} (build/lib/librecur.so, through the C ABI from C)",
        "peers: " + ", ".join(f"{name} {v}" for name, v in versions.items()) + f"; Python {platform.python_version()}",
        f"load average before/after: {load_before[0]:.2f} / {load_after[0]:.2f}",
        "options: " + (" ".join(sys.argv[1:]) or "(none)"),
    ]

    # The terminal.
    print("\n".join(machine))
    for note in notes:
        print("note: " + note)
    if rows:
        print("\nTimes per call (median); ratio = peer time / Recur time (> 1: Recur is faster)\n")
        print(text_table(WORKLOAD_HEADER, rows))
    if pairs:
        print("\nVariants of one workload, Recur against itself (1 thread)\n")
        print(text_table(PAIR_HEADER, pairs))
    if l1:
        print("\nL1: loading a 13.6M-parameter model (LSTM 256→1024, LSTM 1024→1024) from JSON\n")
        print(text_table(L1_HEADER, l1))
    if limits:
        print("\nThe machine's limits, measured in this run (vs limit: Recur / stream time, or Recur GFLOP/s / peak)\n")
        print(text_table(LIMIT_HEADER, limits))

    # The markdown file.
    suffix = "-quick" if args.quick else ""
    suffix += "-" + "-".join(ids).lower() if args.only else ""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{started:%Y-%m-%d}-{slug(cpu)}{suffix}.md"
    sections = [f"# Recur vs peers, {started:%Y-%m-%d}, {cpu}", "\n".join("- " + line for line in machine)]
    if notes:
        sections.append("Notes:\n\n" + "\n".join("- " + note for note in notes))
    if rows:
        sections.append("## Workloads\n\nMedian time per call. Ratio = peer time / Recur time (> 1: Recur is faster). "
                        "Recur vs limit: Recur's time / stream time, or Recur's GFLOP/s / peak (the machine's limits below). "
                        "limit target: benchmarks.md's targets as ratios (LIMIT_TARGETS in benchmarks/yardsticks.py); "
                        "time target: absolute times (TARGETS in benchmarks/compare.py).\n\n" + markdown_table(WORKLOAD_HEADER, rows))
    if pairs:
        sections.append("## Variants of one workload\n\nRecur against itself, 1 thread, medians of the rows above.\n\n"
                        + markdown_table(PAIR_HEADER, pairs))
    if l1:
        sections.append("## L1: loading a 13.6M-parameter model from JSON\n\nRecur: `recur_model_load_file`, best of "
                        "the runs, peak RSS of the loading process. json-c: `json_tokener_parse_ex` over the file text "
                        "in memory, best of the runs, peak RSS of the parsing process.\n\n" + markdown_table(L1_HEADER, l1))
    if details:
        sections.append("## Spread\n\n10th..90th percentile of the per-call samples; GFLOP/s at the median "
                        "(2 per multiply-add; training = 3x forward).\n\n"
                        + markdown_table(["id", "threads", "engine", "median", "p10 .. p90", "GFLOP/s", "of peak"],
                                         details))
    if limits:
        sections.append("## The machine's limits (yardsticks), measured in this run\n\nstream: median time per pass of "
                        "build/bench/stream over the model's weight bytes (parameters x 4; fp16: half of them, the "
                        "larger of reading and widening them); vs limit = Recur's time / stream. peak: numpy's "
                        "single-thread sgemm; vs limit = Recur's GFLOP/s / peak (1-thread rows only).\n\n"
                        + markdown_table(LIMIT_HEADER, limits))
    if rtneural_method:
        sections.append("## RTNeural: how it was measured\n\n" + "\n".join(
            f"- {key}: {value}" for key, value in rtneural_method.items()))
    path.write_text("\n\n".join(sections) + "\n")
    print(f"\nwritten: {path.relative_to(ROOT)}")

    # The chart (benchmarks/chart.py), next to the markdown file, which then links it or says why not.
    picture, why_not = draw_chart(path, rows, cpu, started, args.quick)
    at = next((i + 1 for i, section in enumerate(sections) if section.startswith("## Workloads")), len(sections))
    if picture:
        sections.insert(at, "## Chart\n\nThe ratio columns above: peer time / Recur time, log scale (> 1: Recur is "
                        f"faster).\n\n![Recur vs peers, speed ratios]({picture.name})")
        print(f"written: {picture.relative_to(ROOT)}")
    else:
        sections.insert(at, f"## Chart\n\nNote: no chart: {why_not}.")
        print(f"note: no chart: {why_not}")
    path.write_text("\n\n".join(sections) + "\n")


if __name__ == "__main__":
    main()
