"""Neuron-level sparsity of important synapses (Fig 3, Appendix 1-fig 2;
docs/protocol.md#fig-3-and-app-fig-2-neuron-level-sparsity).

Pure functions: release-probability matrices in, counts / tidy tables / stats rows out.
A weight matrix ``P`` has shape (n_out, n_in) (PyTorch layout): row j holds the input synapses of
neuron j of the next layer, column i the output synapses of neuron i of the previous layer.
"Layer l" is the l-th weight matrix; its neurons are the neurons that matrix feeds (layer 3 = outputs).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from presyn import stats


def important(P: np.ndarray, threshold: float = 0.9) -> np.ndarray:
    """Boolean importance matrix: p >= threshold."""
    return np.asarray(P) >= threshold


def input_counts(imp: np.ndarray) -> np.ndarray:
    """Important input synapses per receiving neuron (row sums)."""
    return np.asarray(imp).sum(axis=1)


def output_counts(imp: np.ndarray) -> np.ndarray:
    """Important output synapses per sending neuron (column sums)."""
    return np.asarray(imp).sum(axis=0)


def shuffled(imp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same matrix with its entries randomly permuted over all positions (same number of important synapses)."""
    flat = np.asarray(imp).reshape(-1).copy()
    rng.shuffle(flat)
    return flat.reshape(np.shape(imp))


def classify(counts: np.ndarray, baseline: np.ndarray, n_sd: float = 2.0) -> np.ndarray:
    """'low' / 'medium' / 'high' per neuron: more than ``n_sd`` SD (of ``baseline``) below / above its mean.

    ``baseline``: the important-input counts of the shuffled matrix (SD with ddof=0 over its neurons).
    """
    counts = np.asarray(counts, float)
    mu, sd = float(np.mean(baseline)), float(np.std(baseline))
    out = np.full(counts.shape, "medium", dtype=object)
    out[counts > mu + n_sd * sd] = "high"
    out[counts < mu - n_sd * sd] = "low"
    return out


CLASSES = ("low", "medium", "high")


def class_counts(labels: np.ndarray) -> dict[str, int]:
    labels = np.asarray(labels)
    return {c: int((labels == c).sum()) for c in CLASSES}


def neuron_table(
    release_probs: dict[int, list[np.ndarray]], threshold: float, shuffle_seed: int, n_sd: float = 2.0
) -> pd.DataFrame:
    """Per seed x weight matrix x receiving neuron x connectivity (true / shuffled): important inputs.

    ``release_probs``: seed -> list of per-layer p matrices (n_out, n_in). The shuffle of matrix l of
    seed s uses ``np.random.default_rng([shuffle_seed, s, l])``. Columns: seed, layer (1-based),
    neuron, connectivity, important_in, n_in, fraction_in, importance (low/medium/high vs the shuffled
    mean +- n_sd SD of the same seed and layer).
    """
    rows = []
    for seed, layers in release_probs.items():
        for li, P in enumerate(layers, start=1):
            imp = important(P, threshold)
            shuf = shuffled(imp, np.random.default_rng([shuffle_seed, int(seed), li]))
            base = input_counts(shuf)
            for conn, mat in (("true", imp), ("shuffled", shuf)):
                counts = input_counts(mat)
                rows.append(
                    pd.DataFrame(
                        {
                            "seed": int(seed),
                            "layer": li,
                            "neuron": np.arange(len(counts)),
                            "connectivity": conn,
                            "important_in": counts,
                            "n_in": mat.shape[1],
                            "fraction_in": counts / mat.shape[1],
                            "importance": classify(counts, base, n_sd),
                        }
                    )
                )
    return pd.concat(rows, ignore_index=True)


