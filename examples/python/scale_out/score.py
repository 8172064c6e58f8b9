#!/usr/bin/env python3
"""Score a large set of sensor logs with Recur on Ray Data.

    python3 examples/python/scale_out/score.py [--logs N] [--batch-size B] [--workers 1,2]
                                               [--repeats R] [--sample K] [--json FILE]

1. Starts a local Ray cluster, `ray.init(num_cpus=2)`, and makes the base
   model (fleet.py: GRU 8 -> 32, dense 1, sigmoid; briefly trained).
2. Generates N synthetic sensor logs (default 100,000; 8 features, 20 to 200
   steps each) as a Ray dataset, with Ray tasks, and materializes it in the
   object store, so that the timings below are the scoring alone.
3. Scores every log with `map_batches` and a callable class, `Scorer`: Ray
   starts one actor per worker, each actor loads the model once from its JSON
   text, then gets batches of B logs (default 256), pads each batch to its
   longest log and runs it with one `state.run(xs, lengths=...)` call. A log's
   score is the model's output at its own last step (the predicted motor
   temperature). This runs with 1 worker, then 2, R times (default 2), and
   prints the throughput in logs per second of each run, end to end (actors
   starting and loading the model included) and from the first batch to the
   last, then the best run of each worker count.
4. Checks: every run gives the same score, bit for bit, for every log; the
   scores of 1 worker came from 1 process and of 2 from 2; and after Ray shuts
   down, the driver rebuilds a random sample of K logs (default 10,000),
   scores them itself with recur (no Ray, one thread: the baseline), and gets
   bit-identical scores.

--json FILE also writes the numbers (`make test-scale-out`:
build/examples/scale_out/score.json). Needs ray[data] (pip install
"ray[data]"; bindings/python/install_test_extras.sh installs it), numpy and
the recur package (found from the checkout when it is not installed). Takes
about 40 s on 2 cores. Exits 1 if a check fails.
"""

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fleet  # noqa: E402

recur = fleet.import_recur()


def make_logs(batch):
    """Ray Data stage: a batch of ids -> the logs with those ids (variable-length (T, 8) arrays)."""
    logs = np.empty(len(batch["id"]), dtype=object)
    logs[:] = [fleet.log(int(i)) for i in batch["id"]]
    return {"id": batch["id"], "log": logs}


class Scorer:
    """Ray Data stage, one instance per actor: loads the model once from its JSON
    text, then scores every batch the actor gets."""

    def __init__(self, model_json):
        import recur                                   # in the worker process
        self.model = recur.Model.from_json(model_json)
        self.worker = os.getpid()

    def __call__(self, batch):
        started, clock = time.perf_counter(), time.time()
        xs, lengths = fleet.pad(list(batch["log"]))    # (batch, longest log in this batch, 8)
        with self.model.state(len(xs)) as state:
            ys = state.run(xs, lengths=lengths)        # steps past a log's length are not computed
        scores = ys[np.arange(len(xs)), lengths - 1, 0]
        busy = time.perf_counter() - started
        n = len(xs)
        return {"id": batch["id"], "score": scores, "steps": lengths, "worker": np.full(n, self.worker),
                "busy": np.full(n, busy / n), "started": np.full(n, clock), "finished": np.full(n, clock + busy)}


