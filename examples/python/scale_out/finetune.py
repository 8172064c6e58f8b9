#!/usr/bin/env python3
"""Fine-tune one model per robot, as parallel Ray tasks, and save each one.

    python3 examples/python/scale_out/finetune.py [--robots N] [--steps S] [--out DIR]

1. Makes the base model in the driver (fleet.py: GRU 8 -> 32, dense 1; trained
   briefly on logs of 32 other robots) and puts it in Ray's object store once:
   `ray.put(base)` pickles it, and a recur.Model pickles as its JSON document.
2. Starts one Ray task per robot (default 64; `ray.init(num_cpus=2)`, so two
   run at a time). Each task unpickles its own copy of the base model,
   measures the error on 8 held-out logs of its robot, trains S steps (default
   30, Adam) on 16 other logs of that robot with `model.trainer(...)`, measures
   again, saves the adapted model (`model.save`) as DIR/robot_NN.json and
   returns the errors before and after.
3. The driver checks that every saved model loads, that it reproduces the
   error its task measured (so the file is the trained model, bit for bit),
   that each task's error before training is the base model's (each task
   trained its own copy of the base, never another task's model), that the
   losses decreased for at least 90% of the robots, and that its own base
   model was not changed by the tasks.

DIR defaults to a temporary directory that is removed at the end. Needs
ray (pip install "ray[data]"; bindings/python/install_test_extras.sh installs
it), numpy and the recur package. Exits 1 if a check fails.
"""

import argparse
import os
import pathlib
import shutil
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import fleet  # noqa: E402

recur = fleet.import_recur()

TRAIN_LOGS, HELD_OUT_LOGS = 16, 8


def finetune(base, robot, out_dir, steps):
    """One robot (runs as a Ray task): `base` arrived pickled, so it is this task's own model."""
    started = time.perf_counter()
    xs, targets, lengths = fleet.robot_logs(robot, TRAIN_LOGS + HELD_OUT_LOGS)
    train = xs[:TRAIN_LOGS], targets[:TRAIN_LOGS], lengths[:TRAIN_LOGS]
    held_out = xs[TRAIN_LOGS:], targets[TRAIN_LOGS:], lengths[TRAIN_LOGS:]
    before = fleet.masked_mse(base, *held_out)
    with base.trainer(fleet.TRAINER_CONFIG) as trainer:
        losses = [trainer.step(*train[:2], lengths=train[2]) for _ in range(steps)]
    after = fleet.masked_mse(base, *held_out)
    path = pathlib.Path(out_dir) / f"robot_{robot:02d}.json"
    base.save(path)
    base.close()
    return {"robot": robot, "path": str(path), "before": before, "after": after,
            "train_first": losses[0], "train_last": losses[-1],
            "seconds": time.perf_counter() - started, "worker": os.getpid()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--robots", type=int, default=64, help="how many robots (one task each)")
    parser.add_argument("--steps", type=int, default=30, help="training steps per robot")
    parser.add_argument("--out", help="where to save the adapted models (default: a temporary directory)")
    args = parser.parse_args()

    started = time.perf_counter()
    ray = fleet.start_ray(recur, num_cpus=2)
    if ray is None:
        return 1
    print(f"ray {ray.__version__}: local cluster with {int(ray.cluster_resources()['CPU'])} CPUs "
          f"up in {time.perf_counter() - started:.1f} s")

    base = fleet.base_model(recur, steps=200)
    base_json = base.to_json("base64")
    base_ref = ray.put(base)                 # pickled once (its JSON document); every task gets its own copy
    out_dir = pathlib.Path(args.out) if args.out else pathlib.Path(tempfile.mkdtemp(prefix="recur_robots_"))
    out_dir.mkdir(parents=True, exist_ok=True)

    task = ray.remote(num_cpus=1)(finetune)
    started = time.perf_counter()
    pending = [task.remote(base_ref, robot, str(out_dir), args.steps) for robot in range(args.robots)]
    results = []
    while pending:
        done, pending = ray.wait(pending, num_returns=min(len(pending), 16))
        results += ray.get(done)
        print(f"  {len(results)}/{args.robots} robots fine-tuned ({time.perf_counter() - started:.1f} s)")
    seconds = time.perf_counter() - started
    results.sort(key=lambda r: r["robot"])
    busy = sum(r["seconds"] for r in results)
    workers = len({r["worker"] for r in results})
    print(f"{args.robots} tasks of {args.steps} steps in {seconds:.1f} s on {workers} worker processes "
          f"({busy:.1f} s inside the tasks)")

    failures = []
    for r in results:
        try:
            model = recur.Model.load(r["path"])
        except recur.RecurError as error:
            failures.append(f"robot {r['robot']}: {r['path']} does not load: {error}")
            continue
        xs, targets, lengths = fleet.robot_logs(r["robot"], TRAIN_LOGS + HELD_OUT_LOGS)
        held_out = xs[TRAIN_LOGS:], targets[TRAIN_LOGS:], lengths[TRAIN_LOGS:]
        again = fleet.masked_mse(model, *held_out)
        if again != r["after"]:
            failures.append(f"robot {r['robot']}: the saved model's error {again!r} is not the task's {r['after']!r}")
        base_error = fleet.masked_mse(base, *held_out)
        if base_error != r["before"]:
            failures.append(f"robot {r['robot']}: the task started from another model than the base "
                            f"(error {r['before']!r}, the base's {base_error!r})")
        model.close()
    print(f"driver check: all {args.robots} saved models load; each reproduces its task's held-out error exactly, "
          f"and each task started from the base model" if not failures else f"driver check: {len(failures)} problems")

    before = np.array([r["before"] for r in results])
    after = np.array([r["after"] for r in results])
    better = int(np.sum(after < before))
    print(f"held-out mse per robot: median {np.median(before):.5f} -> {np.median(after):.5f} "
          f"({np.median(after / before):.0%} of before); lower for {better} of {args.robots} robots")
    for r in results[:3]:
        print(f"  robot {r['robot']:2d}: {r['before']:.5f} -> {r['after']:.5f} (training loss "
              f"{r['train_first']:.5f} -> {r['train_last']:.5f}), {pathlib.Path(r['path']).name}")
    if better < 0.9 * args.robots:
        failures.append(f"the error went down for only {better} of {args.robots} robots (expected at least 90%)")
    if base.to_json("base64") != base_json:
        failures.append("the driver's base model changed: the tasks did not get copies")

    ray.shutdown()
    if not args.out:
        shutil.rmtree(out_dir)
    for failure in failures:
        print(f"FAILED: {failure}")
    if failures:
        return 1
    print(f"ok: {args.robots} robots fine-tuned in parallel Ray tasks; every saved model loads and is better "
          f"on its robot for {better} of {args.robots}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
