"""Fig 5: ablation of the presynaptic consolidation model (a) and lifelong learning in a perceptron (b, c)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.analysis.energy import parse_groups

VARIANT_LABELS = {
    "full": "Full model",
    "noFreeze": "No freezing",
    "noFreezeNoMod": "No freezing,\nno modulation",
    "noMod": "No modulation",
    "fixedP": "Fixed p = 0.5\n(ghost p, / p~)",
    "fixedPfixedNorm": "Fixed p = 0.5\n(/ 0.5 variant)",
    "noNorm": "No normalisation",
}
BENCHMARK_LABELS = {"perm_mnist": "Permuted MNIST", "split_mnist": "Split MNIST", "perm_fashion": "Permuted Fashion",
                    "split_fashion": "Split Fashion"}


def stars(p: float) -> str:
    if pd.isna(p):
        return "n<2"
    return "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def _not_run(ax, letter: str, what: str) -> None:
    ax.text(0.5, 0.5, f"{what}\nnot run (section disabled)", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    plotting.panel_letter(ax, letter)


def panel_a(ax, st: pd.DataFrame) -> None:
    summ = st[(st["kind"] == "summary") & st["name"].str.startswith("fig5.ablation.")].copy()
    if summ.empty:
        return _not_run(ax, "a", "ablation")
    summ = summ.join(parse_groups(summ["groups"]))
    tests = st[(st["kind"] == "test") & st["name"].str.startswith("fig5.ablation_ttest.")].copy()
    tests = tests.join(parse_groups(tests["groups"])) if len(tests) else tests
    benchmarks = list(dict.fromkeys(summ["benchmark"]))
    order = list(VARIANT_LABELS)
    variants = sorted(dict.fromkeys(summ["variant"]), key=lambda v: order.index(v) if v in order else len(order))
    width = 0.8 / len(variants)
    top = (summ["value"] + summ["sem"].fillna(0)).max()
    low = (summ["value"] - summ["sem"].fillna(0)).min()
    for j, variant in enumerate(variants):
        g = summ[summ["variant"] == variant].set_index("benchmark").reindex(benchmarks)
        xs = np.arange(len(benchmarks)) - 0.4 + width * (j + 0.5)
        method = f"ablation-{variant}"
        ax.bar(xs, g["value"], width * 0.92, yerr=g["sem"], capsize=2, color=plotting.color(method),
               label=VARIANT_LABELS.get(variant, variant).replace("\n", " "))
        for x, b, v, s in zip(xs, benchmarks, g["value"], g["sem"].fillna(0)):
            t = tests[(tests["benchmark"] == b) & (tests["variant"] == variant)] if len(tests) else tests
            if len(t):
                ax.text(x, v + s + (top - low) * 0.02, stars(t["p_value"].iloc[0]), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(benchmarks)), [BENCHMARK_LABELS.get(b, b) for b in benchmarks])
    span = max(top - low, 1e-3)
    ax.set_ylim(max(0.0, low - span * 0.5), min(1.0, top + span * 0.35) if top < 1 else top * 1.05)
    ax.set_ylabel("mean test accuracy over tasks")
    ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    ax.set_title("stars: t-test vs full model", fontsize=8)
    plotting.panel_letter(ax, "a")


def panel_b(ax, curve: pd.DataFrame, table: pd.DataFrame) -> None:
    if curve is None or curve.empty:
        return _not_run(ax, "b", "perceptron")
    for method, g in curve.groupby("method", sort=False):
        g = g[g["epoch"] > 0].sort_values("epoch")  # from the first pass on (before learning every output is 0)
        c = plotting.color(method)
        ax.plot(g["epoch"], g["mean"], color=c, label=plotting.label(method), lw=1.5)
        ax.fill_between(g["epoch"], g["mean"] - g["sem"].fillna(0), g["mean"] + g["sem"].fillna(0), color=c, alpha=0.25, lw=0)
    ends = table.groupby("task_trained")["epoch"].max()
    for t, e in ends.items():
        if 0 < t < ends.index.max():
            ax.axvline(e, color="#999999", lw=0.6, ls="--")
    ax.set_xlabel("passes over the patterns (all tasks in sequence)")
    ax.set_ylabel("accuracy on task 1")
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    plotting.panel_letter(ax, "b")


def panel_c(ax, st: pd.DataFrame) -> None:
    summ = st[(st["kind"] == "summary") & st["name"].str.startswith("fig5.perceptron.final.")].copy()
    if summ.empty:
        return _not_run(ax, "c", "perceptron")
    summ = summ.join(parse_groups(summ["groups"]))
    methods = list(summ["method"])
    ax.bar(range(len(methods)), summ["value"], yerr=summ["sem"], capsize=3, color=[plotting.color(m) for m in methods])
    # level, one word a line: the slanted labels of this narrow panel ran past its right edge
    ax.set_xticks(range(len(methods)), [plotting.label(m).replace(" ", "\n") for m in methods])
    top = (summ["value"] + summ["sem"].fillna(0)).max()
    low = (summ["value"] - summ["sem"].fillna(0)).min()
    span = max(top - low, 0.02)
    t = st[st["name"] == "fig5.perceptron.ttest"]
    if len(t) and len(methods) == 2:
        y = top + span * 0.15
        ax.plot([0, 0, 1, 1], [y - span * 0.05, y, y, y - span * 0.05], color="k", lw=0.8)
        ax.text(0.5, y, stars(t["p_value"].iloc[0]), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(max(0.0, low - span * 1.5), min(1.0, top + span * 0.6))
    ax.set_ylabel("mean accuracy over all tasks")
    plotting.panel_letter(ax, "c")


def draw(stats_df: pd.DataFrame, curve: pd.DataFrame | None, perceptron: pd.DataFrame | None, pdf: str, png: str,
         title_note: str = "") -> None:
    plotting.style()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.9), gridspec_kw={"width_ratios": [2.1, 1.5, 0.9]})
    panel_a(axes[0], stats_df)
    panel_b(axes[1], curve, perceptron)
    panel_c(axes[2], stats_df)
    fig.suptitle("Model ablation and lifelong learning in a perceptron" + title_note, fontsize=11)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
