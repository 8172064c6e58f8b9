"""The machine's own limits, measured in the same run as the workloads (benchmarks.md,
"The yardsticks"), and RTNeural's figures read from its harness's JSON.

- stream: build/bench/stream sums a buffer of the model's weight bytes (its parameter
  count x 4 for fp32) from cache with the widest loads (AVX-512 or AVX2, picked at run
  time); median time per pass. For fp16 storage (S1h, S2h) the limit is the larger of
  reading half the bytes and widening them to float32 (vcvtph2ps): both are lower
  bounds on a step that reads fp16 weights.
- peak: numpy's single-thread sgemm on 2048x2048 float32, in a subprocess with
  OPENBLAS_NUM_THREADS=1 and without OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE.
"""
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Single-stream workloads bound by reading their weights, and batched ones bound by FLOPs.
STREAM_IDS = ["S1", "S1h", "S1g", "S1r", "S2", "S2h"]
PEAK_IDS = ["S3", "Q1", "Q2", "QF", "QB", "QL", "QLa", "T1", "T2"]
# Targets as ratios to the yardsticks, from benchmarks.md ("Targets").
LIMIT_TARGETS = {"S1": ("stream", 1.15), "S1g": ("stream", 1.15), "S2": ("stream", 1.05),
                 "S3": ("peak", 0.88), "Q1": ("peak", 0.98), "Q2": ("peak", 0.55), "T1": ("peak", 0.85),
                 "T2": ("peak", 0.80)}
PEAK_SIZE, PEAK_REPEATS = 2048, 11


def weight_bytes(w):
    """fp32 bytes of the workload's parameters: gate matrices and both biases of each
    recurrent layer, the dense head's weight and bias (= recur_model_parameter_count x 4)."""
    gates = {"lstm": 4, "gru": 3, "rnn": 1}[w.cell]
    count, width = 0, w.inputs
    for _ in range(w.layers):
        count += gates * w.hidden * (width + w.hidden) + 2 * gates * w.hidden
        width = w.hidden
    return 4 * (count + w.head * w.hidden + w.head)


@dataclass
class Stream:
    bytes: int  # bytes the limit reads (half the fp32 bytes for fp16 storage)
    ns: float  # the limit: median ns per pass (fp16: the larger of read and widen)
    isa: str
    detail: str  # what was measured


def run_stream(binary, workloads, ids, quick):
    """{id: Stream} for the stream-bound ids among `ids`."""
    ids = [id for id in STREAM_IDS if id in ids]
    if not ids:
        return {}
    arguments = []
    for id in ids:
        size = weight_bytes(workloads[id])
        arguments += [f"{size // 2}:fp32", f"{size // 2}:fp16"] if id.endswith("h") else [f"{size}:fp32"]
    arguments = list(dict.fromkeys(arguments))
    command = [str(binary), "--json"] + (["--quick"] if quick else []) + arguments
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        print(f"stream: failed: {result.stderr.strip()}", file=sys.stderr)
        return {}
    passes = {}
    for line in result.stdout.splitlines():
        record = json.loads(line)
        passes[(record["bytes"], record["dtype"])] = record
    streams = {}
    for id in ids:
        size = weight_bytes(workloads[id])
        if id.endswith("h"):
            read, widen = passes[(size // 2, "fp32")], passes[(size // 2, "fp16")]
            streams[id] = Stream(size // 2, max(read["median_ns"], widen["median_ns"]), read["isa"],
                                 f"{size // 2} B: read {read['median_ns']:.0f} ns ({read['gb_per_s']:.0f} GB/s), "
                                 f"widen fp16 {widen['median_ns']:.0f} ns ({widen['gb_per_s']:.0f} GB/s)")
        else:
            record = passes[(size, "fp32")]
            streams[id] = Stream(size, record["median_ns"], record["isa"],
                                 f"{size} B: {record['median_ns']:.0f} ns ({record['gb_per_s']:.0f} GB/s)")
    return streams


PEAK_SCRIPT = f"""
import json, time, numpy as np
n = {PEAK_SIZE}
rng = np.random.default_rng(1)
a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
c = np.empty((n, n), np.float32)
for _ in range(2):
    np.matmul(a, b, out=c)
samples = []
for _ in range({PEAK_REPEATS}):
    t0 = time.perf_counter_ns()
    np.matmul(a, b, out=c)
    samples.append(time.perf_counter_ns() - t0)
samples.sort()
print(json.dumps({{"median_ns": samples[len(samples) // 2], "min_ns": samples[0], "max_ns": samples[-1]}}))
"""


@dataclass
class Peak:
    gflops: float  # at the median
    detail: str


def run_peak():
    """numpy's single-thread sgemm, 2048x2048 float32: GFLOP/s at the median of the repeats."""
    env = {key: value for key, value in os.environ.items() if key not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    result = subprocess.run([sys.executable, "-c", PEAK_SCRIPT], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        print(f"peak: failed: {result.stderr.strip()}", file=sys.stderr)
        return None
    record = json.loads(result.stdout)
    flops = 2 * PEAK_SIZE ** 3
    gflops = flops / record["median_ns"]
    return Peak(gflops, f"numpy sgemm {PEAK_SIZE}x{PEAK_SIZE} float32, 1 thread (OPENBLAS_NUM_THREADS=1, "
                        f"OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset): {gflops:.1f} GFLOP/s at the median of "
                        f"{PEAK_REPEATS} (best {flops / record['min_ns']:.1f}, worst {flops / record['max_ns']:.1f})")


def limit_ratio(id, threads, recur_ns, flops, streams, peak):
    """Recur's ratio to its yardstick: ("1.23x stream" | "0.71 peak" | "—", value or None, kind)."""
    if recur_ns is None:
        return "n/a", None, None
    if id in streams and threads == 1:
        value = recur_ns / streams[id].ns
        return f"{value:.2f}x stream", value, "stream"
    if id in PEAK_IDS and threads == 1 and peak:
        value = flops / recur_ns / peak.gflops
        return f"{value:.2f} peak", value, "peak"
    return "—", None, None


def limit_target(id, threads, value, kind):
    """benchmarks.md's target for the ratio, and whether it is met."""
    if threads != 1 or id not in LIMIT_TARGETS:
        return "—", "—"
    target_kind, bound = LIMIT_TARGETS[id]
    text = f"≤ {bound}x stream" if target_kind == "stream" else f"≥ {bound} peak"
    if value is None or kind != target_kind:
        return text, "n/a"
    met = value <= bound if target_kind == "stream" else value >= bound
    return text, "met" if met else "NOT met"


# ---- RTNeural (measured by a harness outside the repository) --------------------

RTNEURAL_APIS = ("compile-time", "run-time")


def load_rtneural(path):
    """RTNeural's figures from the harness's JSON: ({(id, api): record}, method). Of several
    builds (e.g. -march=native and -mavx2 -mfma) each API keeps its fastest median."""
    document = json.loads(Path(path).read_text())
    best = {}
    for record in document["results"]:
        key = (record["id"], record["api"])
        if key not in best or record["median_ns"] < best[key]["median_ns"]:
            best[key] = record
    return best, document.get("method")