def in_out_table(release_probs: dict[int, list[np.ndarray]], threshold: float) -> pd.DataFrame:
    """Per seed x hidden layer x hidden neuron: important input and output synapses.

    Hidden layer h (1-based) receives from weight matrix h (rows) and sends through matrix h + 1 (columns).
    """
    rows = []
    for seed, layers in release_probs.items():
        for h in range(1, len(layers)):
            n_in = input_counts(important(layers[h - 1], threshold))
            n_out = output_counts(important(layers[h], threshold))
            rows.append(
                pd.DataFrame(
                    {
                        "seed": int(seed),
                        "hidden_layer": h,
                        "neuron": np.arange(len(n_in)),
                        "important_in": n_in,
                        "important_out": n_out,
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def _safe_pearson(figure: str, name: str, x, y, groups: str) -> dict:
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) >= 3 and (np.ptp(x) == 0 or np.ptp(y) == 0):
        row = stats.pearson(figure, name, x[:2], y[:2], groups)  # a 'too few' row with the right columns
        row.update(n=len(x), detail="constant input: no important synapses vary across neurons; r undefined")
        return row
    return stats.pearson(figure, name, x, y, groups)


def output_spread_rows(neurons: pd.DataFrame, figure: str = "appfig2") -> list[dict]:
    """App. fig 2 caption (issue 28): 'all 10 output neurons ... receive similar numbers of active inputs'. Per seed,
    the coefficient of variation (SD / mean, ddof = 1) of the important inputs of the last layer's neurons, true and
    shuffled connectivity; mean +- SEM over seeds (``<figure>.output_inputs_cv.{true,shuffled}``)."""
    last = neurons[neurons["layer"] == neurons["layer"].max()] if len(neurons) else neurons
    rows = []
    for conn in ("true", "shuffled"):
        g = last[last["connectivity"] == conn]
        cvs = [
            float(v.std(ddof=1) / v.mean()) for _, v in g.groupby("seed")["important_in"] if len(v) > 1 and v.mean() > 0
        ]
        if cvs:
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.output_inputs_cv.{conn}",
                    cvs,
                    f"connectivity={conn}",
                    detail="per seed: SD / mean of the important inputs of the output neurons",
                )
            )
    return rows


def sparsity_stats(neurons: pd.DataFrame, in_out: pd.DataFrame, representative_seed: int) -> dict[str, pd.DataFrame]:
    """Stats rows for Fig 3 and Appendix 1-fig 2.

    The published KS tests and correlations come from one representative run: the plain names
    (``fig3.ks.layer2``, ``appfig2.ks.layer{l}``, ``fig3.pearson_in_out.layer1``,
    ``appfig2.pearson_in_out.layer{h}``) are from ``representative_seed``; ``<name>.seeds`` is the
    mean +- SEM of the statistic over every seed. Fig 3b: low/medium/high neuron counts,
    mean +- SEM over seeds, true vs shuffled, with t-tests.
    """
    fig3, app2 = [], []
    ks_by_layer: dict[int, list[float]] = {}
    for (seed, layer), g in neurons.groupby(["seed", "layer"]):
        true = g[g["connectivity"] == "true"]["important_in"]
        shuf = g[g["connectivity"] == "shuffled"]["important_in"]
        row = stats.ks_2samp(
            "appfig2", f"appfig2.ks.layer{layer}.seed{seed}", true, shuf, f"layer={layer};seed={seed};a=true;b=shuffled"
        )
        app2.append(row)
        ks_by_layer.setdefault(layer, []).append(row["statistic"])
        if seed == representative_seed:
            app2.append(
                {**row, "name": f"appfig2.ks.layer{layer}", "groups": f"layer={layer};seed={seed};a=true;b=shuffled"}
            )
            if layer == 2:
                fig3.append({**row, "figure": "fig3", "name": "fig3.ks.layer2"})
    for layer, ds in ks_by_layer.items():
        app2.append(
            stats.summary(
                "appfig2",
                f"appfig2.ks.layer{layer}.seeds",
                ds,
                f"layer={layer}",
                detail="KS D over seeds (mean +- SEM)",
            )
        )
        if layer == 2:
            fig3.append(
                stats.summary("fig3", "fig3.ks.layer2.seeds", ds, "layer=2", detail="KS D over seeds (mean +- SEM)")
            )

    r_by_layer: dict[int, list[float]] = {}
    for (seed, h), g in in_out.groupby(["seed", "hidden_layer"]):
        row = _safe_pearson(
            "appfig2",
            f"appfig2.pearson_in_out.layer{h}.seed{seed}",
            g["important_in"],
            g["important_out"],
            f"hidden_layer={h};seed={seed}",
        )
        app2.append(row)
        r_by_layer.setdefault(h, []).append(row["value"])
        if seed == representative_seed:
            app2.append({**row, "name": f"appfig2.pearson_in_out.layer{h}"})
            if h == 1:
                fig3.append({**row, "figure": "fig3", "name": "fig3.pearson_in_out.layer1"})
    for h, rs in r_by_layer.items():
        app2.append(
            stats.summary(
                "appfig2",
                f"appfig2.pearson_in_out.layer{h}.seeds",
                rs,
                f"hidden_layer={h}",
                detail="Pearson r over seeds (mean +- SEM)",
            )
        )

    app2 += output_spread_rows(neurons)

    # Fig 3b: neuron classes of layer 2, per seed, true vs shuffled
    l2 = neurons[neurons["layer"] == 2]
    per_seed = (
        l2.groupby(["connectivity", "seed"])["importance"]
        .apply(lambda s: pd.Series(class_counts(s)))
        .unstack(-1)
        .reset_index()
    )
    for cls in CLASSES:
        vals = {}
        for conn in ("true", "shuffled"):
            vals[conn] = per_seed[per_seed["connectivity"] == conn].sort_values("seed")[cls].to_numpy(float)
            fig3.append(
                stats.summary(
                    "fig3",
                    f"fig3.neuron_class.{cls}.{conn}",
                    vals[conn],
                    f"class={cls};connectivity={conn}",
                    detail="neurons of layer 2 per seed",
                )
            )
        if cls != "medium":
            fig3.append(
                stats.ttest(
                    "fig3",
                    f"fig3.neuron_class.{cls}.true_vs_shuffled",
                    vals["true"],
                    vals["shuffled"],
                    f"class={cls};a=true;b=shuffled",
                )
            )
    return {"fig3": stats.frame(fig3), "appfig2": stats.frame(app2)}


