"""The perceptron near capacity (Methods): final mean accuracy (a) and the presyn - standard gap (b)
against the patterns per task, from ``results/stats/perceptron_capacity.csv``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from presyn import plotting
from presyn.analysis.capacity import FIGURE
from presyn.analysis.energy import parse_groups


def _rows(st: pd.DataFrame, prefix: str) -> pd.DataFrame:
    rows = st[(st["kind"] == "summary") & st["name"].str.startswith(prefix) & st["name"].str.contains(r"\.patterns\d+$")]
    rows = rows.join(parse_groups(rows["groups"]))
    rows["n_patterns"] = rows["n_patterns"].astype(int)
    rows["load"] = rows["load"].astype(float)
    return rows.sort_values("n_patterns")


def _load_axis(ax, rows: pd.DataFrame) -> None:
    ax.set_xticks(rows["n_patterns"].unique())
    ax.set_xticklabels([f"{n}\n({load:g})" for n, load in rows.drop_duplicates("n_patterns")[["n_patterns", "load"]].itertuples(index=False)])
    ax.set_xlabel("patterns per task\n(load: all tasks' patterns / 2N)")


def draw(st: pd.DataFrame, pdf: str, png: str, title_note: str = "") -> None:
    plotting.style()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(8.5, 3.6))
    final = _rows(st, f"{FIGURE}.final.")
    for method, g in final.groupby("method", sort=False):
        ax_a.errorbar(g["n_patterns"], g["value"], yerr=g["sem"].fillna(0), color=plotting.color(method),
                      label=plotting.label(method), marker="o", capsize=3, lw=1.5)
    if len(final):
        _load_axis(ax_a, final)
    ax_a.set_ylabel("final accuracy,\nmean over all tasks")
    ax_a.legend(frameon=False, fontsize=8)
    plotting.panel_letter(ax_a, "a")

    gap = _rows(st, f"{FIGURE}.gap.")
    if len(gap):
        ax_b.errorbar(gap["n_patterns"], gap["value"], yerr=gap["sem"].fillna(0), color=plotting.color("presyn"),
                      marker="o", capsize=3, lw=1.5)
        _load_axis(ax_b, gap)
    ax_b.axhline(0, color="#999999", lw=0.8, ls="--")
    ax_b.set_ylabel("accuracy gap, presynaptic\n- standard (mean \u00b1 SEM)")
    change = st[st["name"] == f"{FIGURE}.gap_change"]
    if len(change) and pd.notna(change["p_value"].iloc[0]):
        ax_b.set_title(f"gap change, largest - smallest: {change['value'].iloc[0]:+.3f} "
                       f"(t-test p = {change['p_value'].iloc[0]:.2g})", fontsize=8)
    plotting.panel_letter(ax_b, "b")
    fig.suptitle("Perceptron near capacity: stochastic vs standard" + title_note, fontsize=11)
    plotting.tight_layout(fig, w_pad=3)
    plotting.save(fig, pdf, png)
