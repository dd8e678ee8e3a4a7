"""Determinism: the same config and seed give bit-identical metrics and state on CPU across two
runs, one in this process and one in a fresh interpreter (other hash seed), for one job of each
kind the quick config plans (every experiment x method that exists)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from presyn import planning
from presyn.configs import deep_merge as merge
from presyn.data import make_synthetic, save_processed
from presyn.experiments import run

ROOT = Path(__file__).resolve().parents[1]


def quick_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    return merge(cfg, yaml.safe_load((ROOT / "config" / "quick.yaml").read_text()))


def one_job_per_kind() -> dict[str, dict]:
    """First seed, first benchmark, one spec per experiment x method (energy: per model, one weight decay)."""
    picked: dict[str, dict] = {}
    for _key, spec in planning.all_runs(quick_config()).items():
        method = spec.get("model_name") or spec["method"]
        kind = f"{spec['experiment']}:{method.split('_lam')[0]}"
        picked.setdefault(kind, spec)
    try:  # the perceptron (Fig 5b, c) has its own rule and trainer
        from presyn.planning import perceptron_runs
    except ImportError:
        return picked
    for spec in perceptron_runs(quick_config()).values():
        picked.setdefault(f"perceptron:{spec['method']}", spec)
    return picked


def train_one(spec: dict, data: dict, out) -> None:
    if spec["experiment"] == "perceptron":
        from presyn.perceptron import train

        train(spec, {}, out)
    else:
        run(spec, {"data": data[spec["dataset"]["name"]]}, out, "cpu", threads=1)


JOBS = one_job_per_kind()


def shrink(spec: dict) -> dict:
    """Toy size for the test: fewer epochs where a spec has them (the code path is the same)."""
    s = copy.deepcopy(spec)
    if "dataset" in s:
        s["dataset"]["subset"] = None
    if "epochs" in s:
        s["epochs"] = min(s["epochs"], 2)
    return s


RUN_ALL = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from test_reliability_determinism import train_one
jobs = json.loads(Path(sys.argv[1]).read_text()); data = json.loads(sys.argv[2]); out = Path(sys.argv[3])
for kind, spec in jobs.items():
    train_one(spec, data, out / kind.replace(":", "__"))
"""


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("determinism")
    data = {}
    for seed, name in enumerate(("mnist", "fashion")):
        data[name] = str(base / f"{name}.npz")
        save_processed(make_synthetic(300, 100, seed=seed), data[name], {"synthetic": True})
    jobs = {k: shrink(s) for k, s in JOBS.items()}
    (base / "jobs.json").write_text(json.dumps(jobs))
    for kind, spec in jobs.items():  # run A: here
        train_one(spec, data, base / "a" / kind.replace(":", "__"))
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # run B: a fresh interpreter
    subprocess.run(
        [
            sys.executable,
            "-c",
            RUN_ALL,
            str(base / "jobs.json"),
            json.dumps(data),
            str(base / "b"),
            str(Path(__file__).parent),
        ],
        check=True,
        env=env,
        capture_output=True,
    )
    return base / "a", base / "b"


def test_every_experiment_kind_is_covered():
    kinds = set(JOBS)
    assert {"energy:presyn", "energy:deterministic", "energy:fixedp"} <= kinds, kinds
    for exp in planning.EXPERIMENTS:  # every experiment that has landed contributes at least one job
        assert any(k.startswith(exp + ":") for k in kinds) or not planning.all_runs(quick_config(), [exp]), exp


def tensors(obj, prefix=""):
    if isinstance(obj, torch.Tensor):
        yield prefix, obj
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            if k != "provenance":
                yield from tensors(obj[k], f"{prefix}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from tensors(v, f"{prefix}[{i}]")


@pytest.mark.parametrize("kind", sorted(JOBS))
def test_same_seed_bit_identical(two_runs, kind):
    a, b = (d / kind.replace(":", "__") for d in two_runs)
    ma, mb = pd.read_parquet(a / "metrics.parquet"), pd.read_parquet(b / "metrics.parquet")
    assert len(ma) > 0
    pd.testing.assert_frame_equal(ma, mb, check_exact=True)
    sa, sb = torch.load(a / "state.pt", weights_only=False), torch.load(b / "state.pt", weights_only=False)
    ta, tb = dict(tensors(sa)), dict(tensors(sb))
    assert ta.keys() == tb.keys() and ta
    for name in ta:
        assert torch.equal(ta[name], tb[name]), f"{kind}: state{name} differs between two runs of the same seed"


def test_different_seed_differs(tmp_path):
    """Guard against a vacuous check: another seed gives other numbers."""
    spec = shrink(JOBS["energy:presyn"])
    path = tmp_path / "mnist.npz"
    save_processed(make_synthetic(300, 100, seed=0), path, {"synthetic": True})
    run(spec, {"data": str(path)}, tmp_path / "s1", "cpu")
    run({**spec, "seed": spec["seed"] + 1}, {"data": str(path)}, tmp_path / "s2", "cpu")
    v1 = pd.read_parquet(tmp_path / "s1/metrics.parquet")["value"].to_numpy()
    v2 = pd.read_parquet(tmp_path / "s2/metrics.parquet")["value"].to_numpy()
    assert (v1 != v2).any()
