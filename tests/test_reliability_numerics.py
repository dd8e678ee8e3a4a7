"""Reliability of numbers: a diverging run stops naming run, epoch and step and writes nothing
downstream rules would take as a result; analyses given zero runs or too few seeds say so
instead of crashing in scipy."""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml

from presyn import planning, stats
from presyn.analysis.collect import NoRunsError, read_metrics
from presyn.analysis.energy import fig1_stats, final_table
from presyn.configs import deep_merge as merge  # noqa: E402
from presyn.data import make_synthetic, save_processed
from presyn.experiments import run
from presyn.training import RUN_FILES

ROOT = Path(__file__).resolve().parents[1]


def quick_config(*overlays: dict) -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    merge(cfg, yaml.safe_load((ROOT / "config" / "quick.yaml").read_text()))
    for o in overlays:
        merge(cfg, o)
    return cfg


@pytest.fixture(scope="module")
def tiny_mnist(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    save_processed(make_synthetic(300, 100, seed=0), path, {"synthetic": True})
    return str(path)


HUGE_LR = {"energy": {"epochs": 2, "models": {m: {"lr": 1.0e6} for m in ("presyn", "deterministic", "fixedp")}}}


@pytest.mark.parametrize("model", ["presyn", "deterministic", "fixedp"])
def test_diverging_run_names_run_epoch_step_and_writes_nothing(tmp_path, tiny_mnist, model):
    specs = planning.all_runs(quick_config(HUGE_LR), ["energy"])
    key, spec = next((k, s) for k, s in specs.items() if s["model_name"] == model)
    out = tmp_path / key
    with pytest.raises(FloatingPointError) as info:
        run(spec, {"data": tiny_mnist}, out, "cpu")
    msg = str(info.value)
    assert key in msg and "at epoch 1, step " in msg and "lower the learning rate" in msg, msg
    step = int(msg.split("step ")[1].split()[0])
    assert 0 <= step < 3  # 300 items / batch 100: the first non-finite minibatch, not the epoch's last
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.e2e
def test_snakemake_diverging_job_fails_and_leaves_no_outputs(workdir):
    over = merge(copy.deepcopy(HUGE_LR), {"seeds": [2019], "energy": {"weight_decays": [0.0]}})
    workdir.overlay("huge_lr", over)
    cfgs = ("config/quick.yaml", "config/huge_lr.yaml")
    target = "results/runs/energy/presyn_wd0/mnist/seed2019/metrics.parquet"
    res = workdir.snakemake(target, configfiles=cfgs, check=False, cores=1)
    assert res.returncode != 0
    log = (workdir.path / "logs/train/energy/presyn_wd0/mnist/seed2019.log").read_text()
    assert "FloatingPointError: energy/presyn_wd0/mnist/seed2019: loss is nan at epoch 1, step" in log, log[-2000:]
    run_dir = workdir.path / "results/runs/energy/presyn_wd0/mnist/seed2019"
    assert not any((run_dir / f).exists() for f in RUN_FILES)
    # nothing is taken as complete: the dry run still plans the training job
    dry = workdir.snakemake(target, configfiles=cfgs, extra=("-n",))
    assert "rule train:" in dry.stdout + dry.stderr


# ------------------------------------------------------------------ zero runs / too few seeds
def test_zero_runs_raise_no_runs_error():
    with pytest.raises(NoRunsError, match="no training runs"):
        read_metrics([])
    with pytest.raises(NoRunsError):
        final_table([], {})


def test_too_few_replicates_give_rows_with_detail_not_scipy_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a scipy warning escapes
        rows = [
            stats.ttest("f", "f.t", [1.0], [2.0, 3.0], "a vs b"),
            stats.ttest("f", "f.t0", [], [], "a vs b"),
            stats.pearson("f", "f.r", [1.0, 2.0], [2.0, 1.0]),
            stats.ks_2samp("f", "f.ks", [], [1.0], "a vs b"),
        ]
        for name in ("ttest_paired", "mannwhitney"):  # added by other issues; test them where present
            if hasattr(stats, name):
                rows.append(
                    getattr(stats, name)("f", f"f.{name}", [1.0], [2.0] if name == "ttest_paired" else [], "a vs b")
                )
    for r in rows:
        assert np.isnan(r["p_value"]) and "not enough replicates" in r["detail"], r
    s = stats.summary("f", "f.s", [0.5])
    assert s["n"] == 1 and s["value"] == 0.5 and np.isnan(s["sem"])
    assert np.isnan(stats.summary("f", "f.e", [])["value"])


def test_fig1_stats_with_one_seed(tmp_path, tiny_mnist):
    """One seed per model: means are reported, the t-tests say 'not enough replicates'."""
    cfg = quick_config({"seeds": [2019], "energy": {"epochs": 1, "weight_decays": [0.0]}})
    specs = {k: s for k, s in planning.all_runs(cfg, ["energy"]).items() if not s.get("energy_group")}  # Fig 1's runs
    paths = []
    for key, spec in specs.items():
        run(spec, {"data": tiny_mnist}, tmp_path / key, "cpu")
        paths.append(tmp_path / key / "metrics.parquet")
    table = final_table(paths, specs)
    assert len(table) == len(specs) >= 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        st = fig1_stats(table)
    tests = st[st["kind"] == "test"]
    assert len(tests) >= 2 and tests["detail"].str.contains("not enough replicates").all()
    assert st[st["kind"] == "summary"]["value"].notna().all()


@pytest.mark.e2e
def test_snakemake_table_with_section_disabled_says_no_runs(workdir):
    workdir.overlay("off", {"energy": {"enabled": False}})
    res = workdir.snakemake(
        "results/tables/energy_final.csv", configfiles=("config/quick.yaml", "config/off.yaml"), check=False, cores=1
    )
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "NoRunsError: no training runs" in out and "check the config section is enabled" in out
    assert not (workdir.path / "results/tables/energy_final.csv").exists()


@pytest.mark.parametrize("method", ["presyn", "no_consolidation"])
def test_diverging_lifelong_run_names_run_epoch_step(tmp_path, tiny_mnist, method):
    """The lifelong trainer (and the ablation, which reuses it) stops too; no result, no checkpoint
    of the diverged state (the last checkpoint, if any, is from before the divergence)."""
    cfg = quick_config({"lifelong": {"n_tasks": {"split": 2, "perm": 2}}})
    specs = planning.all_runs(cfg, ["lifelong"])
    key, spec = next((k, s) for k, s in specs.items() if s["method"] == method and s["benchmark"] == "perm_mnist")
    spec = copy.deepcopy(spec)
    spec["model"]["lr"] = 1.0e8
    out = tmp_path / key
    with pytest.raises(FloatingPointError) as info:
        run(spec, {"data": tiny_mnist}, out, "cpu")
    msg = str(info.value)
    assert key in msg and "at epoch 1, step" in msg, msg
    assert not out.exists() or not [p for p in out.iterdir() if p.name in RUN_FILES or p.name == "checkpoint.pt"]