def score_all(ray, logs, model_json, workers, batch_size):
    """Runs a Scorer over `logs` with `workers` actors; returns (columns sorted by id, timings).

    seconds: the whole Ray Data execution (actors start, load the model, score,
    results in the object store); scoring_seconds: from the first batch's start
    to the last batch's end; busy_seconds: the time spent inside Scorer.__call__."""
    started, clock = time.perf_counter(), time.time()
    scored = logs.map_batches(Scorer, fn_constructor_kwargs={"model_json": model_json},
                              compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
                              batch_size=batch_size, batch_format="numpy").materialize()
    seconds = time.perf_counter() - started
    parts = list(scored.iter_batches(batch_size=None, batch_format="numpy"))
    columns = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.argsort(columns["id"], kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    count = len(columns["id"])
    window = float(columns["finished"].max() - columns["started"].min())
    run = {"seconds": round(seconds, 3), "logs_per_second": round(count / seconds),
           "scoring_seconds": round(window, 3), "scoring_logs_per_second": round(count / window),
           "startup_seconds": round(float(columns["started"].min() - clock), 3),
           "busy_seconds": round(float(columns["busy"].sum()), 3),
           "load_average": round(os.getloadavg()[0], 2)}
    return columns, run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--logs", type=int, default=100_000, help="how many sensor logs to score")
    parser.add_argument("--batch-size", type=int, default=256, help="logs per map_batches batch")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to time")
    parser.add_argument("--repeats", type=int, default=2, help="time each worker count this many times; keep the best")
    parser.add_argument("--sample", type=int, default=10_000, help="logs rescored in the driver")
    parser.add_argument("--json", help="also write the measured numbers to this JSON file")
    args = parser.parse_args()
    worker_counts = [int(w) for w in args.workers.split(",")]

    started = time.perf_counter()
    ray = fleet.start_ray(recur, num_cpus=2)
    if ray is None:
        return 1
    print(f"ray {ray.__version__}: local cluster with {int(ray.cluster_resources()['CPU'])} CPUs "
          f"up in {time.perf_counter() - started:.1f} s")

    model = fleet.base_model(recur, steps=200)
    model_json = model.to_json("base64")               # what every worker loads: the model as text
    print(f"library {recur.library_version()}, kernels {recur.cpu_kernels()}, model JSON {len(model_json)} bytes")

    started = time.perf_counter()
    logs = ray.data.range(args.logs, override_num_blocks=max(2, args.logs // 2500))
    logs = logs.map_batches(make_logs, batch_size=500, batch_format="numpy").materialize()
    steps_total = None
    print(f"generated {args.logs} logs in {time.perf_counter() - started:.1f} s "
          f"({logs.num_blocks()} blocks in the object store)")

    results, failures = {}, []
    first = None
    for _ in range(args.repeats):
        for workers in worker_counts:
            columns, run = score_all(ray, logs, model_json, workers, args.batch_size)
            steps_total = int(columns["steps"].sum())
            count = len(columns["id"])
            pids = np.unique(columns["worker"])
            print(f"{workers} worker{'s' if workers > 1 else ' '}: {count} logs ({steps_total / 1e6:.1f} M steps) in "
                  f"{run['seconds']:.2f} s = {run['logs_per_second']:,} logs/s end to end; first batch after "
                  f"{run['startup_seconds']:.1f} s (actor start, model load); first to last batch "
                  f"{run['scoring_seconds']:.2f} s = {run['scoring_logs_per_second']:,} logs/s; "
                  f"{run['busy_seconds']:.2f} s inside Scorer.__call__ in {len(pids)} "
                  f"process{'es' if len(pids) > 1 else ''}; load average {run['load_average']:.1f}")
            best = results.get(workers)
            if best is None or run["seconds"] < best["seconds"]:
                results[workers] = run
            if not np.array_equal(columns["id"], np.arange(args.logs)):
                failures.append(f"{workers} workers: the scored ids are not exactly 0..{args.logs - 1}")
            if len(pids) != workers:
                failures.append(f"{workers} workers: scores came from {len(pids)} processes")
            if first is None:
                first = columns
            elif not np.array_equal(columns["score"].view(np.uint32), first["score"].view(np.uint32)):
                failures.append(f"{workers} workers: scores differ from the first run's")
            else:
                print(f"   the {count} scores are bit-identical to the first run's")
    if len(worker_counts) > 1:
        a, b = results[worker_counts[0]], results[worker_counts[-1]]
        print(f"best of {args.repeats}: " + "; ".join(
            f"{k} worker{'s' if k > 1 else ''} {results[k]['logs_per_second']:,} logs/s end to end, "
            f"{results[k]['scoring_logs_per_second']:,} first to last batch" for k in worker_counts))
        print(f"speed-up {worker_counts[0]} -> {worker_counts[-1]} workers: "
              f"{b['logs_per_second'] / a['logs_per_second']:.2f}x end to end, "
              f"{b['scoring_logs_per_second'] / a['scoring_logs_per_second']:.2f}x first to last batch")

    ray.shutdown()                                      # frees both CPUs for the driver's own run

    # The driver rebuilds a sample of logs and scores them itself, with recur directly (no Ray),
    # in its own batches: the same scores, bit for bit, whatever the batch.
    sample = np.sort(np.random.default_rng(1).choice(args.logs, size=min(args.sample, args.logs), replace=False))
    sample_logs = [fleet.log(int(i)) for i in sample]
    direct = np.empty(len(sample), np.float32)
    started = time.perf_counter()
    for at in range(0, len(sample), args.batch_size):
        xs, lengths = fleet.pad(sample_logs[at:at + args.batch_size])
        with model.state(len(xs)) as state:
            ys = state.run(xs, lengths=lengths)
        direct[at:at + len(xs)] = ys[np.arange(len(xs)), lengths - 1, 0]
    direct_seconds = time.perf_counter() - started
    matches = int(np.sum(direct.view(np.uint32) == first["score"][sample].view(np.uint32)))
    print(f"driver check: {len(sample)} sampled logs rebuilt and scored here with recur directly, no Ray "
          f"(batches of {args.batch_size}, one thread): {len(sample) / direct_seconds:,.0f} logs/s; "
          f"{matches} of {len(sample)} scores bit-identical to Ray's")
    if matches != len(sample):
        failures.append(f"driver check: {len(sample) - matches} sampled scores differ")
    print(f"scores: mean {first['score'].mean():.4f}, min {first['score'].min():.4f}, max {first['score'].max():.4f}")

    if args.json:
        with open(args.json, "w") as file:
            json.dump({"logs": args.logs, "steps": steps_total, "batch_size": args.batch_size,
                       "repeats": args.repeats, "cpus": os.cpu_count(),
                       "kernels": recur.cpu_kernels(), "ray": ray.__version__,
                       "workers": {str(k): v for k, v in results.items()},
                       "driver_logs_per_second": round(len(sample) / direct_seconds)}, file, indent=2)
    for failure in failures:
        print(f"FAILED: {failure}")
    if failures:
        return 1
    print(f"ok: scored {args.logs} logs on Ray with {' and '.join(map(str, worker_counts))} workers; "
          f"the sampled scores match recur run in the driver")
    return 0


if __name__ == "__main__":
    sys.exit(main())
