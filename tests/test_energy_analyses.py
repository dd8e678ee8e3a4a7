"""Energy analyses (Fig 2, 3, App. figs 1-2): shuffle baseline + KS, 2 SD neuron classes, lesion order,
Fisher from torch.func vs a batch-1 loop, and the quick config rendering all four figures via Snakemake."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from presyn.analysis import fisher, lesion, sparsity
from presyn.analysis.synapses import fig2_stats, histogram_table, important_fractions, synapse_stats, synapse_table
from presyn.models import SynapticMLP


# ----------------------------------------------------------------------------- sparsity
def test_shuffle_keeps_entries_and_ks_detects_concentrated_importance():
    imp = np.zeros((20, 50), bool)
    imp[:5] = True  # 5 neurons receive only important inputs, 15 none: maximally non-uniform
    shuf = sparsity.shuffled(imp, np.random.default_rng(0))
    assert shuf.shape == imp.shape and shuf.sum() == imp.sum()  # same entries, same total
    assert not np.array_equal(shuf, imp)
    true_counts, shuf_counts = sparsity.input_counts(imp), sparsity.input_counts(shuf)
    assert list(true_counts) == [50] * 5 + [0] * 15
    from presyn import stats

    row = stats.ks_2samp("t", "t.ks", true_counts, shuf_counts, "a=true;b=shuffled")
    assert row["value"] > 0.7 and row["p_value"] < 0.01 and row["n"] == 40
    # a matrix whose shuffle is itself (all important) gives D = 0
    full = np.ones((10, 8), bool)
    row = stats.ks_2samp(
        "t",
        "t.ks",
        sparsity.input_counts(full),
        sparsity.input_counts(sparsity.shuffled(full, np.random.default_rng(1))),
        "",
    )
    assert row["value"] == 0.0


def test_two_sd_classification():
    baseline = np.array([8, 12, 8, 12])  # mean 10, SD (ddof 0) 2 -> low < 6, high > 14
    labels = sparsity.classify(np.array([0, 5, 6, 10, 14, 15, 20]), baseline)
    assert list(labels) == ["low", "low", "medium", "medium", "medium", "high", "high"]
    assert sparsity.class_counts(labels) == {"low": 2, "medium": 3, "high": 2}


def test_in_out_counts_and_neuron_table():
    P1 = np.array(
        [
            [1.0, 0.95, 0.3, 0.9],  # hidden neuron 0: 3 important inputs
            [0.25, 0.25, 0.25, 0.25],  # hidden neuron 1: none
            [0.9, 0.1, 0.1, 0.1],
        ]
    )  # hidden neuron 2: 1
    P2 = np.array([[0.95, 0.2, 0.9], [1.0, 0.2, 0.2]])  # outputs of hidden neurons: 2, 0, 1
    io = sparsity.in_out_table({7: [P1, P2]}, 0.9)
    assert list(io["important_in"]) == [3, 0, 1] and list(io["important_out"]) == [2, 0, 1]
    assert set(io["hidden_layer"]) == {1} and set(io["seed"]) == {7}
    nt = sparsity.neuron_table({7: [P1, P2]}, 0.9, shuffle_seed=0)
    true1 = nt[(nt["layer"] == 1) & (nt["connectivity"] == "true")]
    assert list(true1["important_in"]) == [3, 0, 1] and np.allclose(true1["fraction_in"], [0.75, 0, 0.25])
    for (_, layer), g in nt.groupby(["connectivity", "layer"]):
        assert g["important_in"].sum() == (
            nt[(nt["layer"] == layer) & (nt["connectivity"] == "true")]["important_in"].sum()
        )


def test_sparsity_stats_names_and_layer_structure():
    rng = np.random.default_rng(3)
    # layer 1: importance concentrated on 20 of 100 neurons; layer 2: uniform; output layer: uniform
    P1 = np.where(rng.random((100, 60)) < np.repeat([[0.6]] * 20 + [[0.02]] * 80, 60, axis=1), 1.0, 0.25)
    P2 = np.where(rng.random((50, 100)) < 0.1, 1.0, 0.25)
    P3 = np.where(rng.random((10, 50)) < 0.1, 1.0, 0.25)
    probs = {1: [P1, P2, P3], 2: [P1, P2, P3]}
    out = sparsity.sparsity_stats(
        sparsity.neuron_table(probs, 0.9, 0), sparsity.in_out_table(probs, 0.9), representative_seed=1
    )
    app2, fig3 = out["appfig2"].set_index("name"), out["fig3"].set_index("name")
    assert app2.loc["appfig2.ks.layer1", "p_value"] < 0.01 and app2.loc["appfig2.ks.layer1", "value"] > 0.3
    assert app2.loc["appfig2.ks.layer3", "p_value"] > 0.01
    assert {
        "appfig2.ks.layer2",
        "appfig2.pearson_in_out.layer1",
        "appfig2.pearson_in_out.layer2",
        "appfig2.ks.layer1.seeds",
    } <= set(app2.index)
    assert {
        "fig3.ks.layer2",
        "fig3.pearson_in_out.layer1",
        "fig3.neuron_class.high.true",
        "fig3.neuron_class.low.shuffled",
        "fig3.neuron_class.high.true_vs_shuffled",
    } <= set(fig3.index)
    assert fig3.loc["fig3.ks.layer2", "value"] == app2.loc["appfig2.ks.layer2", "value"]
    counts = [fig3.loc[f"fig3.neuron_class.{c}.true", "value"] for c in sparsity.CLASSES]
    assert sum(counts) == 50  # every layer-2 neuron in exactly one class
    assert out["appfig2"]["n"].notna().all() and out["appfig2"]["test"].notna().all()


# ----------------------------------------------------------------------------- lesion
def test_lesion_order_lowest_p_first_ties_random():
    p = torch.tensor([0.5, 0.25, 0.9, 0.25, 1.0])
    firsts = set()
    for seed in range(20):
        order = lesion.lesion_order(p, "lowp_first", torch.Generator().manual_seed(seed))
        assert set(order[:2].tolist()) == {1, 3} and order[2:].tolist() == [0, 2, 4]
        firsts.add(int(order[0]))
    assert firsts == {1, 3}  # ties broken randomly, both ways happen
    rand = [lesion.lesion_order(p, "random", torch.Generator().manual_seed(s)).tolist() for s in range(5)]
    assert all(sorted(r) == list(range(5)) for r in rand) and len({tuple(r) for r in rand}) > 1
    w = torch.arange(1.0, 6.0)
    order = lesion.lesion_order(p, "lowp_first", torch.Generator().manual_seed(0))
    assert lesion.lesioned(w, order, 0.4).tolist() == [1.0, 0.0, 3.0, 0.0, 5.0]
    assert w.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]  # the original is untouched (restored between steps)
    with pytest.raises(ValueError, match="unknown lesion order"):
        lesion.lesion_order(p, "highp_first", torch.Generator())


def test_lesion_curve_low_p_synapses_carry_nothing():
    torch.manual_seed(0)
    net = SynapticMLP([8, 6, 3], torch.Generator().manual_seed(0))
    state = net.state_dict()
    # 60% of synapses: p = 0.25 and w_bar = 0 (useless); the rest p = 1
    state["p"] = [torch.where(torch.rand(P.shape) < 0.6, 0.25, 1.0) for P in state["p"]]
    state["w_bar"] = [torch.where(P < 1, 0.0, W) for W, P in zip(state["w_bar"], state["p"])]
    frac_low = float(sum((P < 1).sum() for P in state["p"]) / sum(P.numel() for P in state["p"]))
    x, y = torch.randn(64, 8), torch.randint(0, 3, (64,))
    curve = lesion.lesion_curve(state, x, y, [0.0, 0.3, frac_low - 0.02, 0.95], n_samples=3, seed=1)
    low = curve[curve["order"] == "lowp_first"].set_index("fraction")["accuracy"]
    # removing only zero-strength synapses changes nothing (same masks: the sampler is reseeded per point)
    assert low.iloc[1] == low.iloc[0] and low.iloc[2] == low.iloc[0]
    assert set(curve["order"]) == {"lowp_first", "random"} and len(curve) == 8
    assert curve["n_removed"].max() == round(0.95 * sum(P.numel() for P in state["p"]))


# ----------------------------------------------------------------------------- Fisher
def test_fisher_matches_batch1_loop():
    g = torch.Generator().manual_seed(0)
    sizes = [6, 5, 4, 3]
    weights = [torch.randn(o, i, generator=g) for i, o in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn(o, generator=g) for o in sizes[1:]]
    x, y = torch.randn(13, 6, generator=g), torch.randint(0, 3, (13,), generator=g)
    F = fisher.empirical_fisher(weights, biases, x, y, chunk=4)  # 13 = 4 + 4 + 4 + 1
    ref = [torch.zeros_like(w) for w in weights]
    for i in range(len(x)):  # batch-1 loop with plain autograd
        ws = [w.clone().requires_grad_(True) for w in weights]
        h = x[i]
        for j, (w, b) in enumerate(zip(ws, biases)):
            h = w @ h + b
            if j < len(ws) - 1:
                h = torch.relu(h)
        ll = torch.log_softmax(h, -1)[y[i]]
        for r, gr in zip(ref, torch.autograd.grad(ll, ws)):
            r += gr**2
    for f, r in zip(F, ref):
        assert f.shape == r.shape
        torch.testing.assert_close(f, r / len(x), rtol=1e-5, atol=1e-7)


def test_synapse_table_and_fig2_stats():
    net = SynapticMLP([8, 6, 3], torch.Generator().manual_seed(0))
    st = net.state_dict()
    st["p"] = [
        torch.where(torch.rand(P.shape, generator=torch.Generator().manual_seed(i)) < 0.2, 0.95, 0.3)
        for i, P in enumerate(st["p"])
    ]
    st["initial_p"] = [torch.full(P.shape, 0.25) for P in st["p"]]
    x, y = torch.randn(40, 8), torch.randint(0, 3, (40,))
    syn = synapse_table({1: st, 2: st}, x, y, 0.9)
    assert len(syn) == 2 * (8 * 6 + 6 * 3) and {"p", "p_init", "abs_w", "fisher", "important"} <= set(syn.columns)
    hist = histogram_table(syn)
    for (panel, group), h in hist.groupby(["panel", "group"]):
        assert h["count"].sum() == h["n"].iloc[0], (panel, group)
    les = pd.DataFrame(
        {
            "seed": [1, 1, 2, 2] * 2,
            "order": ["lowp_first"] * 4 + ["random"] * 4,
            "fraction": [0.0, 0.5] * 4,
            "accuracy": [0.9, 0.8, 0.9, 0.85, 0.9, 0.5, 0.9, 0.6],
        }
    )
    s = fig2_stats(synapse_stats(syn), les).set_index("name")
    assert s.loc["fig2.lesion.lowp_first.50", "value"] == pytest.approx(0.825)
    assert s.loc["fig2.lesion.random.50", "value"] == pytest.approx(0.55)
    assert s.loc["fig2.lesion.lowp_vs_random.50", "test"] == "paired t-test"
    assert s.loc["fig2.fraction_important.before", "value"] == 0.0
    assert s.loc["fig2.pearson_fisher_p", "n"] == len(syn)
    assert {"fig2.abs_w.high_vs_low", "fig2.fisher.high_vs_low", "fig2.energy_share.high_p"} <= set(s.index)
    with pytest.raises(ValueError, match="synapse_stats table of another analysis"):
        fig2_stats(synapse_stats(syn, figure="robustness.p_low"), les)


def test_important_fractions_per_init_and_seed_by_hand():
    syn = pd.DataFrame(
        {
            "seed": [1, 1, 1, 1, 2, 2],
            "important": [True, False, False, False, True, True],
            "p_init": [0.9, 0.3, 0.4, 0.6, 0.3, 0.8],
        }
    )
    out = important_fractions({"uniform_init": syn, "min_init": syn.assign(important=False, p_init=0.25)})
    assert list(out.columns) == ["init", "seed", "fraction_important", "bin_left", "bin_right", "n"]
    got = out[out["bin_left"].isna()].set_index(["init", "seed"])["fraction_important"]
    assert got["uniform_init", 1] == 0.25 and got["uniform_init", 2] == 1.0 and got["min_init", 2] == 0.0
    by_bin = out[out["bin_left"].notna()].set_index(["init", "seed", "bin_left"])
    assert by_bin.loc[("uniform_init", 1, 0.25), "fraction_important"] == 0.0  # p_init 0.3, 0.4: neither ends important
    assert by_bin.loc[("uniform_init", 1, 0.75), "fraction_important"] == 1.0  # p_init 0.9
    assert by_bin.loc[("uniform_init", 2, 0.25), "n"] == 1 and ("min_init", 1, 0.5) not in by_bin.index


# ----------------------------------------------------------------------------- end to end
@pytest.mark.e2e
def test_quick_config_builds_energy_figures(workdir):
    figs = ("fig2", "fig3", "appfig1", "appfig2")
    workdir.snakemake(*(f"figures/{f}.pdf" for f in figs))
    wd = workdir.path
    for f in figs:
        assert (wd / f"figures/{f}.pdf").stat().st_size > 1000 and (wd / f"figures/{f}.png").exists()
    stats = pd.concat([pd.read_csv(wd / f"results/stats/{f}.csv") for f in figs])
    names = set(stats["name"])
    expected = {
        "fig2.lesion.lowp_first.50",
        "fig2.lesion.random.50",
        "fig2.pearson_fisher_p",
        "fig3.ks.layer2",
        "fig3.pearson_in_out.layer1",
        "appfig2.ks.layer1",
        "appfig2.ks.layer2",
        "appfig2.ks.layer3",
        "appfig2.pearson_in_out.layer1",
        "appfig2.pearson_in_out.layer2",
        "appfig1.fixedp_mi_per_energy.p0.6",
        "appfig1.best_mi_per_neuronal_energy.presyn",
        "appfig1.fraction_important.uniform_init",
    }
    assert expected <= names, expected - names
    assert stats["n"].notna().all() and stats["test"].notna().all()
    # the Fig 1 table holds only the Fig 1 grid; the sweep has its own (quick: 3 p x 1 lr x its one seed, 2019)
    final = pd.read_csv(wd / "results/tables/energy_final.csv")
    assert len(final) == 18 and set(final["model"]) == {"presyn", "deterministic", "fixedp"}
    sweep = pd.read_csv(wd / "results/tables/energy_fixedp_sweep.csv")
    assert len(sweep) == 3 and sorted(sweep["p"].unique()) == [0.2, 0.6, 1.0] and set(sweep["seed"]) == {2019}
    assert (wd / "results/runs/energy/fixedp_p0.2_lr0.02_wd0.01/mnist/seed2019/state.pt").exists()
    assert (wd / "results/runs/energy/presyn-uniform_wd0.01/mnist/seed2020/state.pt").exists()
    lesion_tab = pd.read_csv(wd / "results/tables/energy_lesion.csv")
    # 2 seeds x (low p first, the authors' one random order, the random order averaged over 4: quick) x 10 fractions
    assert len(lesion_tab) == 2 * 3 * 10 and lesion_tab["accuracy"].between(0, 1).all()
    assert set(lesion_tab.loc[lesion_tab["order"] == "random_mean", "n_orders"]) == {4}
    assert {"fig2.lesion.area_lowp_vs_random_mean", "fig2.lesion.lowp_vs_random_mean.50"} <= names
    syn = pd.read_parquet(wd / "results/tables/energy_synapses.parquet")
    assert len(syn) == 2 * (784 * 200 + 200 * 200 + 200 * 10)
    # figures/all would list them (dry run: the manifest's inputs)
    dry = workdir.snakemake("figures/all", extra=("-n",))
    manifest_job = dry.stdout.split("rule manifest:")[1].split("output:")[0]
    assert all(f"figures/{f}.pdf" in manifest_job for f in figs)
