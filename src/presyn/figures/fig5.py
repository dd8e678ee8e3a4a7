"""Fig 5: ablation of the presynaptic consolidation model (a: one axes per benchmark, points with SEM, stars:
t-test of each variant vs the full model over seeds) and lifelong learning in a perceptron (b: task-1 accuracy
over the passes, c: final mean accuracy, points with SEM and the t-test over repetitions)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from presyn import plotting
from presyn.analysis.energy import parse_groups

# The paper's text names the full model, the model without consolidation (no modulation, no freezing) and the
# ghost control (presynaptic plasticity blocked: p fixed at 0.5, ghost release probabilities modulate
# plasticity); the other variants are this project's extras. Two readings of the ghost control: the authors'
# code scales the mask by p~ (fixedP, the default), the earlier reading by 0.5 (fixedPfixedNorm).
VARIANT_LABELS = {
    "full": "Full model",
    "noFreezeNoMod": "No consolidation",
    "fixedP": "Ghost p, mask/$\\tilde{p}$\n(authors')",
    "fixedPfixedNorm": "Ghost p, mask/0.5\n(variant)",
    "noFreeze": "No freezing\n(extra)",
    "noMod": "No modulation\n(extra)",
    "noNorm": "No normalisation\n(extra)",
}
BENCHMARK_LABELS = {
    "perm_mnist": "Permuted MNIST",
    "split_mnist": "Split MNIST",
    "perm_fashion": "Permuted Fashion",
    "split_fashion": "Split Fashion",
}

# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "fig5.ghost_worse.split_mnist": "a",
    "fig5.ghost_worse.perm_mnist": "a",
    "fig5.no_consolidation_worse.split_mnist": "a",
    "fig5.no_consolidation_worse.perm_mnist": "a",
    "fig5.all_pairwise_significant.split_mnist": "a",
    "fig5.all_pairwise_significant.perm_mnist": "a",
    "fig5.ghost_worse.split_mnist.fixed_norm_variant": "a",
    "fig5.ghost_worse.perm_mnist.fixed_norm_variant": "a",
    "fig5.pairwise_named_in_text.split_mnist": "a",
    "fig5.pairwise_named_in_text.perm_mnist": "a",
    "fig5.ablation_drop.split_mnist.ghost": "a",
    "fig5.ablation_drop.perm_mnist.ghost": "a",
    "fig5.perceptron_presyn_better": "c",
    "fig5.perceptron.final.standard": "c",
    "fig5.perceptron.final.presyn": "c",
    "fig5.perceptron_first_task_remembered": "b",
}

stars = plotting.stars


def _not_run(ax, letter: str, what: str) -> None:
    ax.text(0.5, 0.5, f"{what}\nnot run (section disabled)", ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    plotting.panel_letter(ax, letter)


def panel_a(axes, st: pd.DataFrame) -> None:
    summ = st[(st["kind"] == "summary") & st["name"].str.startswith("fig5.ablation.")].copy()
    if summ.empty:
        _not_run(axes[0], "a", "ablation")
        for ax in axes[1:]:
            ax.set_axis_off()
        return
    summ = summ.join(parse_groups(summ["groups"]))
    tests = st[(st["kind"] == "test") & st["name"].str.startswith("fig5.ablation_ttest.")].copy()
    tests = tests.join(parse_groups(tests["groups"])) if len(tests) else tests
    benchmarks = list(dict.fromkeys(summ["benchmark"]))
    order = list(VARIANT_LABELS)
    variants = sorted(dict.fromkeys(summ["variant"]), key=lambda v: order.index(v) if v in order else len(order))
    n = int(summ["n"].max())
    top = float((summ["value"] + summ["sem"].fillna(0)).max()) * 100
    low = float((summ["value"] - summ["sem"].fillna(0)).min()) * 100
    span = max(top - low, 1.0)
    for k, (ax, b) in enumerate(zip(axes, benchmarks)):
        g = summ[summ["benchmark"] == b].set_index("variant")
        for i, v in enumerate(variants):
            if v not in g.index:
                continue
            val, sem = 100 * g.loc[v, "value"], 100 * (0 if pd.isna(g.loc[v, "sem"]) else g.loc[v, "sem"])
            ax.errorbar(
                i,
                val,
                yerr=sem,
                marker="o",
                ms=4,
                capsize=2,
                lw=1.2,
                color=plotting.color(f"ablation-{v}"),
                mfc="white" if "(extra)" in VARIANT_LABELS.get(v, "") else plotting.color(f"ablation-{v}"),
            )
            t = tests[(tests["benchmark"] == b) & (tests["variant"] == v)] if len(tests) else tests
            if len(t):
                ax.text(
                    i,
                    val + sem + span * 0.03,
                    stars(t["p_value"].iloc[0]),
                    ha="center",
                    va="bottom",
                    fontsize=plotting.FONT_SMALL,
                )
        if "full" in g.index:
            ax.axhline(100 * g.loc["full", "value"], color=plotting.color("ablation-full"), lw=0.6, ls=":", zorder=0)
        ax.set_xticks(
            range(len(variants)),
            [VARIANT_LABELS.get(v, v) for v in variants],
            rotation=60,
            ha="right",
            rotation_mode="anchor",
        )
        ax.set_xlim(-0.6, len(variants) - 0.4)
        ax.set_ylim(low - span * 0.08, top + span * 0.14)
        ax.set_title(
            BENCHMARK_LABELS.get(b, b)
            + (
                "\n" + f"{plotting.sem_note(n)}; stars: t-test vs full model"
                if k == 0
                else f"\nover seeds ({n} vs {n}); open markers: not in the paper"
            ),
            fontsize=plotting.FONT_SMALL,
        )
        if k:
            ax.sharey(axes[0])
            ax.tick_params(labelleft=False)
    axes[0].set_ylabel("mean accuracy over tasks (%)\n(axis zoomed)")
    plotting.panel_letter(axes[0], "a")


def panel_b(ax, curve: pd.DataFrame, table: pd.DataFrame) -> None:
    if curve is None or curve.empty:
        return _not_run(ax, "b", "perceptron")
    for method, g in curve.groupby("method", sort=False):
        g = g[g["epoch"] > 0].sort_values("epoch")  # from the first pass on (before learning every output is 0)
        c = plotting.color(method)
        ax.plot(g["epoch"], 100 * g["mean"], color=c, label=plotting.label(method), lw=1.2)
        ax.fill_between(
            g["epoch"],
            100 * (g["mean"] - g["sem"].fillna(0)),
            100 * (g["mean"] + g["sem"].fillna(0)),
            color=c,
            alpha=0.3,
            lw=0,
        )
    ends = table[table["task_trained"] > 0].groupby("task_trained")["epoch"].max()
    for t, e in ends.items():
        if t < ends.index.max():
            ax.axvline(e + 0.5, color="#dddddd", lw=0.8, zorder=0)
    ax.set_xticks([0] + list(ends.values))
    lo = float((100 * (curve.loc[curve["epoch"] > 0, "mean"] - curve.loc[curve["epoch"] > 0, "sem"].fillna(0))).min())
    ax.set_ylim(100 - 1.5 * (100 - lo), 101)  # room for the legend below the curves
    starts = [0] + list(ends.values[:-1])
    for t, (a, e) in enumerate(zip(starts, ends.values)):
        ax.text(
            (a + e) / 2,
            1.0,
            f"task {t + 1}",
            ha="center",
            va="bottom",
            transform=ax.get_xaxis_transform(),
            fontsize=plotting.FONT_SMALL,
        )
    n = int(table.groupby("method")["repetition"].nunique().max()) if "repetition" in table else None
    ax.set_xlabel("passes over the patterns (ticks: ends of tasks)")
    ax.set_ylabel("accuracy on task 1 (%)")
    ax.legend(frameon=False, loc="lower left", title=plotting.sem_note(n, "repetitions"))
    plotting.panel_letter(ax, "b")


def panel_c(ax, st: pd.DataFrame) -> None:
    summ = st[(st["kind"] == "summary") & st["name"].str.startswith("fig5.perceptron.final.")].copy()
    if summ.empty:
        return _not_run(ax, "c", "perceptron")
    summ = summ.join(parse_groups(summ["groups"]))
    methods = list(summ["method"])
    vals, sems = 100 * summ["value"].to_numpy(), 100 * summ["sem"].fillna(0).to_numpy()
    for i, m in enumerate(methods):
        ax.errorbar(i, vals[i], yerr=sems[i], marker="o", ms=5, capsize=3, color=plotting.color(m), lw=1.2)
    ax.set_xticks(
        range(len(methods)), [plotting.label(m) for m in methods], rotation=30, ha="right", rotation_mode="anchor"
    )
    ax.set_xlim(-0.6, len(methods) - 0.4)
    top, low = float((vals + sems).max()), float((vals - sems).min())
    span = max(top - low, 1.0)
    ax.set_ylim(low - span * 0.3, top + span * 0.5)
    t = st[st["name"] == "fig5.perceptron.ttest"]
    if len(t) and len(methods) == 2:
        plotting.bracket(ax, 0, 1, top + span * 0.15, stars(t["p_value"].iloc[0]))
    n = int(summ["n"].max())
    ax.set_ylabel("mean accuracy, all tasks (%; zoomed)")
    ax.set_title(
        f"{plotting.sem_note(n, 'repetitions')}\nt-test over repetitions ({n} vs {n})", fontsize=plotting.FONT_SMALL
    )
    ax.set_xlabel("at this load only: the gap\nreverses at higher load\n(see perceptron capacity fig.)")
    plotting.panel_letter(ax, "c")


def draw(
    stats_df: pd.DataFrame,
    curve: pd.DataFrame | None,
    perceptron: pd.DataFrame | None,
    pdf: str,
    png: str,
    title_note: str = "",
    published=None,
) -> None:
    plotting.style()
    fig = plt.figure(figsize=(7.4, 6.4))
    grid = fig.add_gridspec(
        2, 10, height_ratios=[1.25, 1], hspace=1.45, wspace=1.2, top=0.83, bottom=0.13, left=0.1, right=0.98
    )  # fixed margins: tight_layout does not move a gridspec's axes
    ax_a = [fig.add_subplot(grid[0, 0:5]), fig.add_subplot(grid[0, 5:10])]
    ax_b = fig.add_subplot(grid[1, 0:6])
    ax_c = fig.add_subplot(grid[1, 7:10])
    panel_a(ax_a, stats_df)
    panel_b(ax_b, curve, perceptron)
    panel_c(ax_c, stats_df)
    plotting.mark_panels(
        fig, {"a": ax_a[0], "b": ax_b, "c": ax_c}, plotting.not_reproduced("fig5", stats_df, published, PANELS)
    )
    fig.suptitle("Model ablation and lifelong learning in a perceptron" + title_note, y=0.995)
    plotting.save(fig, pdf, png)
