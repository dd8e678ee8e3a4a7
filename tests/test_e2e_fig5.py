"""End to end: the quick config builds Fig 5 (ablation via the lifelong trainer, perceptron runs, tables,
stats, figure) and the random-search target, via Snakemake on tiny data."""

import pandas as pd
import pytest
import yaml


@pytest.mark.e2e
def test_quick_config_builds_fig5_and_search(workdir):
    workdir.snakemake("figures/fig5.pdf", "ablation_search")
    wd = workdir.path
    assert (wd / "figures/fig5.pdf").stat().st_size > 1000 and (wd / "figures/fig5.png").exists()

    table = pd.read_csv(wd / "results/tables/ablation.csv")
    # quick: 2 benchmarks x 2 variants (full, fixedP) x 2 seeds, trained by the lifelong trainer
    assert len(table) == 8 and set(table["variant"]) == {"full", "fixedP"}
    assert set(table["benchmark"]) == {"perm_mnist", "split_mnist"}
    assert table["mean_accuracy"].between(0, 1).all()
    prov = (wd / "results/runs/ablation/ablation-fixedP/split_mnist/seed2019/provenance.json").read_text()
    assert '"sample_p": 0.5' in prov

    stats = pd.read_csv(wd / "results/stats/fig5.csv").set_index("name")
    for name in (
        "fig5.ablation.perm_mnist.full",
        "fig5.ablation.split_mnist.fixedP",
        "fig5.ablation_ttest.perm_mnist.fixedP_vs_full",
        "fig5.ablation_ttest.split_mnist.fixedP_vs_full",
        "fig5.perceptron.final.standard",
        "fig5.perceptron.final.presyn",
        "fig5.perceptron.ttest",
    ):
        assert name in stats.index, name
    assert stats.loc["fig5.perceptron.final.presyn", "n"] == 3  # quick: 3 repetitions, one seed
    assert stats.loc["fig5.ablation.perm_mnist.full", "n"] == 2

    perc = pd.read_csv(wd / "results/tables/perceptron.csv")
    assert set(perc["method"]) == {"standard", "presyn"} and set(perc["repetition"]) == {0, 1, 2}

    # the search target: quick config = 2 trials on perm_mnist / full, best parameters in range
    result = yaml.safe_load((wd / "results/search/perm_mnist/full.yaml").read_text())
    assert result["n_trials"] == 2 and len(result["trials"]) == 2
    assert 0.01 <= result["best"]["p_up"] <= 0.1 and 0.9 <= result["best"]["p_freeze"] <= 0.96
