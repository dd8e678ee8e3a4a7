"""Appendix 1-fig 1: (a) MI per synaptic energy and (b) per neuronal energy for every weight decay and
model; (c) fixed-p model: best MI per energy over the learning-rate grid vs p; (d) release
probabilities before / after learning from uniform initial p.

Draws stats rows (results/stats/appfig1.csv) and the histogram table only.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.analysis.energy import parse_groups
from presyn.figures.fig2 import draw_p_hist, stat


def per_wd(ax, stats_df: pd.DataFrame, metric: str, ylabel: str) -> None:
    rows = stats_df[stats_df["name"].str.match(rf"^appfig1\.{metric}\.[^.]+\.wd")].copy()
    rows = rows.join(parse_groups(rows["groups"]))
    rows["wd_f"] = rows["wd"].astype(float)
    wds = sorted(rows["wd_f"].unique())
    models = list(dict.fromkeys(rows["model"]))
    width = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        g = rows[rows["model"] == model].set_index("wd_f").reindex(wds)
        ax.bar(np.arange(len(wds)) + (j - (len(models) - 1) / 2) * width, g["value"], width,
               yerr=g["sem"].fillna(0), capsize=2, color=plotting.color(model), label=plotting.label(model))
    ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_xlabel("weight decay")
    ax.set_ylabel(ylabel)
    # above the axes: inside, the legend sat on the bars
    ax.legend(frameon=False, fontsize=7, ncol=len(models) or 1, loc="lower center", bbox_to_anchor=(0.5, 1.0),
              columnspacing=1.2, handlelength=1.5)


def draw(stats_df: pd.DataFrame, hist: pd.DataFrame, pdf: str, png: str, sweep_wd: float = 0.01, title_note: str = "") -> None:
    plotting.style()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()
    per_wd(ax_a, stats_df, "mi_per_energy", "MI per synaptic energy\n(bits / a.u.)")
    plotting.panel_letter(ax_a, "a")
    per_wd(ax_b, stats_df, "mi_per_neuronal_energy", "MI per neuronal energy\n(bits / a.u.)")
    plotting.panel_letter(ax_b, "b")

    best = stats_df[stats_df["name"].str.match(r"^appfig1\.fixedp_mi_per_energy\.p[0-9.]+$")].copy()
    if best.empty:  # energy.fixedp_sweep.enabled: false
        ax_c.text(0.5, 0.5, "not run\n(energy.fixedp_sweep.enabled: false)", transform=ax_c.transAxes, ha="center",
                  va="center", fontsize=9, color="#666666")
        ax_c.set_xticks([])  # no data: no meaningless default ticks
        ax_c.set_yticks([])
        best = pd.DataFrame(columns=["groups", "value", "sem", "p", "lr"])
    else:
        best = best.join(parse_groups(best["groups"]))
    best["p_f"] = best["p"].astype(float)
    best = best.sort_values("p_f")
    ax_c.errorbar(best["p_f"], best["value"], yerr=best["sem"].fillna(0), marker="o", capsize=3, color=plotting.color("fixedp"),
                  label=plotting.label("fixedp"))
    for _, r in best.iterrows():
        ax_c.annotate(f"lr {float(r['lr']):g}", (r["p_f"], r["value"]), textcoords="offset points", xytext=(0, 6),
                      ha="center", fontsize=6)
    ax_c.set_xlabel("fixed release probability p")
    ax_c.set_ylabel("best MI per synaptic energy\n(bits / a.u.)")
    ax_c.set_title(f"weight decay {sweep_wd:g}, best learning rate per p", fontsize=8)
    plotting.panel_letter(ax_c, "c")

    draw_p_hist(ax_d, hist, "uniform_p", stat(stats_df, "appfig1.fraction_important.uniform_init"))
    ax_d.set_title("initial p uniform in [0.25, 1]\n" + ax_d.get_title(), fontsize=8)
    plotting.panel_letter(ax_d, "d")
    fig.suptitle("Energy efficiency: all weight decays, fixed p sweep, uniform initial p" + title_note, fontsize=10)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
