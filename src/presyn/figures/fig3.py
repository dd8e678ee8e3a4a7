"""Fig 3: neuron-level sparsity after learning: (a) fraction of important inputs per layer-2 neuron,
true vs shuffled connectivity (KS test); (b) low / medium / high importance neurons (mean +- SEM over
seeds); (c) important inputs vs outputs of layer-1 neurons (Pearson r).

Draws the neuron tables (one representative run for a, c) and stats rows (results/stats/fig3.csv).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.figures.fig2 import fmt_p, stat

CLASSES = ("low", "medium", "high")


def neuron_hist(ax, neurons: pd.DataFrame, layer: int, seed: int, column: str = "fraction_in") -> None:
    """Histograms of ``column`` per neuron of weight matrix ``layer``, true vs shuffled, shared bins."""
    d = neurons[(neurons["layer"] == layer) & (neurons["seed"] == seed)]
    top = int(d["important_in"].max())
    step = max(1, int(np.ceil((top + 1) / 30)))
    bins = np.arange(-0.5, top + step + 0.5, step)  # integer-aligned bins of important-input counts
    if column == "fraction_in":
        bins = bins / int(d["n_in"].iloc[0])
    for conn in ("shuffled", "true"):
        v = d[d["connectivity"] == conn][column]
        ax.hist(v, bins=bins, color=plotting.color(conn), alpha=0.7 if conn == "shuffled" else 0.8,
                histtype="stepfilled" if conn == "shuffled" else "step", lw=1.5, label=f"{conn} connectivity")


def ks_text(ax, row) -> None:
    if row is not None:
        ax.set_title(f"{ax.get_title()}\nKS test true vs shuffled: D = {row['value']:.3f}, {fmt_p(row['p_value'])}".strip(),
                     fontsize=8)


def in_out_scatter(ax, in_out: pd.DataFrame, hidden_layer: int, seed: int, row) -> None:
    d = in_out[(in_out["hidden_layer"] == hidden_layer) & (in_out["seed"] == seed)]
    ax.scatter(d["important_in"], d["important_out"], s=8, color=plotting.color("presyn"), alpha=0.7)
    ax.set_xlabel(f"important input synapses (hidden layer {hidden_layer})")
    ax.set_ylabel("important output synapses")
    if row is not None:
        ax.set_title(f"Pearson r = {row['value']:.3f}, {fmt_p(row['p_value'])}, n = {int(row['n'])} neurons", fontsize=8)


def draw(neurons: pd.DataFrame, in_out: pd.DataFrame, stats_df: pd.DataFrame, seed: int, pdf: str, png: str,
         title_note: str = "") -> None:
    plotting.style()
    fig, (ax_a, ax_b, ax_c) = plt.subplots(1, 3, figsize=(12, 3.8))

    neuron_hist(ax_a, neurons, 2, seed)
    ks_text(ax_a, stat(stats_df, "fig3.ks.layer2"))
    ax_a.set_xlabel("fraction of important input synapses")
    ax_a.set_ylabel("neurons (layer 2)")
    ax_a.legend(frameon=False, fontsize=7)
    plotting.panel_letter(ax_a, "a")

    width = 0.38
    for j, conn in enumerate(("true", "shuffled")):
        vals = [stat(stats_df, f"fig3.neuron_class.{c}.{conn}") for c in CLASSES]
        means = [v["value"] if v is not None else np.nan for v in vals]
        sems = [v["sem"] if v is not None else np.nan for v in vals]
        ax_b.bar(np.arange(3) + (j - 0.5) * width, means, width, yerr=np.nan_to_num(sems), capsize=3,
                 color=plotting.color(conn), label=f"{conn} connectivity")
    ax_b.set_xticks(range(3), [f"{c}\nimportance" for c in CLASSES])
    ax_b.set_ylabel("neurons (layer 2), mean \u00b1 SEM")
    ax_b.legend(frameon=False, fontsize=7)
    plotting.panel_letter(ax_b, "b")

    in_out_scatter(ax_c, in_out, 1, seed, stat(stats_df, "fig3.pearson_in_out.layer1"))
    plotting.panel_letter(ax_c, "c")

    fig.suptitle(f"Neuron-level sparsity (a, c: seed {seed}; b: all seeds)" + title_note, fontsize=10)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
