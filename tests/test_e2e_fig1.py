"""End to end: the quick config builds Fig 1 (and only what it needs) from tiny data, via Snakemake.

figures/all (every figure + scorecard + manifest) is built end to end by tests/test_scorecard.py."""

import pandas as pd
import pytest


@pytest.mark.e2e
def test_quick_config_builds_fig1(workdir):
    workdir.snakemake("figures/fig1.pdf")
    wd = workdir.path
    assert (wd / "figures/fig1.pdf").stat().st_size > 1000
    assert (wd / "figures/fig1.png").exists()
    # only Fig 1's runs were trained (no lifelong, ablation or App. fig 1c sweep runs)
    assert {p.name for p in (wd / "results/runs").iterdir()} == {"energy"}
    assert not [p.name for p in (wd / "results/runs/energy").iterdir() if "_p0" in p.name or "uniform" in p.name]
    table = pd.read_csv(wd / "results/tables/energy_final.csv")
    # quick config: 3 models x 3 weight decays x 2 seeds
    assert len(table) == 18
    assert set(table["model"]) == {"presyn", "deterministic", "fixedp"}
    assert table["test_accuracy"].between(0, 1).all()
    stats = pd.read_csv(wd / "results/stats/fig1.csv")
    assert {"fig1.best_mi_per_energy.presyn", "fig1.best_mi_per_energy.presyn_vs_deterministic"} <= set(stats["name"])
    prov = (wd / "results/runs/energy/presyn_wd0.01/mnist/seed2019/provenance.json").read_text()
    assert '"config_hash"' in prov and '"libraries"' in prov
