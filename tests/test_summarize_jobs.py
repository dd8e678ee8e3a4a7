"""benchmarks/summarize_jobs.py: job kinds, the summary JSON (last line) and the projection of pending runs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

spec = importlib.util.spec_from_file_location("summarize_jobs", ROOT / "benchmarks" / "summarize_jobs.py")
sj = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sj)


def test_job_kinds_separate_benchmark_families():
    root = Path("results/benchmarks")
    kind = lambda *p: sj.job_kind(root.joinpath(*p), root)  # noqa: E731
    assert kind("train", "energy", "fixedp_p0.3_lr0.015_wd0.01", "mnist", "seed2019.tsv") == "train:energy:fixedp"
    assert kind("train", "energy", "presyn-uniform_wd0.01", "mnist", "seed2019.tsv") == "train:energy:presyn-uniform"
    assert kind("train", "lifelong", "bgd", "perm_fashion", "seed2019.tsv") == "train:lifelong:bgd:perm"
    assert kind("train", "lifelong", "bgd", "split_mnist", "seed2019.tsv") == "train:lifelong:bgd:split"
    assert kind("train", "lifelong", "presyn", "cont_perm_mnist", "seed2019.tsv") == "train:lifelong:presyn:cont"
    assert (
        kind("train", "ablation", "ablation-noFreeze", "perm_mnist", "seed2019.tsv") == "train:ablation:noFreeze:perm"
    )
    assert kind("energy_lesion", "all.tsv") == "energy_lesion"


def write_tsv(path: Path, seconds: float, rss: float = 500.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"s\th:m:s\tmax_rss\n{seconds}\t0:00:00\t{rss}\n")


def test_summary_and_projection(tmp_path):
    """Three measured jobs; the config's other runs are pending and estimated from their kind's median."""
    bench = tmp_path / "benchmarks"
    write_tsv(bench / "train" / "energy" / "presyn_wd0.01" / "mnist" / "seed2019.tsv", 100.0, 900.0)
    write_tsv(bench / "train" / "energy" / "presyn_wd0.01" / "mnist" / "seed2020.tsv", 120.0)
    write_tsv(bench / "energy_lesion" / "all.tsv", 30.0)
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "seeds": [2019, 2020],
                "lifelong": {"enabled": False},
                "ablation": {"enabled": False},
                "energy": {
                    "weight_decays": [0.01],
                    "fixedp_sweep": {"enabled": False},
                    "uniform_init": {"enabled": False},
                    "robustness": {"enabled": False},
                    "models": {"presyn": {"lr": 0.05}, "deterministic": {"lr": 0.08}},
                },
            }
        )
    )
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "summarize_jobs.py"),
            str(bench),
            "--config",
            str(ROOT / "config" / "config.yaml"),
            str(overlay),
            "--cores",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["jobs"] == 3 and out["summed_job_s"] == 250.0 and out["peak_rss_mb"] == 900.0
    assert out["kinds"]["train:energy:presyn"] == {"n": 2, "median_s": 110.0, "max_s": 120.0, "max_rss_mb": 900.0}
    proj = out["projection"]
    # pending: presyn none (both seeds measured); deterministic and fixedp 2 seeds each, neither measured
    assert proj["pending_by_kind"] == {"train:energy:deterministic": 2, "train:energy:fixedp": 2}
    assert proj["unmeasured_kinds"] == {"train:energy:deterministic": 2, "train:energy:fixedp": 2}
    assert proj["pending_estimated_s"] == 0 and proj["projected_wall_s"] == 125.0


def test_projection_uses_kind_medians():
    import pandas as pd

    done = pd.DataFrame({"kind": ["a", "a", "a", "b"], "s": [10.0, 20.0, 90.0, 5.0]})
    pending = pd.DataFrame({"run": ["x", "y", "z"], "kind": ["a", "a", "c"]})
    proj = sj.projection(done, pending, cores=2)
    assert proj["pending_estimated_s"] == 40.0  # 2 x median(a) = 2 x 20
    assert proj["unmeasured_kinds"] == {"c": 1}
    assert proj["projected_total_job_s"] == 165.0 and proj["projected_wall_s"] == 82.5


def test_sittings_split_at_idle_gaps():
    """A run stopped and resumed later: its wall time is the sum of the busy periods, not the whole span."""
    import pandas as pd

    # sitting 1: two overlapping jobs (0-100, 50-120) and one after a 30 s gap (150-200); sitting 2 starts 1 h later
    df = pd.DataFrame({"start": [0.0, 50.0, 150.0, 3800.0], "end": [100.0, 120.0, 200.0, 3900.0]})
    periods = sj.sittings(df, gap_s=600)
    assert [(p["wall_s"], p["jobs"]) for p in periods] == [(200.0, 3), (100.0, 1)]
    assert periods[0]["start"] == "1970-01-01T00:00:00+00:00" and periods[1]["end"] == "1970-01-01T01:05:00+00:00"
    assert [p["jobs"] for p in sj.sittings(df, gap_s=10)] == [2, 1, 1]  # a 30 s gap ends a sitting when gap_s = 10


def test_stale_runs_are_pending_and_leave_the_total(tmp_path):
    """A run trained with another spec (config hash) is retrained by Snakemake: pending again, and its old
    time leaves the projected total (but still informs its kind's median)."""
    from presyn import planning

    bench, runs = tmp_path / "benchmarks", tmp_path / "runs"
    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(
        yaml.safe_dump(
            {
                "seeds": [2019, 2020],
                "lifelong": {"enabled": False},
                "ablation": {"enabled": False},
                "energy": {
                    "weight_decays": [0.01],
                    "fixedp_sweep": {"enabled": False},
                    "uniform_init": {"enabled": False},
                    "robustness": {"enabled": False},
                    "models": {"presyn": {"lr": 0.05}, "deterministic": {"lr": 0.08}},
                },
            }
        )
    )
    specs = planning.all_runs(sj.workflow_config([str(ROOT / "config" / "config.yaml"), str(overlay)]))
    for seed, seconds, config_hash in ((2019, 100.0, "current"), (2020, 300.0, "an older spec")):
        key = f"energy/presyn_wd0.01/mnist/seed{seed}"
        write_tsv(bench / "train" / f"{key}.tsv", seconds)
        (runs / key).mkdir(parents=True)
        h = specs[key]["config_hash"] if config_hash == "current" else "0123456789abcdef"
        (runs / key / "provenance.json").write_text(json.dumps({"config_hash": h}))
    pending = sj.pending_runs([str(ROOT / "config" / "config.yaml"), str(overlay)], bench, runs)
    assert pending.loc[pending["stale"], "run"].tolist() == ["energy/presyn_wd0.01/mnist/seed2020"]
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "summarize_jobs.py"),
            str(bench),
            "--runs",
            str(runs),
            "--config",
            str(ROOT / "config" / "config.yaml"),
            str(overlay),
            "--cores",
            "2",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    proj = json.loads(res.stdout.strip().splitlines()[-1])["projection"]
    assert proj["stale_jobs"] == 1 and proj["pending_by_kind"]["train:energy:presyn"] == 1
    # measured 100 (current) + the stale run again at the kind's median (200); its old 300 s are not counted
    assert proj["projected_total_job_s"] == 100.0 + 200.0
