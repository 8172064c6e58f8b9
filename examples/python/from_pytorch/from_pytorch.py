#!/usr/bin/env python3
"""From PyTorch to C: train a small model in PyTorch, convert it to Recur,
check that the outputs match, save the JSON and run it from a C program.

    python3 examples/python/from_pytorch/from_pytorch.py [--out DIR] [--runner PATH]

1. Trains a 2-layer LSTM (1 -> 24 -> 24) with a linear head in PyTorch to
   predict the next sample of a sine wave whose frequency changes per sequence.
2. Converts it with recur.convert.from_torch and runs both on the same test
   sequences: the largest absolute difference is printed and must be < 1e-5.
3. Saves the Recur model (DIR/sine_lstm.json) and the test input
   (DIR/input.txt).
4. Runs examples/python/from_pytorch/run_model.c on them: the C program loads
   the JSON with recur_model_load_file and prints every output. Its outputs
   are compared with PyTorch's (< 1e-5) and with the Python binding's (the
   same library, so the same floats, bit for bit).

--runner names an already built run_model; without it the script compiles
run_model.c with `cc` against include/ and build/lib/ (run `make lib` first).
DIR defaults to build/examples/from_pytorch/ in the project.

Without torch the script prints "skipped: torch not installed" and exits 0.
Needs numpy and the recur package (bindings/python; found from the checkout
when it is not installed).
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[3]
TOLERANCE = 1e-5


def import_recur():
    try:
        import recur
    except ImportError:
        sys.path.insert(0, str(ROOT / "bindings" / "python"))
        import recur
    return recur


def sine_batch(rng, batch, steps):
    """Sequences of sin(w t + phase), w in [0.1, 0.4]: inputs x_t and targets x_{t+1}."""
    import numpy as np

    w = rng.uniform(0.1, 0.4, (batch, 1))
    phase = rng.uniform(0, 2 * np.pi, (batch, 1))
    t = np.arange(steps + 1)[None, :]
    wave = np.sin(w * t + phase).astype(np.float32)[..., None]   # (batch, steps + 1, 1)
    return wave[:, :-1], wave[:, 1:]


def build_runner(out_dir):
    """Compiles run_model.c against include/ and build/lib/; returns its path."""
    compiler = os.environ.get("CC", "cc")
    library = ROOT / "build" / "lib"
    if not (library / "librecur.so").exists():
        sys.exit(f"{library / 'librecur.so'} not found: run `make lib` first")
    runner = out_dir / "run_model"
    command = [compiler, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
               str(pathlib.Path(__file__).with_name("run_model.c")), "-o", str(runner),
               f"-L{library}", "-lrecur", f"-Wl,-rpath,{library}"]
    print("compiling:", " ".join(command))
    subprocess.run(command, check=True)
    return runner


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "build" / "examples" / "from_pytorch",
                        help="where to write sine_lstm.json, input.txt (default: %(default)s)")
    parser.add_argument("--runner", type=pathlib.Path, help="a built run_model (default: compile run_model.c)")
    parser.add_argument("--steps", type=int, default=300, help="PyTorch training steps (default: %(default)s)")
    args = parser.parse_args()

    try:
        import torch
    except ImportError:
        print("skipped: torch not installed (pip install torch to run this example)")
        return 0
    import numpy as np

    recur = import_recur()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)

    # 1. Train in PyTorch.
    lstm = torch.nn.LSTM(input_size=1, hidden_size=24, num_layers=2, batch_first=True)
    head = torch.nn.Linear(24, 1)
    optimizer = torch.optim.Adam([*lstm.parameters(), *head.parameters()], lr=0.01)
    started = time.perf_counter()
    for step in range(args.steps):
        x, target = (torch.from_numpy(a) for a in sine_batch(rng, 32, 64))
        loss = torch.nn.functional.mse_loss(head(lstm(x)[0]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 0:
            first_loss = loss.item()
        if (step + 1) % 100 == 0 and step + 1 < args.steps:   # progress: the loop takes seconds on a slow core
            print(f"   PyTorch step {step + 1}/{args.steps}: mse {loss.item():.6f} "
                  f"({time.perf_counter() - started:.1f} s)", flush=True)
    print(f"1. trained in PyTorch: {args.steps} steps in {time.perf_counter() - started:.1f} s, "
          f"mse {first_loss:.4f} -> {loss.item():.6f}")

    # 2. Convert, and compare on new sequences.
    test_x, test_target = sine_batch(rng, 4, 200)
    with torch.no_grad():
        expected = head(lstm(torch.from_numpy(test_x))[0]).numpy()      # (4, 200, 1)
    document = recur.convert.from_torch([lstm, head])
    model = recur.Model.from_dict(document)
    print(f"2. converted: {model}")
    mine = model.state(batch=4).run(test_x)
    python_diff = float(np.max(np.abs(mine - expected)))
    print(f"   Python: max abs diff Recur vs PyTorch = {python_diff:.3g} over {expected.size} outputs "
          f"(test mse {float(np.mean((mine - test_target) ** 2)):.6f})")
    assert python_diff < TOLERANCE, f"Recur and PyTorch differ by {python_diff} (tolerance {TOLERANCE})"

    # 3. Save the model and the test input.
    args.out.mkdir(parents=True, exist_ok=True)
    model_path, input_path = args.out / "sine_lstm.json", args.out / "input.txt"
    model.save(model_path)
    with open(input_path, "w") as file:
        file.write("%d %d %d\n" % test_x.shape)
        np.savetxt(file, test_x.reshape(-1, test_x.shape[-1]), fmt="%.9g")
    print(f"3. saved {model_path} ({model_path.stat().st_size} bytes) and {input_path}")

    # 4. The same JSON from C.
    runner = args.runner or build_runner(args.out)
    result = subprocess.run([str(runner), str(model_path), str(input_path)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{runner} failed ({result.returncode}):\n{result.stderr}")
    lines = result.stdout.split("\n")
    batch, steps, outputs = (int(v) for v in lines[0].split())
    from_c = np.array([[float(v) for v in line.split()] for line in lines[1:] if line.strip()],
                      dtype=np.float32).reshape(batch, steps, outputs)
    assert from_c.shape == expected.shape, f"C printed shape {from_c.shape}, expected {expected.shape}"
    c_diff = float(np.max(np.abs(from_c - expected)))
    identical = np.array_equal(from_c.view(np.uint32), mine.view(np.uint32))
    print(f"4. C ({runner.name}): max abs diff C vs PyTorch = {c_diff:.3g}; "
          f"C vs Python binding: {'bit-identical' if identical else 'DIFFERENT'}")
    assert c_diff < TOLERANCE, f"the C program's outputs differ from PyTorch's by {c_diff}"
    assert identical, "the C program and the Python binding use the same library and must agree bit for bit"
    print("ok: PyTorch, the Python binding and C agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
