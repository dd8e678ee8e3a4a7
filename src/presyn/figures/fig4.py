"""Fig 4: lifelong learning on Split MNIST. (a) the task sequence drawn from real samples, (b) task-1
accuracy over learning (presynaptic vs no consolidation, mean +- SEM), (c) mean accuracy over all tasks
per method with the joint-training bound (dashed) and t-test stars (presynaptic vs each)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import gridspec
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from presyn import plotting
from presyn.analysis.energy import parse_groups
from presyn.tasks import SPLIT_PAIRS

BAR_METHODS = ("presyn", "no_consolidation", "bgd", "ewc")


def stars(p: float) -> str:
    if pd.isna(p):
        return "n<2"
    return "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def examples(npz_path: str, n_tasks: int = 5) -> list[list[tuple[np.ndarray, int]]]:
    """Per task, the first test image of each of its two digits (28x28 uint8) with its digit."""
    with np.load(npz_path) as z:
        x, y = z["x_test"], z["y_test"]
    out = []
    for a, b in SPLIT_PAIRS[:n_tasks]:
        task = []
        for d in (a, b):
            idx = np.flatnonzero(y == d)
            if len(idx):
                task.append((x[idx[0]].reshape(28, 28), d))
        out.append(task)
    return out


def draw_schematic(ax, samples) -> None:
    """One mosaic: a column per task, its two digits stacked, each captioned with its parity label."""
    pad, size = 6, 28
    n = len(samples)
    canvas = np.zeros((2 * size + 3 * pad, n * size + (n + 1) * pad))
    for t, task in enumerate(samples):
        x0 = pad + t * (size + pad)
        ax.text(x0 + size / 2, -2, f"task {t + 1}", ha="center", va="bottom", fontsize=9)
        for r, (img, digit) in enumerate(task):
            y0 = pad + r * (size + pad)
            canvas[y0:y0 + size, x0:x0 + size] = img
            ax.text(x0 + size / 2, y0 + size + 0.5, f"{'odd' if digit % 2 else 'even'}", ha="center", va="top", fontsize=7)
    ax.imshow(canvas, cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xlabel("tasks in order; label = digit parity (shared 2-unit head)", fontsize=8)
    plotting.panel_letter(ax, "a")


def draw(stats_df: pd.DataFrame, npz_path: str, pdf: str, png: str, epochs_per_task: int, title_note: str = "") -> None:
    plotting.style()
    fig = plt.figure(figsize=(13, 3.8))
    outer = gridspec.GridSpec(1, 3, width_ratios=[1.3, 1.2, 1.0], wspace=0.35, top=0.82, bottom=0.2)
    draw_schematic(fig.add_subplot(outer[0]), examples(npz_path))

    s = stats_df.join(parse_groups(stats_df["groups"]))
    ax_b = fig.add_subplot(outer[1])
    curve = s[s["name"].str.startswith("fig4.task1_accuracy.")].copy()
    curve["epoch"] = curve["epoch"].astype(int)
    for method, g in curve.groupby("method"):
        g = g.sort_values("epoch")
        sem = g["sem"].fillna(0).to_numpy()
        ax_b.plot(g["epoch"], g["value"], color=plotting.color(method), label=plotting.label(method))
        ax_b.fill_between(g["epoch"], g["value"] - sem, g["value"] + sem, color=plotting.color(method), alpha=0.25, lw=0)
    if len(curve):
        last = int(curve["epoch"].max())
        for boundary in range(epochs_per_task, last, epochs_per_task):
            ax_b.axvline(boundary + 0.5, color="#cccccc", lw=0.8, zorder=0)
    ax_b.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax_b.set_xlabel("epoch (tasks 1..5 in turn)")
    ax_b.set_ylabel("test accuracy, task 1")
    ax_b.legend(frameon=False, fontsize=8, loc="lower left")
    plotting.panel_letter(ax_b, "b")

    ax_c = fig.add_subplot(outer[2])
    bars = s[s["name"].str.startswith("fig4.final_mean_accuracy.")]
    methods = [m for m in BAR_METHODS if m in set(bars["method"])]
    vals = [bars[bars["method"] == m]["value"].iloc[0] for m in methods]
    errs = [bars[bars["method"] == m]["sem"].fillna(0).iloc[0] for m in methods]
    ax_c.bar(range(len(methods)), vals, yerr=errs, capsize=3, color=[plotting.color(m) for m in methods])
    # slanted, each ending at its tick (anchored): centred slanted labels ran into each other
    ax_c.set_xticks(range(len(methods)), [plotting.label(m) for m in methods], rotation=30, ha="right",
                    rotation_mode="anchor")
    joint = bars[bars["method"] == "joint"]
    top = max([v + e for v, e in zip(vals, errs)] or [1.0])
    if len(joint):
        ax_c.axhline(joint["value"].iloc[0], ls="--", color=plotting.color("joint"), lw=1, label="joint training")
        ax_c.legend(frameon=False, fontsize=8, loc="lower right", bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
        top = max(top, joint["value"].iloc[0])
    tests = s[(s["kind"] == "test") & s["name"].str.startswith("fig4.ttest.")]
    for _, t in tests.iterrows():
        other = t["name"].rsplit("presyn_vs_", 1)[1]
        if other in methods:
            ax_c.text(methods.index(other), top * 1.03, stars(t["p_value"]), ha="center", fontsize=9)
    ax_c.set_ylim(0, min(1.1, top * 1.12) if top > 0 else 1)
    ax_c.set_ylabel("mean accuracy over all tasks")
    plotting.panel_letter(ax_c, "c")
    fig.suptitle("Lifelong learning with presynaptic consolidation (Split MNIST)" + title_note, fontsize=11)
    plotting.save(fig, pdf, png)
