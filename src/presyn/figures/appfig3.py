"""Appendix 1-fig 3: (a) final test accuracy of each task per method on Split MNIST; (b) mean release
probability and percentage of frozen synapses over the ten permuted-MNIST tasks (presynaptic model)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from presyn import plotting
from presyn.analysis.energy import parse_groups

METHODS = ("presyn", "no_consolidation", "bgd", "ewc", "joint")


def draw(stats_df: pd.DataFrame, pdf: str, png: str, epochs_per_task: int, title_note: str = "") -> None:
    plotting.style()
    s = stats_df.join(parse_groups(stats_df["groups"]))
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 3.8))

    acc = s[s["name"].str.startswith("appfig3.final_accuracy.")].copy()
    methods = [m for m in METHODS if m in set(acc["method"])]
    tasks = sorted(acc["task"].astype(int).unique()) if len(acc) else []
    width = 0.8 / max(len(methods), 1)
    for i, m in enumerate(methods):
        g = acc[acc["method"] == m].assign(t=lambda d: d["task"].astype(int)).sort_values("t")
        x = np.arange(len(g)) + (i - (len(methods) - 1) / 2) * width
        ax_a.bar(x, g["value"], width, yerr=g["sem"].fillna(0), capsize=2, color=plotting.color(m), label=plotting.label(m))
    ax_a.set_xticks(range(len(tasks)), [f"task {t}" for t in tasks])
    ax_a.set_ylabel("final test accuracy")
    ax_a.set_ylim(0, 1.05)
    ax_a.legend(frameon=False, fontsize=7, ncol=len(methods) or 1, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                columnspacing=1.0, handlelength=1.2, handletextpad=0.5)  # one row no wider than the axes
    plotting.panel_letter(ax_a, "a")

    syn = s[s["name"].str.match(r"appfig3\.(mean_p|fraction_frozen)\.e\d+$")].copy()
    if syn.empty:  # no permuted-MNIST presynaptic runs in this config (e.g. lifelong.benchmarks without perm_mnist)
        ax_b.text(0.5, 0.5, "not run\n(needs perm_mnist in lifelong.benchmarks)", transform=ax_b.transAxes,
                  ha="center", va="center", fontsize=9, color="#666666")
        syn = syn.assign(metric=pd.Series(dtype=str), epoch=pd.Series(dtype=int))
    ax_p = ax_b
    ax_f = ax_b.twinx()
    for metric, ax, colour, lab, scale in (("mean_p", ax_p, plotting.color("presyn"), "mean release probability", 1.0),
                                           ("fraction_frozen", ax_f, "#d62728", "frozen synapses (%)", 100.0)):
        g = syn[syn["metric"] == metric].assign(e=lambda d: d["epoch"].astype(int)).sort_values("e")
        if g.empty:
            continue
        v, e = g["value"].to_numpy() * scale, g["sem"].fillna(0).to_numpy() * scale
        ax.plot(g["e"], v, color=colour, label=lab)
        ax.fill_between(g["e"], v - e, v + e, color=colour, alpha=0.25, lw=0)
        ax.set_ylabel(lab, color=colour)
    if len(syn):
        last = int(syn["epoch"].astype(int).max())
        for boundary in range(epochs_per_task, last, epochs_per_task):
            ax_b.axvline(boundary + 0.5, color="#cccccc", lw=0.8, zorder=0)
    ax_f.spines["right"].set_visible(True)
    ax_f.set_ylim(bottom=0, top=max(1.0, ax_f.get_ylim()[1]))
    ax_b.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_b.set_xlabel("epoch (permuted MNIST tasks in turn)")
    plotting.panel_letter(ax_b, "b")
    fig.suptitle("Lifelong learning: per-task accuracy and release probabilities" + title_note, fontsize=11)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
