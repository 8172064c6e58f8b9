#!/usr/bin/env python3
"""Checks what gradients.py wrote: the files exist, and the measured facts
that its README states hold.

    python3 examples/python/gradients/check_results.py DIR

Only robust facts are checked, each with a wide margin (typical values from
runs with several seeds at the default settings, T = 50, in brackets):

- tanh RNN: the gradient reaching t = 0 is at most 1e-6 of the one at
  t = T-1, at the first step [1e-10 .. 1e-13] and in the median over
  training [~1e-11]; it does not learn (held-out MSE above half the 1/6
  baseline) [0.168].
- relu RNN with identity init: the ratio is above 0.1 at the first step
  [0.6 .. 0.8] and in the median over training [~1]; it learns (held-out
  MSE below half the baseline) [0.008 .. 0.03].
- GRU and LSTM, in a full run (not --quick): they learn (held-out MSE below
  0.05) [0.0001 .. 0.001], and in the last 100 steps the median ratio is
  above 1e-2 [0.15 .. 0.7], at least 1e4 times the tanh RNN's.
- LSTM at the first step: the ratio is between 1e-5 and 1 [0.007 .. 0.05];
  GRU at the first step: below 1e-3 [~1e-7].

The first-step numbers depend only on the seeded init and the first batch;
the others on training, which rounding (kernel level) can steer, hence the
margins. Exits 1 and lists the failures otherwise.
"""

import json
import pathlib
import sys

FILES = ("README.md", "gradient_norms.png", "loss_curves.png", "results.json")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.split("\n\n")[1])
    out = pathlib.Path(sys.argv[1])
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    for name in FILES:
        path = out / name
        check(path.is_file() and path.stat().st_size > 0, f"{path} exists")
    for name in ("gradient_norms.png", "loss_curves.png"):
        path = out / name
        check(path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{name} is a PNG")
    if failures:
        return 1

    results = json.loads((out / "results.json").read_text())
    models = {m["name"]: m for m in results["models"]}
    baseline = results["baseline_mse"]
    quick = results["settings"]["quick"]
    length = results["settings"]["length"]
    readme = (out / "README.md").read_text()
    tanh, relu, gru, lstm = (models[n] for n in ("tanh RNN", "relu RNN, identity init", "GRU", "LSTM"))

    for m in results["models"]:
        check(len(m["gradient_first_step"]) == length and len(m["gradient_last_step"]) == length,
              f"{m['name']}: a gradient norm for each of the {length} steps")
        check(len(m["losses"]) == results["settings"]["steps"], f"{m['name']}: a loss for every step")

    check(tanh["ratio_first_step"] < 1e-6, f"tanh RNN, first step: ratio {tanh['ratio_first_step']:.2g} < 1e-6")
    check(tanh["ratio_median"] < 1e-6, f"tanh RNN, median over training: ratio {tanh['ratio_median']:.2g} < 1e-6")
    check(tanh["validation_mse"] > 0.5 * baseline,
          f"tanh RNN does not learn: held-out MSE {tanh['validation_mse']:.4f} > {0.5 * baseline:.4f}")
    check(relu["ratio_first_step"] > 0.1, f"relu RNN, first step: ratio {relu['ratio_first_step']:.2g} > 0.1")
    check(relu["ratio_median"] > 0.1, f"relu RNN, median over training: ratio {relu['ratio_median']:.2g} > 0.1")
    check(lstm["ratio_first_step"] > 1e-5 and lstm["ratio_first_step"] < 1,
          f"LSTM, first step: ratio {lstm['ratio_first_step']:.2g} in (1e-5, 1)")
    check(gru["ratio_first_step"] < 1e-3, f"GRU, first step: ratio {gru['ratio_first_step']:.2g} < 1e-3")
    if not quick:
        check(relu["validation_mse"] < 0.5 * baseline,
              f"relu RNN learns: held-out MSE {relu['validation_mse']:.4f} < {0.5 * baseline:.4f}")
        for m in (gru, lstm):
            check(m["validation_mse"] < 0.05, f"{m['name']} learns: held-out MSE {m['validation_mse']:.4f} < 0.05")
            check(m["ratio_median_last_100"] > 1e-2,
                  f"{m['name']}, last 100 steps: median ratio {m['ratio_median_last_100']:.2g} > 1e-2")
            check(m["ratio_median_last_100"] > 1e4 * tanh["ratio_median_last_100"],
                  f"{m['name']}'s ratio is at least 1e4 times the tanh RNN's "
                  f"({m['ratio_median_last_100']:.2g} vs {tanh['ratio_median_last_100']:.2g})")
    # The README carries the measured numbers, not placeholders.
    check(f"{tanh['validation_mse']:.4f}" in readme and f"{lstm['validation_mse']:.4f}" in readme,
          "README.md holds the measured numbers")
    print(f"{len(failures)} failed" if failures else "all facts hold")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
