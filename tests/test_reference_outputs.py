"""Every run kind at toy size still computes the recorded reference outputs, bit for bit (issue 31, point 2).

tests/data/reference_outputs.json was written by benchmarks/record_reference_outputs.py at the commit it names,
before the training engines and the copies of the presynaptic rule were merged: per run kind (energy, lifelong,
ablation, perceptron, the torch-kernel path, an ablation search trial, the stacked engine at S = 1 and S = 3) the
final metrics, a sha256 of the metrics table and a sha256 of the saved state. A refactoring that changes any
number, by one ulp, fails here. Record anew (and say why in the commit) only for an intended change of results.

Bit-identity holds per instruction set: ATen picks its CPU kernels by the CPU's capability (AVX2, AVX-512), and
the two round differently. The file records the capability it was made with (``cpu_capability``); the recomputation
runs in a subprocess with ATEN_CPU_CAPABILITY set to it, so the test judges the code, not the machine CI lands on.
A CPU that cannot run those kernels skips, saying so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RECORDER = ROOT / "benchmarks" / "record_reference_outputs.py"
REFERENCE = json.loads((ROOT / "tests" / "data" / "reference_outputs.json").read_text())


def _recorder():
    spec = importlib.util.spec_from_file_location("record_reference_outputs", RECORDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recomputed(tmp_path_factory):
    """Every case recomputed in a fresh process whose ATen dispatches the recorded capability's kernels."""
    out = tmp_path_factory.mktemp("reference") / "recomputed.json"
    capability = REFERENCE["cpu_capability"]
    env = {**os.environ, "ATEN_CPU_CAPABILITY": capability.lower()}
    res = subprocess.run(
        [sys.executable, str(RECORDER), "--json", str(out)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr[-4000:]
    got = json.loads(out.read_text())
    if got["cpu_capability"] != capability:
        pytest.skip(f"this CPU runs ATen's {got['cpu_capability']} kernels, not the recorded {capability}")
    return got["cases"]


def test_same_cases():
    """The recorder plans the same run kinds that were recorded (a new run kind: record it)."""
    rec = _recorder()
    assert sorted(rec.cases(rec.tiny_config())) == sorted(REFERENCE["cases"])


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_reference_output(case, recomputed):
    assert recomputed[case] == REFERENCE["cases"][case]
