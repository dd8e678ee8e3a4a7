"""Appendix 1-fig 3: (a) final test accuracy of each task per method on Split MNIST; (b) mean release
probability and percentage of frozen synapses over the ten permuted-MNIST tasks (presynaptic model)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.analysis.energy import parse_groups

METHODS = ("presyn", "no_consolidation", "bgd", "ewc", "joint")


# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {"appfig3.frozen_fraction_grows": "b", "appfig3.frozen_each_task": "b"}


def draw(
    stats_df: pd.DataFrame, pdf: str, png: str, epochs_per_task: int, title_note: str = "", published=None
) -> None:
    plotting.style()
    s = stats_df.join(parse_groups(stats_df["groups"]))
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(7.4, 3.0), gridspec_kw={"width_ratios": [1.1, 1]})

    acc = s[s["name"].str.startswith("appfig3.final_accuracy.")].copy()
    methods = [m for m in METHODS if m in set(acc["method"])]
    tasks = sorted(acc["task"].astype(int).unique()) if len(acc) else []
    width = 0.8 / max(len(methods), 1)
    for i, m in enumerate(methods):
        g = acc[acc["method"] == m].assign(t=lambda d: d["task"].astype(int)).sort_values("t")
        x = np.arange(len(g)) + (i - (len(methods) - 1) / 2) * width
        ax_a.bar(
            x,
            100 * g["value"],
            width,
            yerr=100 * g["sem"].fillna(0),
            capsize=1.5,
            color=plotting.color(m),
            label=plotting.label(m),
            error_kw={"lw": 0.8},
        )
    ax_a.set_xticks(range(len(tasks)), [f"task {t}" for t in tasks])
    ax_a.set_ylabel("final test accuracy (%)")
    ax_a.set_ylim(0, 135)
    ax_a.set_yticks([0, 25, 50, 75, 100])
    n_a = int(acc["n"].max()) if len(acc) else None
    ax_a.legend(
        frameon=False,
        ncol=3,
        loc="upper left",
        columnspacing=0.8,
        handlelength=1.0,
        handletextpad=0.4,
        title="Split MNIST; " + plotting.sem_note(n_a),
    )
    plotting.panel_letter(ax_a, "a")

    syn = s[s["name"].str.match(r"appfig3\.(mean_p|fraction_frozen)\.e\d+$")].copy()
    if syn.empty:  # no permuted-MNIST presynaptic runs in this config (e.g. lifelong.benchmarks without perm_mnist)
        ax_b.text(
            0.5,
            0.5,
            "not run\n(needs perm_mnist in lifelong.benchmarks)",
            transform=ax_b.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
        syn = syn.assign(metric=pd.Series(dtype=str), epoch=pd.Series(dtype=int))
    # one axis, both quantities in [0, 1] (twin axes had scaled the two curves onto each other)
    for metric, key, lab in (
        ("mean_p", "presyn", "mean release probability p"),
        ("fraction_frozen", "frozen", "fraction of synapses frozen"),
    ):
        g = syn[syn["metric"] == metric].assign(e=lambda d: d["epoch"].astype(int)).sort_values("e")
        if g.empty:
            continue
        v, e = g["value"].to_numpy(), g["sem"].fillna(0).to_numpy()
        ax_b.plot(g["e"], v, color=plotting.color(key), label=lab, lw=1.2)
        ax_b.fill_between(g["e"], v - e, v + e, color=plotting.color(key), alpha=0.3, lw=0)
    ax_b.set_ylim(0, 1.05)
    ax_b.set_ylabel("mean p; fraction frozen")
    if len(syn):
        last = int(syn["epoch"].astype(int).max())
        bounds = list(range(0, last + 1, epochs_per_task))
        for b in bounds[1:-1]:
            ax_b.axvline(b + 0.5, color="#dddddd", lw=0.8, zorder=0)
        ax_b.set_xticks(bounds[::2] if len(bounds) > 8 else bounds)
        ax_b.set_xticks(bounds, minor=True)
        ax_b.set_xlim(0.5, last + 0.5)
        n_b = int(syn["n"].max())
        ax_b.legend(
            frameon=False, loc="lower right", title=plotting.sem_note(n_b) + "\n(SEM bands narrower than the lines)"
        )
    ax_b.set_xlabel(f"epoch (permuted MNIST; ticks: task ends, every {epochs_per_task} epochs)")
    plotting.panel_letter(ax_b, "b")
    plotting.mark_panels(fig, {"a": ax_a, "b": ax_b}, plotting.not_reproduced("appfig3", stats_df, published, PANELS))
    fig.suptitle("Lifelong learning: per-task accuracy and release probabilities" + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
