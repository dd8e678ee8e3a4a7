"""presyn.planning: the planners and every run selector the rule files call, on small configs; the package
imports without torch (the Snakefile imports it while Snakemake parses the workflow)."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

from presyn import configs, planning

ROOT = Path(__file__).resolve().parents[1]


def quick_config() -> dict:
    return configs.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")


def tiny_config() -> dict:
    """The smallest energy config: one model, two weight decays, seeds given out of order."""
    return {
        "seeds": [2, 1],
        "model": {"hidden": [10], "batch_size": 4, "p_min": 0.25, "eval_samples": 2, "important_p": 0.9},
        "data": {"subset": None, "datasets": {"mnist": {"mean": 0.1, "std": 0.3}}},
        "energy": {
            "benchmark": "mnist",
            "epochs": 1,
            "weight_decays": [0.0, 0.01],
            "models": {"presyn": {"kind": "presyn", "lr": 0.1, "p_up": 0.07, "p_down": 0.07}},
            "analysis": {"model": "presyn", "weight_decay": 0.01},
        },
    }


@pytest.fixture(scope="module")
def quick():
    cfg = quick_config()
    return cfg, planning.all_runs(cfg)


def test_import_leaves_torch_numpy_pandas_out():
    code = (
        "import sys, presyn.planning; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'numpy', 'pandas', 'scipy'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""},
    ).stdout.strip()
    assert out == "[]"


def test_config_hash_pinned():
    """The hash of a run (everything it is trained with but its seed) as the planners spelled it before they
    moved here (presyn.plan at 537ace4): moving code never retrains anything."""
    runs = planning.all_runs(tiny_config())
    assert {k: s["config_hash"] for k, s in runs.items()} == {
        "energy/presyn_wd0/mnist/seed2": "10b9e240b19e399e",
        "energy/presyn_wd0/mnist/seed1": "10b9e240b19e399e",
        "energy/presyn_wd0.01/mnist/seed2": "54b5632493fcf3bb",
        "energy/presyn_wd0.01/mnist/seed1": "54b5632493fcf3bb",
    }
    assert list(runs) == [
        "energy/presyn_wd0/mnist/seed2",
        "energy/presyn_wd0/mnist/seed1",  # config order kept
        "energy/presyn_wd0.01/mnist/seed2",
        "energy/presyn_wd0.01/mnist/seed1",
    ]


def test_all_runs_experiments_and_order(quick):
    cfg, runs = quick
    assert {s["experiment"] for s in runs.values()} == {"energy", "lifelong", "ablation"}  # perceptron: own rule
    assert all(planning.run_key(s) == k for k, s in runs.items())
    only = planning.all_runs(cfg, ["ablation", "energy"])
    assert list(only) == [k for k in runs if k.startswith("ablation/")] + [k for k in runs if k.startswith("energy/")]
    with pytest.raises(ValueError, match="no planner for"):
        planning.all_runs(cfg, ["perceptron"])
    off = copy.deepcopy(cfg)
    off["lifelong"]["enabled"] = False
    assert not [k for k in planning.all_runs(off) if k.startswith("lifelong/")]


def test_all_runs_refuses_two_runs_on_one_path():
    cfg = tiny_config()
    cfg["energy"]["weight_decays"] = [0.01, 0.010000001]  # both spelled wd0.01
    with pytest.raises(ValueError, match="share the path"):
        planning.all_runs(cfg)


def test_paths_and_names():
    spec = planning.all_runs(tiny_config())["energy/presyn_wd0.01/mnist/seed1"]
    assert planning.run_dir(spec) == "results/runs/energy/presyn_wd0.01/mnist/seed1"
    assert planning.run_files([spec], "state.pt") == ["results/runs/energy/presyn_wd0.01/mnist/seed1/state.pt"]
    assert planning.run_files({"k": spec}) == ["results/runs/energy/presyn_wd0.01/mnist/seed1/metrics.parquet"]
    assert planning.data_file(spec) == "data/processed/mnist.npz"
    assert planning.method_name("presyn", wd=0.0) == "presyn_wd0" and planning.fmt_number(1e-4) == "0.0001"
    assert planning.dataset_of("perm_fashion") == "fashion" and planning.kind_of("cont_perm_mnist") == "cont_perm"
    with pytest.raises(ValueError):
        planning.kind_of("mnist")


def test_energy_groups_and_by_seed(quick):
    cfg, runs = quick
    fig1 = planning.energy_specs(runs)
    assert {s["model_name"] for s in fig1.values()} == set(cfg["energy"]["models"])
    assert len(fig1) == len(cfg["energy"]["models"]) * len(cfg["energy"]["weight_decays"]) * len(cfg["seeds"])
    sweep = planning.energy_specs(runs, "fixedp_sweep")
    assert len(sweep) == len(cfg["energy"]["fixedp_sweep"]["ps"]) and all(
        s["model_name"] == "fixedp" for s in sweep.values()
    )
    assert [s["seed"] for s in planning.uniform_runs(runs)] == sorted(cfg["seeds"])
    ordered = planning.by_seed(planning.energy_specs(planning.all_runs(tiny_config())))
    assert [(s["weight_decay"], s["seed"]) for s in ordered] == [(0.0, 1), (0.01, 1), (0.0, 2), (0.01, 2)]  # stable


def test_analysis_runs_and_settings(quick):
    cfg, runs = quick
    a = cfg["energy"]["analysis"]
    chosen = planning.analysis_runs(cfg, runs)
    assert [s["seed"] for s in chosen] == sorted(cfg["seeds"])
    assert all(
        s["model_name"] == a["model"] and s["weight_decay"] == a["weight_decay"] and not s.get("energy_group")
        for s in chosen
    )
    assert planning.analysis_data(cfg, runs) == "data/processed/mnist.npz"
    assert planning.representative_seed(cfg, runs) == min(cfg["seeds"])  # null: the first analysed seed
    assert (
        planning.representative_seed(
            {**cfg, "energy": {**cfg["energy"], "analysis": {**a, "representative_seed": 2020}}}, runs
        )
        == 2020
    )
    assert planning.importance_cutoffs(cfg) == [float(c) for c in a["importance_cutoffs"]]
    assert planning.importance_cutoffs({"energy": {"analysis": {}}}) == [] and planning.importance_cutoffs({}) == []
    spread = planning.fig3_spread_runs(cfg, runs)  # every weight decay x seed of the analysed model, no group runs
    assert [(s["weight_decay"], s["seed"]) for s in spread] == [
        (float(w), seed) for w in sorted(cfg["energy"]["weight_decays"]) for seed in sorted(cfg["seeds"])
    ]
    assert all(s["model_name"] == a["model"] and not s.get("energy_group") for s in spread)
    bad = {**cfg, "energy": {**cfg["energy"], "analysis": {**a, "weight_decay": 0.5}}}
    with pytest.raises(ValueError, match="no such energy run"):
        planning.analysis_runs(bad, runs)
    tiny = tiny_config()
    with pytest.raises(ValueError, match="uniform_init"):
        planning.uniform_runs(planning.all_runs(tiny))


def test_robustness_selectors(quick):
    cfg, runs = quick
    variants = planning.robustness_variants(cfg)
    assert set(variants) == {"p_low", "p_high"} and planning.robustness_model(cfg) == "presyn"
    every = planning.robustness_runs_of(cfg, runs)
    assert len(every) == len(variants) * len(cfg["energy"]["weight_decays"]) * len(cfg["seeds"])
    assert [s["seed"] for s in every] == sorted(s["seed"] for s in every)
    low = planning.robustness_runs_of(cfg, runs, "p_low")
    assert {(s["model"]["p_up"], s["model"]["p_down"]) for s in low} == {(0.0525, 0.0525)}
    at = planning.robustness_analysis_runs(cfg, runs, "p_high")
    assert [(s["weight_decay"], s["model"]["p_up"]) for s in at] == [(0.01, 0.0875)] * len(cfg["seeds"])
    specs = planning.robustness_specs(cfg, runs)
    assert list(specs) == [planning.run_key(s) for s in every]
    with pytest.raises(ValueError, match="not a variant"):
        planning.robustness_runs_of(cfg, runs, "p_mid")
    off = copy.deepcopy(cfg)
    off["energy"]["robustness"]["enabled"] = False
    with pytest.raises(ValueError, match="needs energy.robustness.enabled"):
        planning.robustness_runs_of(off, planning.all_runs(off))
    wrong_wd = {**cfg, "energy": {**cfg["energy"], "analysis": {**cfg["energy"]["analysis"], "weight_decay": 0.5}}}
    with pytest.raises(ValueError, match="has no run at energy.analysis.weight_decay"):
        planning.robustness_analysis_runs(wrong_wd, runs, "p_low")


def test_lifelong_selectors(quick):
    cfg, runs = quick
    figure = planning.lifelong_runs(runs)
    assert figure and all(
        s["experiment"] == "lifelong" and not s.get("search") and not s.get("diagnostic") for s in figure.values()
    )
    sec = cfg["lifelong"]
    assert len(figure) == len(sec["methods"]) * len(sec["benchmarks"]) * len(cfg["seeds"]) + len(
        cfg["seeds"]
    )  # + cont.
    search = planning.lifelong_runs(runs, search=True)
    screen, confirm = planning.ewc_search_runs(runs, "screen"), planning.ewc_search_runs(runs, "confirm")
    assert set(screen) | set(confirm) == set(search) and len(screen) == len(confirm) > 0
    some = next(iter(confirm.values()))
    wanted = {(some["benchmark"], some["search"]["index"])}
    picked = planning.ewc_search_runs(runs, "confirm", wanted)
    assert picked and all((s["benchmark"], s["search"]["index"]) in wanted for s in picked.values())
    ev = planning.bgd_evidence_specs(cfg, runs)
    diag = {k for k, s in ev.items() if s.get("diagnostic") == "bgd_evidence"}
    assert diag == {k for k, s in runs.items() if s.get("diagnostic")}
    assert set(ev) - diag == {
        f"lifelong/bgd/{sec['bgd_evidence']['benchmark']}/seed{seed}" for seed in sec["bgd_evidence"]["seeds"]
    }


def test_lifelong_spec_blocks():
    cfg = quick_config()
    sec = cfg["lifelong"]
    ds = planning.dataset_block(cfg, "perm_mnist")
    assert planning.lifelong.inputs_block(ds, None) is ds
    assert planning.lifelong.inputs_block(ds, "raw") == {**ds, "mean": 0.0, "std": 1.0}
    assert planning.lifelong.inputs_block(ds, "padded32")["pad"] == 2
    with pytest.raises(ValueError, match="inputs must be"):
        planning.lifelong.inputs_block(ds, "zca")
    assert planning.lifelong.records_curve(sec, "presyn", "split_mnist")
    assert not planning.lifelong.records_curve(sec, "ewc", "split_mnist")


def test_ablation_and_search_selectors(quick):
    cfg, runs = quick
    abl = planning.of_experiment(runs, "ablation")
    sec = cfg["ablation"]
    assert {s["variant"] for s in abl.values()} == set(sec["run_variants"])
    assert len(abl) == len(sec["benchmarks"]) * len(sec["run_variants"]) * len(cfg["seeds"])
    s = sec["search"]
    assert planning.search_target(cfg) == f"results/search/{s['benchmark']}/{s['variant']}.yaml"
    assert planning.search_trial_files(cfg, "split_mnist", "full") == [
        f"results/search/split_mnist/full/trial{i}.json" for i in range(s["n_trials"])
    ]
    assert planning.search_data("split_fashion") == "data/processed/fashion.npz"
    trial = planning.search_spec(cfg, "split_mnist", "fixedP", 1)
    assert trial["experiment"] == "ablation_search" and trial["seed"] == s["seed"] + 1 and trial["search"]["trial"] == 1
    assert trial == planning.search_spec(cfg, "split_mnist", "fixedP", 1)  # a pure function of (config, trial)
    with pytest.raises(ValueError, match="unknown variant"):
        planning.search_spec(cfg, "split_mnist", "nope", 0)


def test_perceptron_selectors():
    cfg = quick_config()
    runs, series = planning.perceptron_runs(cfg), planning.capacity_series(cfg)
    key = next(iter(runs))
    method, seed = runs[key]["method"], runs[key]["seed"]
    assert planning.perceptron_spec(runs, series, method, str(seed)) is runs[key]
    extra = next(k for k in series if k not in runs)
    e = series[extra]["spec"]
    assert planning.perceptron_spec(runs, series, e["method"], e["seed"]) is e
    with pytest.raises(ValueError, match="not a perceptron run"):
        planning.perceptron_spec(runs, series, "nope", 1)
    assert planning.perceptron_files(runs, "state.pt") == [f"results/runs/{k}/state.pt" for k in runs]
