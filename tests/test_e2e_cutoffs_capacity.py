"""End to end (issue 21): the quick config builds the sparsity statistics at the extra importance cutoffs and the
perceptron near-capacity series (runs, table, stats, figure) via Snakemake on tiny data, the scorecard reads both
tables and judges the new claims, and figures/all lists the new figure."""

import pandas as pd
import pytest

from presyn import scorecard as sc


@pytest.mark.e2e
def test_quick_config_builds_cutoff_and_capacity_stats(workdir):
    workdir.snakemake("results/stats/sparsity_cutoffs.csv", "figures/perceptron_capacity.pdf")
    wd = workdir.path
    cut = pd.read_csv(wd / "results/stats/sparsity_cutoffs.csv")
    names = set(cut["name"])
    for c in ("cut0.8", "cut0.95"):  # the cutoffs of config.yaml, which quick.yaml keeps
        for layer in (1, 2, 3):
            assert {
                f"appfig2.ks.layer{layer}.{c}",
                f"appfig2.ks.layer{layer}.{c}.seed2019",
                f"appfig2.ks.layer{layer}.{c}.seed2020",
                f"appfig2.fraction_important.layer{layer}.{c}",
            } <= names
        assert {f"appfig2.pearson_in_out.layer1.{c}", f"appfig2.pearson_in_out.layer2.{c}.seeds"} <= names
    frac = cut.set_index("name")["value"]
    assert frac["appfig2.fraction_important.layer1.cut0.8"] >= frac["appfig2.fraction_important.layer1.cut0.95"]

    # quick: 20, 40, 80 patterns per task at N = 200 (loads 0.25, 0.5, 1), 3 repetitions, one seed
    assert (wd / "figures/perceptron_capacity.pdf").stat().st_size > 1000 and (
        wd / "figures/perceptron_capacity.png"
    ).exists()
    assert (wd / "results/runs/perceptron/presyn_patterns80/random/seed2019/state.pt").exists()
    table = pd.read_csv(wd / "results/tables/perceptron_capacity.csv")
    assert sorted(table["n_patterns"].unique()) == [20, 40, 80] and len(table) == 3 * 2 * 3
    assert sorted(table["load"].unique()) == [0.25, 0.5, 1.0] and table["mean_accuracy"].between(0, 1).all()
    cap = pd.read_csv(wd / "results/stats/perceptron_capacity.csv").set_index("name")
    for n in (20, 40, 80):
        assert cap.loc[f"perceptron_capacity.gap.patterns{n}", "n"] == 3
        assert f"perceptron_capacity.final.standard.patterns{n}" in cap.index
    assert "n_patterns=80" in cap.loc["perceptron_capacity.gap.largest", "groups"]

    # the scorecard judges the new claims on these rows (verdicts of a toy run: only that they are evaluated)
    pub = sc.load_published(workdir.path / "config" / "published.yaml")
    stats, _ = sc.load_stats([wd / "results/stats/sparsity_cutoffs.csv", wd / "results/stats/perceptron_capacity.csv"])
    card = sc.scorecard(pub, stats).set_index("id")
    assert card.loc["perceptron_capacity.gap_shrinks", "verdict"] in (sc.REPRODUCED, sc.NOT_REPRODUCED)
    for c in ("0.8", "0.95"):
        for layer in (1, 2, 3):
            claim = f"appfig2.ks_layer{layer}_{'not_' if layer == 3 else ''}significant.cut{c}"
            assert card.loc[claim, "verdict"] in (sc.REPRODUCED, sc.NOT_REPRODUCED), claim

    # figures/all: the manifest lists the capacity figure; the scorecard reads both stats tables
    dry = workdir.snakemake("figures/all", extra=("-n",)).stdout
    assert "figures/perceptron_capacity.pdf" in dry.split("rule manifest:")[1].split("output:")[0]
    scorecard_job = dry.split("rule scorecard:")[1].split("output:")[0]
    assert (
        "results/stats/sparsity_cutoffs.csv" in scorecard_job
        and "results/stats/perceptron_capacity.csv" in scorecard_job
    )

    # switched off: no capacity run, table or figure is planned
    off = workdir.overlay(
        "capacity_off",
        {"perceptron": {"capacity": {"enabled": False}}, "energy": {"analysis": {"importance_cutoffs": []}}},
    )
    dry = workdir.snakemake("figures/all", configfiles=("config/quick.yaml", str(off)), extra=("-n",)).stdout
    assert "perceptron_capacity" not in dry and "_patterns" not in dry and "sparsity_cutoffs" not in dry
