"""The perceptron near capacity (Methods): final mean accuracy (a) and the presyn - standard gap (b)
against the patterns per task, from ``results/stats/perceptron_capacity.csv``. The gap is paired per repetition
(both models see the same patterns), so its marks are the paired t-tests per load (``gap_ttest``); the
independent t-test of the gap change (``gap_change``) is not drawn."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from presyn import plotting
from presyn.analysis.capacity import FIGURE
from presyn.analysis.energy import parse_groups


def _rows(st: pd.DataFrame, prefix: str) -> pd.DataFrame:
    rows = st[
        (st["kind"] == "summary") & st["name"].str.startswith(prefix) & st["name"].str.contains(r"\.patterns\d+$")
    ]
    rows = rows.join(parse_groups(rows["groups"]))
    rows["n_patterns"] = rows["n_patterns"].astype(int)
    rows["load"] = rows["load"].astype(float)
    return rows.sort_values("n_patterns")


def _positions(rows: pd.DataFrame) -> dict[int, int]:
    """Evenly spaced x positions, one per load in increasing order: the loads (100-200 patterns, then 400) are too
    close on a linear axis for their labels (issue 30: overlapping tick labels); the axis says it is not to scale."""
    return {n: i for i, n in enumerate(sorted(rows["n_patterns"].unique()))}


def _load_axis(ax, rows: pd.DataFrame) -> None:
    first = rows.drop_duplicates("n_patterns").sort_values("n_patterns")
    ax.set_xticks(range(len(first)))
    ax.set_xticklabels([f"{n}\n({load:g})" for n, load in first[["n_patterns", "load"]].itertuples(index=False)])
    ax.set_xlim(-0.5, len(first) - 0.5)
    ax.set_xlabel("patterns per task (load: all tasks' patterns / 2N);\nevenly spaced, not to scale")


# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {"perceptron_capacity.gap_shrinks": "b", "perceptron_capacity.gap_shrinks_toward_zero": "b"}


def draw(st: pd.DataFrame, pdf: str, png: str, title_note: str = "", published=None) -> None:
    plotting.style()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(7.2, 3.0))
    final = _rows(st, f"{FIGURE}.final.")
    for method, g in final.groupby("method", sort=False):
        ax_a.errorbar(
            g["n_patterns"].map(_positions(final)),
            g["value"],
            yerr=g["sem"].fillna(0),
            color=plotting.color(method),
            label=plotting.label(method),
            marker="o",
            capsize=3,
            lw=1.2,
        )
    if len(final):
        _load_axis(ax_a, final)
    ax_a.set_ylabel("final accuracy,\nmean over all tasks")
    ax_a.legend(
        frameon=False,
        title=plotting.sem_note(int(final["n"].max()) if len(final) and "n" in final else None, "repetitions"),
    )
    plotting.panel_letter(ax_a, "a")

    gap = _rows(st, f"{FIGURE}.gap.")
    if len(gap):
        ax_b.errorbar(
            gap["n_patterns"].map(_positions(gap)),
            gap["value"],
            yerr=gap["sem"].fillna(0),
            color=plotting.color("presyn"),
            marker="o",
            capsize=3,
            lw=1.2,
        )
        _load_axis(ax_b, gap)
        span = float((gap["value"] + gap["sem"].fillna(0)).max() - (gap["value"] - gap["sem"].fillna(0)).min())
        for _, g in gap.iterrows():
            t = st[st["name"] == f"{FIGURE}.gap_ttest.patterns{g['n_patterns']}"]
            if len(t):
                up = g["value"] >= 0
                y = g["value"] + (1 if up else -1) * ((0 if pd.isna(g["sem"]) else g["sem"]) + 0.04 * span)
                ax_b.text(
                    _positions(gap)[g["n_patterns"]],
                    y,
                    plotting.stars(t["p_value"].iloc[0]),
                    ha="center",
                    va="bottom" if up else "top",
                    fontsize=plotting.FONT_SMALL,
                )
        lo, hi = ax_b.get_ylim()
        ax_b.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ax_b.axhline(0, color="#999999", lw=0.8, ls="--")
    ax_b.set_ylabel("accuracy gap, presynaptic\n\u2212 standard")
    ax_b.set_title(
        plotting.sem_note(int(gap["n"].max()) if len(gap) and "n" in gap else None, "repetitions")
        + "\nmarks: paired t-test per load (gap vs 0)",
        fontsize=plotting.FONT_SMALL,
    )
    plotting.panel_letter(ax_b, "b")
    plotting.mark_panels(fig, {"a": ax_a, "b": ax_b}, plotting.not_reproduced(FIGURE, st, published, PANELS))
    fig.suptitle("Perceptron near capacity: stochastic vs standard" + title_note)
    plotting.tight_layout(fig, w_pad=3)
    plotting.save(fig, pdf, png)