# ----------------------------------------------------------------------------- other importance cutoffs
# The paper: the neuron-level findings are "robust with respect to the precise value of p" (the 0.9 that
# makes a synapse important). The same KS and in/out Pearson statistics at other cutoffs, on the same runs,
# with the same shuffles (the permutation of matrix l of seed s is the one the 0.9 analysis uses).


def cutoff_label(cutoff: float) -> str:
    """The stable spelling of a cutoff in stats names: 0.8 -> 'cut0.8', 0.95 -> 'cut0.95', 1.0 -> 'cut1'."""
    return f"cut{float(cutoff):g}"


def cutoff_tables(
    release_probs: dict[int, list[np.ndarray]], cutoffs, shuffle_seed: int, n_sd: float = 2.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``neuron_table`` and ``in_out_table`` at every cutoff, stacked, with a leading ``cutoff`` column."""
    if not len(cutoffs):
        raise ValueError("no importance cutoffs given (energy.analysis.importance_cutoffs is empty)")
    neurons, in_out = [], []
    for c in cutoffs:
        neurons.append(neuron_table(release_probs, float(c), shuffle_seed, n_sd))
        in_out.append(in_out_table(release_probs, float(c)))
        neurons[-1].insert(0, "cutoff", float(c))
        in_out[-1].insert(0, "cutoff", float(c))
    return pd.concat(neurons, ignore_index=True), pd.concat(in_out, ignore_index=True)


def cutoff_stats(
    neurons: pd.DataFrame, in_out: pd.DataFrame, representative_seed: int, figure: str = "appfig2"
) -> pd.DataFrame:
    """Stats rows of the neuron-sparsity tests at each cutoff (``results/stats/sparsity_cutoffs.csv``).

    ``neurons`` / ``in_out``: ``cutoff_tables`` output. Per cutoff c (``cut = cutoff_label(c)``), named as
    the 0.9 rows of ``sparsity_stats`` with ``.<cut>`` after the layer:

    - ``<figure>.ks.layer<l>.<cut>``: KS test, important inputs per neuron, true vs shuffled, of the
      representative run; ``.seed<s>`` every seed, ``.seeds`` D mean +- SEM over seeds;
    - ``<figure>.pearson_in_out.layer<h>.<cut>``: Pearson r, important inputs vs outputs per hidden
      neuron, same suffixes;
    - ``<figure>.fraction_important.layer<l>.<cut>``: fraction of the layer's synapses with p >= c,
      mean +- SEM over seeds (how much the cutoff thins the important set).
    """
    rows = []
    for cutoff, gn in neurons.groupby("cutoff", sort=True):
        cut = cutoff_label(cutoff)
        ks_by_layer: dict[int, list[float]] = {}
        for (seed, layer), g in gn.groupby(["seed", "layer"]):
            true = g[g["connectivity"] == "true"]["important_in"]
            shuf = g[g["connectivity"] == "shuffled"]["important_in"]
            groups = f"cutoff={cutoff:g};layer={layer};seed={seed};a=true;b=shuffled"
            row = stats.ks_2samp(figure, f"{figure}.ks.layer{layer}.{cut}.seed{seed}", true, shuf, groups)
            rows.append(row)
            ks_by_layer.setdefault(layer, []).append(row["statistic"])
            if seed == representative_seed:
                rows.append({**row, "name": f"{figure}.ks.layer{layer}.{cut}"})
        for layer, ds in ks_by_layer.items():
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.ks.layer{layer}.{cut}.seeds",
                    ds,
                    f"cutoff={cutoff:g};layer={layer}",
                    detail="KS D over seeds (mean +- SEM)",
                )
            )
        true = gn[gn["connectivity"] == "true"]
        for layer, g in true.groupby("layer"):
            per_seed = [float(s["important_in"].sum() / (len(s) * s["n_in"].iloc[0])) for _, s in g.groupby("seed")]
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.fraction_important.layer{layer}.{cut}",
                    per_seed,
                    f"cutoff={cutoff:g};layer={layer}",
                    detail=f"fraction of synapses with p >= {cutoff:g}, per seed (mean +- SEM)",
                )
            )
    for cutoff, gi in in_out.groupby("cutoff", sort=True):
        cut = cutoff_label(cutoff)
        r_by_layer: dict[int, list[float]] = {}
        for (seed, h), g in gi.groupby(["seed", "hidden_layer"]):
            row = _safe_pearson(
                figure,
                f"{figure}.pearson_in_out.layer{h}.{cut}.seed{seed}",
                g["important_in"],
                g["important_out"],
                f"cutoff={cutoff:g};hidden_layer={h};seed={seed}",
            )
            rows.append(row)
            r_by_layer.setdefault(h, []).append(row["value"])
            if seed == representative_seed:
                rows.append({**row, "name": f"{figure}.pearson_in_out.layer{h}.{cut}"})
        for h, rs in r_by_layer.items():
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.pearson_in_out.layer{h}.{cut}.seeds",
                    rs,
                    f"cutoff={cutoff:g};hidden_layer={h}",
                    detail="Pearson r over seeds (mean +- SEM)",
                )
            )
    return stats.frame(rows)


# ----------------------------------------------------------------------------- Fig 3's representative run
# The paper's D = 0.505 and r = 0.939 / 0.7999 come from one unnamed run. The same three statistics on every
# trained energy run of the analysed model (every weight decay x seed) show how far one run can fall from another
# (issue 29, point 7): a table with one row per run, and the spread as stats rows beside the published values.

RUN_STATISTICS = ("ks_d_layer2", "r_in_out_hidden1", "r_in_out_hidden2")
RUN_SPREAD_NAMES = {
    "ks_d_layer2": "fig3.run_spread.ks_d.layer2",
    "r_in_out_hidden1": "fig3.run_spread.pearson_in_out.layer1",
    "r_in_out_hidden2": "fig3.run_spread.pearson_in_out.layer2",
}


def run_statistics(
    release_probs: list[np.ndarray], threshold: float, shuffle_seed: int, seed: int, n_sd: float = 2.0
) -> dict:
    """Fig 3's KS D (weight matrix 2, true vs shuffled, with its p) and the in/out Pearson r of both hidden layers
    of the run of training seed ``seed``, computed exactly as ``sparsity_stats`` computes the representative run's:
    the shuffle of matrix l is drawn from ``[shuffle_seed, seed, l]``, as ``neuron_table`` draws it."""
    probs = {int(seed): release_probs}
    st = sparsity_stats(neuron_table(probs, threshold, shuffle_seed, n_sd), in_out_table(probs, threshold), int(seed))
    both = pd.concat(st.values()).set_index("name")
    return {
        "ks_d_layer2": float(both.loc["fig3.ks.layer2", "statistic"]),
        "ks_p_layer2": float(both.loc["fig3.ks.layer2", "p_value"]),
        "r_in_out_hidden1": float(both.loc["fig3.pearson_in_out.layer1", "value"]),
        "r_in_out_hidden2": float(both.loc["appfig2.pearson_in_out.layer2", "value"]),
    }


def run_spread_rows(runs: pd.DataFrame, figure: str = "fig3") -> list[dict]:
    """Stats rows of the spread over runs (``runs``: one row per run with ``weight_decay``, ``seed`` and the
    ``RUN_STATISTICS`` columns): ``<name>`` mean +- SEM over every run, ``<name>.min`` / ``.median`` / ``.max``.
    The unit is the run: each weight decay x seed is one trained network."""
    rows = []
    wds = ", ".join(f"{w:g}" for w in sorted(runs["weight_decay"].unique()))
    seeds = ", ".join(str(s) for s in sorted(runs["seed"].unique()))
    groups = f"runs={len(runs)};weight_decays={wds};seeds={seeds}"
    for col in RUN_STATISTICS:
        name, v = RUN_SPREAD_NAMES[col], runs[col].to_numpy(float)
        what = f"{col} of every run ({len(runs)} runs: weight decays {wds} x seeds {seeds})"
        rows.append(stats.summary(figure, name, v, groups, detail=f"{what}: mean +- SEM"))
        for q, val in (("min", np.min(v)), ("median", np.median(v)), ("max", np.max(v))):
            rows.append(
                {**stats.summary(figure, f"{name}.{q}", [val], groups, detail=f"{what}: {q}"), "n": len(v), "test": q}
            )
    return rows
