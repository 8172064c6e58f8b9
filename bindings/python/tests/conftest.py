"""Shared test helpers: where things are, reference cases, tolerances."""

import json
import os
import pathlib
import sys

import numpy as np
import pytest

TESTS = pathlib.Path(__file__).resolve().parent
ROOT = TESTS.parents[2]  # bindings/python/tests -> the project root
TESTDATA = pathlib.Path(os.environ.get("RECUR_TESTDATA") or ROOT / "Tests" / "testdata")
HEADER = ROOT / "include" / "recur.h"
EXAMPLE_MODELS = ROOT / "examples" / "models"

sys.path.insert(0, str(TESTS))  # for reference_numpy


def pytest_configure(config):
    if not (TESTDATA / "invalid" / "manifest.json").is_file():
        raise pytest.UsageError(f"reference test data not found in {TESTDATA} "
                                "(expected Tests/testdata in the project; or set RECUR_TESTDATA)")


def case_files():
    return sorted(path for path in TESTDATA.glob("*.json"))


def load_case(path):
    with open(path, encoding="utf-8") as file:
        return json.load(file)


def case_arrays(case):
    """input (B, T, I), output (B, T, O), final_state (B, S) as float32 arrays."""
    model = case["model"]
    batch, steps = case["batch"], case["steps"]
    xs = np.asarray(case["input"], np.float32).reshape(batch, steps, model["input_size"])
    ys = np.asarray(case["output"], np.float32).reshape(batch, steps, -1)
    state = np.asarray(case["final_state"], np.float32).reshape(batch, -1)
    return xs, ys, state


def assert_close(mine, reference, what):
    """The reference cases' tolerance for values: |mine - ref| <= 5e-5 + 5e-4 |ref|."""
    mine = np.asarray(mine, np.float64)
    reference = np.asarray(reference, np.float64).reshape(mine.shape)
    excess = np.abs(mine - reference) - (5e-5 + 5e-4 * np.abs(reference))
    if excess.size and excess.max() > 0:
        worst = np.unravel_index(np.argmax(excess), excess.shape)
        raise AssertionError(f"{what}: element {worst} is {mine[worst]!r}, reference {reference[worst]!r} "
                             f"({int((excess > 0).sum())} of {excess.size} elements out of tolerance)")


def assert_scalar_close(mine, reference, what):
    """The tolerance for losses and gradient norms: |mine - ref| <= 1e-4 |ref|."""
    assert abs(mine - reference) <= 1e-4 * abs(reference), f"{what}: {mine!r}, reference {reference!r}"


def torch_available():
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True
