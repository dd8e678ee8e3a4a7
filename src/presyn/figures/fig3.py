"""Fig 3: neuron-level sparsity after learning: (a) fraction of important inputs per layer-2 neuron,
true vs shuffled connectivity (KS test); (b) low / medium / high importance neurons (mean ± SEM over
seeds, t-tests true vs shuffled); (c) important inputs vs outputs of hidden-layer-1 neurons (Pearson r).
Layers are named once (plotting.LAYER_NAMES): weight matrix l feeds hidden layer l (3: the output layer).

Draws the neuron tables (one representative run for a, c) and stats rows (results/stats/fig3.csv).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.figures.fig2 import fmt_p, stat

PANELS = {
    "fig3.pearson_in_out.layer1": "c",
    "fig3.ks_d.layer2": "a",
    "fig3.ks_layer2_significant": "a",
    "fig3.more_high_importance_neurons": "b",
    "fig3.more_low_importance_neurons": "b",
    "fig3.in_out_correlated.layer1": "c",
    "fig3.representative_run_within_spread.ks_d": "a",
    "fig3.representative_run_within_spread.r_layer1": "c",
}

CLASSES = ("low", "medium", "high")


def neuron_hist(ax, neurons: pd.DataFrame, layer: int, seed: int, column: str = "fraction_in") -> None:
    """Histograms of ``column`` per neuron of the layer fed by weight matrix ``layer``, true vs shuffled, shared
    bins one per count of important inputs."""
    d = neurons[(neurons["layer"] == layer) & (neurons["seed"] == seed)]
    top, bottom = int(d["important_in"].max()), int(d["important_in"].min())
    start = 0 if bottom < (top - bottom) else bottom  # a range far from 0 (the output layer) starts at its data
    step = max(1, int(np.ceil((top - start + 1) / 30)))
    bins = np.arange(start - 0.5, top + step + 0.5, step)  # integer-aligned bins of important-input counts
    if column == "fraction_in":
        bins = bins / int(d["n_in"].iloc[0])
    for conn in ("shuffled", "true"):
        v = d[d["connectivity"] == conn][column]
        ax.hist(
            v,
            bins=bins,
            color=plotting.color(conn),
            alpha=0.7 if conn == "shuffled" else 0.8,
            histtype="stepfilled" if conn == "shuffled" else "step",
            lw=1.3,
            label=conn,
        )


def ks_text(ax, row) -> None:
    if row is not None:
        ax.set_title(
            f"{ax.get_title()}\nKS test true vs shuffled:\nD = {row['value']:.3f}, {fmt_p(row['p_value'])}".strip()
        )


def in_out_scatter(ax, in_out: pd.DataFrame, hidden_layer: int, seed: int, row) -> None:
    d = in_out[(in_out["hidden_layer"] == hidden_layer) & (in_out["seed"] == seed)]
    ax.scatter(d["important_in"], d["important_out"], s=6, color=plotting.color("presyn"), alpha=0.6, lw=0)
    ax.set_xlabel("important input synapses per neuron")
    ax.set_ylabel("important outputs per neuron")
    title = f"{plotting.layer_name(hidden_layer)} neurons"
    if row is not None:
        title += f"\nPearson r = {row['value']:.3f}, {fmt_p(row['p_value'])}, n = {int(row['n'])}"
    ax.set_title(title)


SPREAD = (
    ("ks_d.layer2", "D", "fig3.ks_d.layer2"),
    ("pearson_in_out.layer1", "r1", "fig3.pearson_in_out.layer1"),
    ("pearson_in_out.layer2", "r2", "appfig2.pearson_in_out.layer2"),
)  # (our stats key, symbol, published id)


def spread_note(stats_df: pd.DataFrame, published=None) -> str:
    """The caption line: the spread of the shown one-run statistics over every energy run (stats rows
    fig3.run_spread.*), beside the values the paper printed for its one representative run (config/published.yaml)."""
    from presyn import scorecard

    pub = {}
    if published is not None:
        items = scorecard.load_published(published) if not isinstance(published, dict) else published
        pub = {it["id"]: it.get("published") for it in items.get("numbers") or []}
    parts, printed, n = [], [], None
    for key, what, pid in SPREAD:
        lo, med, hi = (stat(stats_df, f"fig3.run_spread.{key}.{q}") for q in ("min", "median", "max"))
        if lo is None or med is None or hi is None:
            return ""
        n = int(lo["n"])
        parts.append(f"{what} {lo['value']:.3f}\u2013{hi['value']:.3f} (median {med['value']:.3f})")
        if pub.get(pid) is not None:
            printed.append(f"{what} = {pub[pid]:g}")
    note = (
        f"Spread over all {n} energy runs of this model (every weight decay \u00d7 seed): " + "; ".join(parts) + ". "
        f"r1, r2: in/out Pearson r of {plotting.layer_name(1)} and {plotting.layer_name(2)}."
    )
    if printed:
        note += " Paper (one representative run): " + ", ".join(printed) + "."
    return note


def draw(
    neurons: pd.DataFrame,
    in_out: pd.DataFrame,
    stats_df: pd.DataFrame,
    seed: int,
    pdf: str,
    png: str,
    title_note: str = "",
    published=None,
) -> None:
    plotting.style()
    if published is not None and not isinstance(published, dict):  # read once: the note and the marks use it
        from presyn import scorecard

        published = scorecard.load_published(published)
    note = spread_note(stats_df, published)
    fig, (ax_a, ax_b, ax_c) = plt.subplots(1, 3, figsize=(7.4, 3.5 if note else 2.9))  # room for the caption line

    neuron_hist(ax_a, neurons, 2, seed)
    ax_a.set_title(f"{plotting.layer_name(2)} neurons, seed {seed}")
    ks_text(ax_a, stat(stats_df, "fig3.ks.layer2"))
    ax_a.set_xlabel("fraction of important input synapses")
    ax_a.locator_params(axis="x", nbins=4)  # tick labels of fractions do not run into each other
    ax_a.set_ylabel("neurons")
    ax_a.legend(frameon=False, loc="upper right", title="connectivity")
    plotting.panel_letter(ax_a, "a")

    width = 0.38
    n_b = None
    top = 0.0
    for j, conn in enumerate(("true", "shuffled")):
        vals = [stat(stats_df, f"fig3.neuron_class.{c}.{conn}") for c in CLASSES]
        means = [v["value"] if v is not None else np.nan for v in vals]
        sems = [v["sem"] if v is not None else np.nan for v in vals]
        n_b = next((int(v["n"]) for v in vals if v is not None), n_b)
        ax_b.bar(
            np.arange(3) + (j - 0.5) * width,
            means,
            width,
            yerr=np.nan_to_num(sems),
            capsize=2,
            color=plotting.color(conn),
            label=plotting.label(conn),
            ec="k" if conn == "shuffled" else "none",
            lw=0.5,
        )
        top = max(top, np.nanmax(np.array(means) + np.nan_to_num(sems)) if len(means) else 0)
    ax_b.set_ylim(0, top * 1.6 if top > 0 else 1)
    for i, c in enumerate(CLASSES):
        t = stat(stats_df, f"fig3.neuron_class.{c}.true_vs_shuffled")
        if t is not None:
            rows = [stat(stats_df, f"fig3.neuron_class.{c}.{k}") for k in ("true", "shuffled")]
            hi = max(r["value"] + (0 if pd.isna(r["sem"]) else r["sem"]) for r in rows if r is not None)
            plotting.bracket(ax_b, i - width / 2, i + width / 2, hi + top * 0.08, plotting.stars(t["p_value"]))
    ax_b.set_xticks(range(3), list(CLASSES))
    ax_b.set_xlabel("importance class\n(medium: no test)")
    ax_b.set_ylabel(f"{plotting.layer_name(2)} neurons")
    ax_b.set_title(plotting.sem_note(n_b) + "\nt-test true vs shuffled over seeds")
    ax_b.legend(frameon=False, loc="upper left")
    plotting.panel_letter(ax_b, "b")

    in_out_scatter(ax_c, in_out, 1, seed, stat(stats_df, "fig3.pearson_in_out.layer1"))
    ax_c.set_title(ax_c.get_title().replace(" neurons\n", f" neurons, seed {seed}\n", 1))
    plotting.panel_letter(ax_c, "c")

    plotting.mark_panels(
        fig, {"a": ax_a, "b": ax_b, "c": ax_c}, plotting.not_reproduced("fig3", stats_df, published, PANELS)
    )
    if note:
        plotting.footnote(fig, note)
    fig.suptitle("Neuron-level sparsity after learning" + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
