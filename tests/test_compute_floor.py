"""benchmarks/compute_floor.py: which matrix products a run of the protocol cannot skip, counted by hand."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

spec_ = importlib.util.spec_from_file_location("compute_floor", ROOT / "benchmarks" / "compute_floor.py")
cf = importlib.util.module_from_spec(spec_)
spec_.loader.exec_module(cf)
NO_DATA = Path("/nonexistent")  # balanced counts: 6000 train / 1000 test items per class


def energy_spec(kind: str = "presyn", **extra) -> dict:
    return {
        "experiment": "energy",
        "benchmark": "mnist",
        "dataset": {"name": "mnist", "subset": {"train": 250, "test": 40}},
        "hidden": [5],
        "batch_size": 100,
        "eval_samples": 3,
        "epochs": 2,
        "eval_every": 0,
        "model": {"kind": kind},
        **extra,
    }


def test_energy_run_products():
    """250 items, batch 100: two full steps and one of 50 per epoch; 784-5-10; one evaluation of 3 networks."""
    train, evals, draws = cf.run_products(energy_spec(), NO_DATA)
    assert train == {
        (1, 100, 784, 5): 4,
        (1, 5, 100, 784): 4,  # layer 1: forward, weight gradient (no input gradient)
        (1, 100, 5, 10): 4,
        (1, 10, 100, 5): 4,
        (1, 100, 10, 5): 4,  # layer 2: + input gradient
        (1, 50, 784, 5): 2,
        (1, 5, 50, 784): 2,
        (1, 50, 5, 10): 2,
        (1, 10, 50, 5): 2,
        (1, 50, 10, 5): 2,
    }
    assert evals == {(3, 40, 784, 5): 1, (3, 40, 5, 10): 1}
    # one mask of 784*5 + 5*10 = 3970 synapses per step (3 steps x 2 epochs) and per evaluated network (3)
    assert draws == {("u16", 3970): 6 + 3}
    _, every_epoch, every_draws = cf.run_products(energy_spec(eval_every=1), NO_DATA)
    assert every_epoch == {(3, 40, 784, 5): 2, (3, 40, 5, 10): 2} and every_draws == {("u16", 3970): 6 + 2 * 3}
    _, deterministic, no_draws = cf.run_products(energy_spec("deterministic"), NO_DATA)
    assert deterministic == {(1, 40, 784, 5): 1, (1, 40, 5, 10): 1}  # one network, whatever eval_samples says
    assert no_draws == {}


def test_lifelong_split_evaluations_and_bgd_samples():
    """Split MNIST, 2 tasks of 2 epochs, task 1 every epoch, every task after the last: 3 + 2 evaluations.
    BGD's K = 4 networks make every training product a batched one."""
    spec = {
        "experiment": "lifelong",
        "benchmark": "split_mnist",
        "dataset": {"name": "mnist", "subset": None},
        "hidden": [5],
        "batch_size": 12000,
        "eval_samples": 3,
        "n_tasks": 2,
        "epochs_per_task": 2,
        "joint": False,
        "joint_epochs": 1,
        "eval_every": 1,
        "curve_tasks": [1],
        "task_end_eval": False,
        "model": {"kind": "bgd", "mc_samples": 4},
    }
    train, evals, draws = cf.run_products(spec, NO_DATA)
    # task sizes: digits (0, 1) and (2, 3) = 12000 train / 2000 test items each -> one step per epoch, 4 epochs
    assert train[(4, 12000, 784, 5)] == 4 and train[(4, 12000, 5, 2)] == 4 and sum(train.values()) == 4 * 5
    assert evals == {(3, 2000, 784, 5): 3 + 2, (3, 2000, 5, 2): 3 + 2}
    # BGD: one randn of K x (784*5 + 5*2 weights + 5 + 2 biases) = K x 3937 normals per step, 3 x 3937 per evaluation
    assert draws == {("normal", 4 * 3937): 4, ("normal", 3 * 3937): 3 + 2}
    joint = dict(spec, joint=True, model={"kind": "deterministic"})
    train, evals, _ = cf.run_products(joint, NO_DATA)
    assert train[(1, 12000, 784, 5)] == 2 and evals == {
        (1, 2000, 784, 5): 2,
        (1, 2000, 5, 2): 2,
    }  # 24000 items: 2 steps


def test_floor_script_prints_summary(tmp_path):
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "seeds": [2019],
                "lifelong": {"enabled": False},
                "ablation": {"enabled": False},
                "sjostrom": {"enabled": False},
                "data": {"subset": {"train": 200, "test": 100}},
                "model": {"hidden": [8, 8]},
                "energy": {
                    "epochs": 1,
                    "weight_decays": [0.01],
                    "fixedp_sweep": {"enabled": False},
                    "uniform_init": {"enabled": False},
                    "robustness": {"enabled": False},
                },
            }
        )
    )
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "compute_floor.py"),
            "--config",
            str(ROOT / "config" / "config.yaml"),
            str(overlay),
            "--reps",
            "2",
            "--benchmarks",
            str(tmp_path / "none"),
            "--cores",
            "4",
            "--threads",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["runs"] == 3 and set(out["kinds"]) == {
        "train:energy:presyn",
        "train:energy:deterministic",
        "train:energy:fixedp",
    }
    assert (
        out["gemm_floor_job_s"] > 0 and abs(out["gemm_floor_wall_s"] - out["gemm_floor_job_s"] / 2) < 1e-3
    )  # 4 cores / 2 threads
    assert out["target_wall_s"] == 5400.0
    assert (
        out["rng_floor_job_s"] > 0 and abs(out["floor_job_s"] - out["gemm_floor_job_s"] - out["rng_floor_job_s"]) < 1e-2
    )
    assert (
        out["kinds"]["train:energy:deterministic"]["rng_floor_s"]
        == 0
        < out["kinds"]["train:energy:presyn"]["rng_floor_s"]
    )
