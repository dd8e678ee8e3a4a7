"""Fig 1: mutual information vs synaptic energy (a) and the best MI per energy per model (b)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, NullFormatter

from presyn import plotting
from presyn.analysis.energy import parse_groups


def stars(p: float) -> str:
    return "**" if p < 0.01 else "*" if p < 0.05 else "n.s."


def energy_ticks(ax) -> None:
    """Labels on the log energy axis at 1, 2, 5 x 10^k in plain numbers, or (less than two of those in view, e.g.
    the quick config's narrow range) at a few round values. Matplotlib's default labels every minor tick of
    a short log range, and those ran into each other."""
    lo, hi = ax.get_xlim()
    ticks = [m * 10.0 ** k for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
             for m in (1, 2, 5) if lo <= m * 10.0 ** k <= hi]
    if len(ticks) < 2:
        ticks = [v for v in MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi) if lo <= v <= hi]
    ax.set_xticks(ticks, [f"{v:,.0f}" if v >= 10 else f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(lo, hi)


def draw(stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "") -> None:
    plotting.style()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9, 3.6))
    summ = stats_df[stats_df["kind"] == "summary"].copy()
    summ = summ.join(parse_groups(summ["groups"]))
    summ["metric"] = summ["name"].str.split(".").str[1]
    per_wd = summ[summ["metric"].isin(["mutual_information", "synaptic_energy"])]
    for model, g in per_wd.groupby("model"):
        mi = g[g["metric"] == "mutual_information"].set_index("wd")
        en = g[g["metric"] == "synaptic_energy"].set_index("wd").loc[mi.index]
        ax_a.errorbar(en["value"], mi["value"], xerr=en["sem"], yerr=mi["sem"], marker="o", ms=4, capsize=2,
                      color=plotting.color(model), label=plotting.label(model))
    ax_a.set_xscale("log")
    energy_ticks(ax_a)
    ax_a.set_xlabel("synaptic energy  $\\sum |\\bar w|$ (a.u., log scale)")
    ax_a.set_ylabel("mutual information (bits)")
    ax_a.legend(frameon=False, fontsize=8)
    plotting.panel_letter(ax_a, "a")

    best = summ[summ["metric"] == "best_mi_per_energy"]
    models = list(best["model"])
    ax_b.bar(range(len(models)), best["value"], yerr=best["sem"], capsize=3,
             color=[plotting.color(m) for m in models])
    ax_b.set_xticks(range(len(models)), [plotting.label(m) for m in models], rotation=20)
    ax_b.set_ylabel("best MI per energy (bits / a.u.)")
    tests = stats_df[(stats_df["kind"] == "test") & stats_df["name"].str.contains("best_mi_per_energy.presyn_vs_")]
    top = (best["value"] + best["sem"].fillna(0)).max()
    for _, t in tests.iterrows():
        other = t["name"].rsplit("presyn_vs_", 1)[1]
        if other in models:
            ax_b.text(models.index(other), top * 1.05, stars(t["p_value"]) if pd.notna(t["p_value"]) else "n<2",
                      ha="center", fontsize=9)
    ax_b.set_ylim(0, top * 1.2 if top > 0 else 1)
    plotting.panel_letter(ax_b, "b")
    fig.suptitle("Presynaptic stochasticity and energy efficiency" + title_note, fontsize=11)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
