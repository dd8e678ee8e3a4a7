"""Fig 4: lifelong learning on Split MNIST. (a) the task sequence drawn from real samples, (b) task-1
accuracy over learning (presynaptic vs no consolidation, mean +- SEM), (c) mean accuracy over all tasks
per method with the joint-training bound (dashed) and t-test stars (presynaptic vs each)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import gridspec

from presyn import plotting
from presyn.analysis.energy import parse_groups
from presyn.tasks import SPLIT_PAIRS

BAR_METHODS = ("presyn", "no_consolidation", "bgd", "ewc")


stars = plotting.stars

# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "fig4.presyn_beats_no_consolidation": "c",
    "fig4.presyn_beats_bgd": "c",
    "fig4.presyn_beats_ewc": "c",
    "fig4.first_task_remembered": "b",
    "fig4.both_learn_first_task": "b",
    "fig4.forgets_more_quickly.curve": "b",
    "fig4.joint_upper_bound": "c",
}


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
        ax.text(x0 + size / 2, -2, f"task {t + 1}", ha="center", va="bottom", fontsize=plotting.FONT_SMALL)
        for r, (img, digit) in enumerate(task):
            y0 = pad + r * (size + pad)
            canvas[y0 : y0 + size, x0 : x0 + size] = img
            ax.text(
                x0 + size / 2,
                y0 + size + 0.5,
                f"{'odd' if digit % 2 else 'even'}",
                ha="center",
                va="top",
                fontsize=plotting.FONT_SMALL,
            )
    ax.imshow(canvas, cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xlabel("tasks in order; label = digit parity\n(shared 2-unit head)")
    plotting.panel_letter(ax, "a")


def draw(
    stats_df: pd.DataFrame,
    npz_path: str,
    pdf: str,
    png: str,
    epochs_per_task: int,
    title_note: str = "",
    published=None,
) -> None:
    plotting.style()
    fig = plt.figure(figsize=(7.4, 3.1))
    outer = gridspec.GridSpec(
        1, 3, width_ratios=[1.25, 1.25, 0.9], wspace=0.45, top=0.74, bottom=0.25, left=0.04, right=0.99
    )
    ax_a = fig.add_subplot(outer[0])
    draw_schematic(ax_a, examples(npz_path))

    s = stats_df.join(parse_groups(stats_df["groups"]))
    ax_b = fig.add_subplot(outer[1])
    curve = s[s["name"].str.startswith("fig4.task1_accuracy.")].copy()
    curve["epoch"] = curve["epoch"].astype(int)
    for method, g in curve.groupby("method"):
        g = g.sort_values("epoch")
        sem = g["sem"].fillna(0).to_numpy()
        ax_b.plot(g["epoch"], 100 * g["value"], color=plotting.color(method), label=plotting.label(method), lw=1.2)
        ax_b.fill_between(
            g["epoch"],
            100 * (g["value"] - sem),
            100 * (g["value"] + sem),
            color=plotting.color(method),
            alpha=0.3,
            lw=0,
        )
    if len(curve):
        last = int(curve["epoch"].max())
        bounds = list(range(0, last + 1, epochs_per_task))
        for b in bounds[1:-1]:
            ax_b.axvline(b + 0.5, color="#dddddd", lw=0.8, zorder=0)
        ax_b.set_xticks(bounds)
        ax_b.set_xlim(0.5, last + 0.5)
        for t, b in enumerate(bounds[:-1]):
            ax_b.text(
                b + epochs_per_task / 2 + 0.5,
                1.0,
                f"task {t + 1}",
                ha="center",
                va="bottom",
                transform=ax_b.get_xaxis_transform(),
                fontsize=plotting.FONT_SMALL,
            )
        n_b = int(curve["n"].max())
        ax_b.set_xlabel("epoch (ticks: ends of tasks)")
        ax_b.legend(frameon=False, loc="lower left", title=plotting.sem_note(n_b))
    ax_b.set_ylabel("test accuracy on task 1 (%)")
    ax_b.set_ylim(top=101)
    plotting.panel_letter(ax_b, "b")

    ax_c = fig.add_subplot(outer[2])
    bars = s[s["name"].str.startswith("fig4.final_mean_accuracy.")]
    methods = [m for m in BAR_METHODS if m in set(bars["method"])]
    vals = np.array([bars[bars["method"] == m]["value"].iloc[0] for m in methods]) * 100
    errs = np.array([bars[bars["method"] == m]["sem"].fillna(0).iloc[0] for m in methods]) * 100
    for i, m in enumerate(methods):  # points with SEM on a zoomed axis (bars would have to start at 0)
        ax_c.errorbar(i, vals[i], yerr=errs[i], marker="o", ms=5, capsize=3, color=plotting.color(m), lw=1.2)
    ax_c.set_xticks(
        range(len(methods)), [plotting.label(m) for m in methods], rotation=35, ha="right", rotation_mode="anchor"
    )
    ax_c.set_xlim(-0.6, len(methods) - 0.4)
    n_c = int(bars["n"].max()) if len(bars) else None
    ax_c.set_ylabel("mean accuracy over all tasks (%)")
    tests = s[(s["kind"] == "test") & s["name"].str.startswith("fig4.ttest.")]
    if len(vals):
        top, low = float((vals + errs).max()), float((vals - errs).min())
        span = max(top - low, 0.5)
        drawn = [t for _, t in tests.iterrows() if t["name"].rsplit("presyn_vs_", 1)[1] in methods[1:]]
        ax_c.set_ylim(low - span * 0.25, top + span * (0.15 + 0.17 * len(drawn)) + span * 0.1)
        level = top + span * 0.1
        for t in drawn:
            other = t["name"].rsplit("presyn_vs_", 1)[1]
            if "presyn" in methods:
                plotting.bracket(ax_c, methods.index("presyn"), methods.index(other), level, stars(t["p_value"]))
                level += span * 0.17
    joint = bars[bars["method"] == "joint"]
    lines = [plotting.sem_note(n_c) + "; axis zoomed", "t-test vs Presynaptic over seeds"]
    if len(joint):
        lines.append(f"joint training (bound): {100 * joint['value'].iloc[0]:.1f} %")
    ax_c.set_title("\n".join(lines), fontsize=plotting.FONT_SMALL)
    plotting.panel_letter(ax_c, "c")
    plotting.mark_panels(fig, {"b": ax_b, "c": ax_c}, plotting.not_reproduced("fig4", stats_df, published, PANELS))
    fig.suptitle("Lifelong learning with presynaptic consolidation (Split MNIST)" + title_note)
    plotting.save(fig, pdf, png)
