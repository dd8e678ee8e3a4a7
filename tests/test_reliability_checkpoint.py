"""Checkpoint and resume of the lifelong task streams (presyn.checkpoint): a run killed (SIGKILL or
SIGTERM) after some tasks resumes from its last checkpoint when rerun, and its final numbers are
bit-identical on CPU to an uninterrupted run of the same seed; the checkpoint is removed at the end,
is never a declared output, and is not resumed under a changed spec."""

from __future__ import annotations

import copy
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from presyn import checkpoint, planning
from presyn.configs import deep_merge as merge  # noqa: E402
from presyn.data import make_synthetic, save_processed
from presyn.experiments import run
from presyn.training import RUN_FILES

ROOT = Path(__file__).resolve().parents[1]


def quick_config(*overlays) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    merge(cfg, yaml.safe_load((ROOT / "config" / "quick.yaml").read_text()))
    for o in overlays:
        merge(cfg, o)
    return cfg


def lifelong_spec(method: str, benchmark: str) -> dict:
    # every run records the task-1 curve here: the mid-task kill happens at an evaluation between task ends
    cfg = quick_config(
        {
            "lifelong": {
                "epochs_per_task": 2,
                "n_tasks": {"split": 3, "perm": 3},
                "curve_benchmarks": None,
                "curve_methods": None,
            }
        }
    )
    runs = planning.all_runs(cfg, ["lifelong"])
    spec = next(s for s in runs.values() if s["method"] == method and s["benchmark"] == benchmark)
    spec = copy.deepcopy(spec)
    spec["dataset"]["subset"] = None
    return spec


# method, benchmark: the presynaptic rule, Adam (optimizer state), EWC (anchors + Fisher sums, optimizer), BGD (mu, sigma)
CASES = [("presyn", "perm_mnist"), ("no_consolidation", "split_mnist"), ("ewc", "perm_mnist"), ("bgd", "split_mnist")]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ckdata") / "mnist.npz"
    save_processed(make_synthetic(400, 100, seed=0), path, {"synthetic": True})
    return str(path)


# The job, in a fresh interpreter, SIGKILLs/SIGTERMs itself at a chosen point: right after the
# checkpoint after task 1 ("after_checkpoint"), or in the middle of task 2 (at its first evaluation).
KILLED_JOB = r"""
import json, os, signal, sys
from pathlib import Path
import presyn.checkpoint as ck
import presyn.experiments.lifelong as L
from presyn.experiments import run
spec = json.loads(sys.argv[1]); data = sys.argv[2]; out = Path(sys.argv[3]); sig = getattr(signal, sys.argv[4]); where = sys.argv[5]
real_save, real_eval, state = ck.save, L.evaluate_tasks, {"saved": 0, "evals_after": 0}
def save(*a, **k):
    path = real_save(*a, **k)
    state["saved"] += path is not None
    if path is not None and where == "after_checkpoint":
        os.kill(os.getpid(), sig)
    return path
def evaluate(*a, **k):
    if state["saved"]:
        state["evals_after"] += 1
        if where == "mid_task" and state["evals_after"] == 1:
            os.kill(os.getpid(), sig)
    return real_eval(*a, **k)
ck.save, L.evaluate_tasks = save, evaluate
run(spec, {"data": data}, out, "cpu")
"""


