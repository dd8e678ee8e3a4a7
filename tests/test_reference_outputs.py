"""Every run kind at toy size still computes the recorded reference outputs, bit for bit (issue 31, point 2).

tests/data/reference_outputs.json was written by benchmarks/record_reference_outputs.py at the commit it names,
before the training engines and the copies of the presynaptic rule were merged: per run kind (energy, lifelong,
ablation, perceptron, the torch-kernel path, an ablation search trial, the stacked engine at S = 1 and S = 3) the
final metrics, a sha256 of the metrics table and a sha256 of the saved state. A refactoring that changes any
number, by one ulp, fails here. Record anew (and say why in the commit) only for an intended change of results.
Recorded where ATen dispatched AVX2 kernels: on a CPU where it picks AVX-512 the numbers differ by rounding (at every
commit); run this test with ATEN_CPU_CAPABILITY=avx2 there (docs/architecture.md).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = json.loads((ROOT / "tests" / "data" / "reference_outputs.json").read_text())


def _recorder():
    spec = importlib.util.spec_from_file_location(
        "record_reference_outputs", ROOT / "benchmarks" / "record_reference_outputs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def recomputed():
    import torch

    threads = torch.get_num_threads()
    try:
        return _recorder().compute_all(verbose=False)
    finally:
        torch.set_num_threads(threads)


def test_same_cases():
    """The recorder plans the same run kinds that were recorded (a new run kind: record it)."""
    rec = _recorder()
    assert sorted(rec.cases(rec.tiny_config())) == sorted(REFERENCE["cases"])


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_reference_output(case, recomputed):
    assert recomputed[case] == REFERENCE["cases"][case]