def killed_run(spec: dict, data: str, out: Path, sig: str, where: str) -> int:
    res = subprocess.run(
        [sys.executable, "-c", KILLED_JOB, json.dumps(spec), data, str(out), sig, where],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return res.returncode


def load_state(path: Path) -> dict:
    state = torch.load(path, weights_only=False)
    state.pop("provenance")
    return state


def assert_identical(a: Path, b: Path) -> None:
    pd.testing.assert_frame_equal(
        pd.read_parquet(a / "metrics.parquet"), pd.read_parquet(b / "metrics.parquet"), check_exact=True
    )
    sa, sb = load_state(a / "state.pt"), load_state(b / "state.pt")
    assert sa.keys() == sb.keys()
    for k in sa:
        va, vb = sa[k], sb[k]
        if isinstance(va, torch.Tensor):
            assert torch.equal(va, vb), k
        elif isinstance(va, list) and va and isinstance(va[0], torch.Tensor):
            assert all(torch.equal(x, y) for x, y in zip(va, vb)), k
        else:
            assert va == vb, k


@pytest.mark.parametrize("method,benchmark", CASES)
@pytest.mark.parametrize("sig,where", [("SIGKILL", "mid_task"), ("SIGTERM", "after_checkpoint")])
def test_killed_lifelong_run_resumes_bit_identical(tmp_path, data, method, benchmark, sig, where):
    spec = lifelong_spec(method, benchmark)
    assert spec["n_tasks"] == 3 and not spec.get("joint")
    ref = tmp_path / "uninterrupted"
    run(spec, {"data": data}, ref, "cpu")
    assert not checkpoint.path_for(ref).exists()
    assert "resumed_from_checkpoint" not in json.loads((ref / "provenance.json").read_text())

    out = tmp_path / "interrupted"
    rc = killed_run(spec, data, out, sig, where)
    assert rc == -getattr(signal, sig), rc
    # killed: a checkpoint, and nothing that looks like a result
    assert checkpoint.path_for(out).exists()
    assert not any((out / f).exists() for f in ("metrics.parquet", "state.pt", "provenance.json"))
    ck = torch.load(checkpoint.path_for(out), weights_only=False)
    assert (
        ck["position"]["next_phase"] == 1 and ck["rows"] and ck["generator_states"].keys() == {"init", "data", "masks"}
    )

    run(spec, {"data": data}, out, "cpu")  # the rerun: resumes at task 2
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["resumed_from_checkpoint"]["next_phase"] == 1
    assert not checkpoint.path_for(out).exists()
    assert_identical(ref, out)


def test_checkpoint_of_other_spec_set_aside_not_resumed(tmp_path, data):
    spec = lifelong_spec("presyn", "perm_mnist")
    out = tmp_path / "run"
    assert killed_run(spec, data, out, "SIGKILL", "after_checkpoint") == -signal.SIGKILL
    changed = merge(copy.deepcopy(spec), {"model": {"lr": spec["model"]["lr"] * 2}})
    written = checkpoint.path_for(out).read_bytes()
    assert checkpoint.load(out, changed, "cpu") is None  # the config changed: set aside, not resumed
    assert not checkpoint.path_for(out).exists() and (out / "checkpoint.pt.stale").read_bytes() == written
    os.replace(out / "checkpoint.pt.stale", checkpoint.path_for(out))  # the job itself meets it the same way
    run(changed, {"data": data}, out, "cpu")
    assert "resumed_from_checkpoint" not in json.loads((out / "provenance.json").read_text())
    assert not checkpoint.path_for(out).exists() and not (out / "checkpoint.pt.stale").exists()
    ref = tmp_path / "ref"
    run(changed, {"data": data}, ref, "cpu")
    assert_identical(ref, out)


def test_corrupt_checkpoint_set_aside_and_run_starts_from_scratch(tmp_path, data, caplog):
    """An unreadable checkpoint.pt is moved to checkpoint.pt.stale with a warning naming both (the
    doc's "set aside"); the run starts from scratch (equal to an uninterrupted run) and writing its
    results drops the stale copy with the old run folder."""
    spec = lifelong_spec("presyn", "perm_mnist")
    out = tmp_path / "run"
    out.mkdir()
    checkpoint.path_for(out).write_bytes(b"not a checkpoint")
    with caplog.at_level(logging.WARNING, logger="presyn"):
        assert checkpoint.load(out, spec, "cpu") is None
    assert not checkpoint.path_for(out).exists()
    assert (out / "checkpoint.pt.stale").read_bytes() == b"not a checkpoint"
    assert (
        "not resumed: unreadable" in caplog.text and "moved to" in caplog.text and "checkpoint.pt.stale" in caplog.text
    )
    checkpoint.path_for(out).write_bytes(b"not a checkpoint")  # the job itself meets it the same way
    run(spec, {"data": data}, out, "cpu")
    assert "resumed_from_checkpoint" not in json.loads((out / "provenance.json").read_text())
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    ref = tmp_path / "ref"
    run(spec, {"data": data}, ref, "cpu")
    assert_identical(ref, out)


def test_checkpoints_can_be_switched_off(tmp_path, data):
    spec = lifelong_spec("presyn", "perm_mnist")
    out = tmp_path / "run"
    env = {**os.environ, checkpoint.ENV: "0"}
    res = subprocess.run(
        [sys.executable, "-c", KILLED_JOB, json.dumps(spec), data, str(out), "SIGKILL", "mid_task"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert res.returncode == 0  # no checkpoint is saved, so the kill hooks never fire
    assert not checkpoint.path_for(out).exists()


@pytest.mark.e2e
def test_snakemake_lifelong_job_killed_resumes_from_checkpoint(workdir):
    """The train rule: SIGKILL a lifelong job once its first checkpoint exists; the same command
    resumes it from the checkpoint; numbers equal an uninterrupted in-process run."""
    psutil = pytest.importorskip("psutil")
    over = {"seeds": [2019], "lifelong": {"epochs_per_task": 4, "n_tasks": {"split": 3, "perm": 3}}}
    workdir.overlay("ll", over)
    run_dir = "results/runs/lifelong/presyn/perm_mnist/seed2019"
    target = f"{run_dir}/metrics.parquet"
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "workflow" / "Snakefile"),
        "--directory",
        str(workdir.path),
        "--cores",
        "1",
        target,
        "--configfile",
        "config/quick.yaml",
        "config/ll.yaml",
    ]
    proc = subprocess.Popen(
        cmd, cwd=workdir.path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    ck = workdir.path / run_dir / "checkpoint.pt"
    try:
        deadline = time.time() + 300
        while not ck.exists():
            assert proc.poll() is None and time.time() < deadline, "job ended before its first checkpoint"
            time.sleep(0.05)
        for c in psutil.Process(proc.pid).children(recursive=True):
            if "train.py" in " ".join(c.cmdline()):
                c.kill()
        assert proc.wait(timeout=120) != 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert ck.exists() and not (workdir.path / target).exists()
    res = subprocess.run(cmd, cwd=workdir.path, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-3000:]
    prov = json.loads((workdir.path / run_dir / "provenance.json").read_text())
    assert prov["resumed_from_checkpoint"]["next_phase"] >= 1
    assert not ck.exists()
    spec = prov["spec"]
    ref = workdir.path / "ref"
    run(spec, {"data": str(workdir.path / "data/processed/mnist.npz")}, ref, "cpu")
    assert_identical(ref, workdir.path / run_dir)


CUDA_JOB = KILLED_JOB.replace('run(spec, {"data": data}, out, "cpu")', 'run(spec, {"data": data}, out, "cuda")')


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method,benchmark", [("presyn", "perm_mnist"), ("bgd", "split_mnist")])
def test_checkpoint_resume_on_cuda(tmp_path, data, method, benchmark):
    """On the GPU: CUDA generator states survive the checkpoint; the resumed run equals an
    uninterrupted GPU run of the same seed (bit-identical where the kernels are deterministic)."""
    spec = lifelong_spec(method, benchmark)
    ref, out = tmp_path / "ref", tmp_path / "out"
    run(spec, {"data": data}, ref, "cuda")
    res = subprocess.run(
        [sys.executable, "-c", CUDA_JOB, json.dumps(spec), data, str(out), "SIGKILL", "mid_task"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    ck = torch.load(checkpoint.path_for(out), weights_only=False)
    assert ck["gens"].masks.device.type == "cuda"
    run(spec, {"data": data}, out, "cuda")
    assert json.loads((out / "provenance.json").read_text())["resumed_from_checkpoint"]["next_phase"] == 1
    ma, mb = pd.read_parquet(ref / "metrics.parquet"), pd.read_parquet(out / "metrics.parquet")
    diff = (ma["value"] - mb["value"]).abs().max()
    print(f"{method}/{benchmark}: max |metric difference| resumed vs uninterrupted on cuda = {diff}")
    assert diff <= 1e-6
