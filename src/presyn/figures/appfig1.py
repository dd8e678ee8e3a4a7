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
from presyn.figures.fig2 import draw_p_hist, fmt_p, stat

# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "appfig1.best_fixed_p_below_one": "c",
    "appfig1.sparsity_same_for_both_inits.tost": "d",
    "appfig1.sparsity_same_for_both_inits": "d",
    "appfig1.sparsity_independent_of_init": "d",
    "appfig1.neuronal_energy_ordering": "b",
}


def per_wd(ax, stats_df: pd.DataFrame, metric: str, ylabel: str) -> None:
    rows = stats_df[stats_df["name"].str.match(rf"^appfig1\.{metric}\.[^.]+\.wd")].copy()
    rows = rows.join(parse_groups(rows["groups"]))
    rows["wd_f"] = rows["wd"].astype(float)
    wds = sorted(rows["wd_f"].unique())
    models = list(dict.fromkeys(rows["model"]))
    width = 0.8 / max(len(models), 1)
    for j, model in enumerate(models):
        g = rows[rows["model"] == model].set_index("wd_f").reindex(wds)
        ax.bar(
            np.arange(len(wds)) + (j - (len(models) - 1) / 2) * width,
            g["value"] * 1e3,
            width,
            yerr=g["sem"].fillna(0) * 1e3,
            capsize=1.5,
            color=plotting.color(model),
            label=plotting.label(model),
            error_kw={"lw": 0.8},
        )
    ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_xlabel("weight decay")
    ax.set_ylabel(ylabel)
    top = float(((rows["value"] + rows["sem"].fillna(0)) * 1e3).max()) if len(rows) else 1.0
    ax.set_ylim(0, top * 1.3)  # room for the legend inside the axes, above the bars
    ax.legend(
        frameon=False,
        ncol=len(models) or 1,
        loc="upper left",
        columnspacing=1.0,
        handlelength=1.2,
        title=plotting.sem_note(int(rows["n"].max()) if len(rows) else None),
    )


def draw(
    stats_df: pd.DataFrame,
    hist: pd.DataFrame,
    pdf: str,
    png: str,
    sweep_wd: float = 0.01,
    title_note: str = "",
    published=None,
) -> None:
    plotting.style()
    fig, axes = plt.subplots(2, 2, figsize=(7.4, 6.2))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()
    per_wd(ax_a, stats_df, "mi_per_energy", "MI per synaptic energy\n(10$^{-3}$ bits / a.u.)")
    plotting.panel_letter(ax_a, "a")
    per_wd(ax_b, stats_df, "mi_per_neuronal_energy", "MI per neuronal energy\n(10$^{-3}$ bits / a.u.)")
    plotting.panel_letter(ax_b, "b")

    best = stats_df[stats_df["name"].str.match(r"^appfig1\.fixedp_mi_per_energy\.p[0-9.]+$")].copy()
    if best.empty:  # energy.fixedp_sweep.enabled: false
        ax_c.text(
            0.5,
            0.5,
            "not run\n(energy.fixedp_sweep.enabled: false)",
            transform=ax_c.transAxes,
            ha="center",
            va="center",
            color="#666666",
        )
        ax_c.set_xticks([])  # no data: no meaningless default ticks
        ax_c.set_yticks([])
        best = pd.DataFrame(columns=["groups", "value", "sem", "p", "lr"])
    else:
        best = best.join(parse_groups(best["groups"]))
    best["p_f"] = best["p"].astype(float)
    best = best.sort_values("p_f")
    ax_c.errorbar(
        best["p_f"],
        best["value"],
        yerr=best["sem"].fillna(0),
        marker="o",
        capsize=3,
        color=plotting.color("fixedp"),
        label=plotting.label("fixedp"),
    )
    if len(best):
        ax_c.set_xticks(best["p_f"], [f"{p:g}\n{1e3 * float(lr):g}" for p, lr in zip(best["p_f"], best["lr"])])
    ax_c.set_xlabel("fixed release probability p\n(second line: its best learning rate \u00d7 10$^3$)")
    ax_c.set_ylabel("best MI per synaptic energy\n(bits / a.u.)")
    ax_c.set_title(f"weight decay {sweep_wd:g}, best learning rate per p\none seed per point: no error bars")
    ax_c.set_ylim(top=ax_c.get_ylim()[1] * 1.08)
    plotting.panel_letter(ax_c, "c")

    draw_p_hist(ax_d, hist, "uniform_p", stat(stats_df, "appfig1.fraction_important.uniform_init"))
    uni, mn = (
        stat(stats_df, "appfig1.fraction_important.uniform_init"),
        stat(stats_df, "appfig1.fraction_important.min_init"),
    )
    t = stat(stats_df, "appfig1.fraction_important.uniform_vs_min_init")
    if uni is not None and mn is not None:
        ax_d.set_title(
            f"initial p uniform in [0.25, 1]: after learning {100 * uni['value']:.1f} \u00b1 {100 * uni['sem']:.1f} % "
            f"have p \u2265 0.9,\nvs {100 * mn['value']:.1f} \u00b1 {100 * mn['sem']:.1f} % from p = 0.25 (Fig 2a); "
            + plotting.sem_note(uni["n"])
            + (f"\nt-test over seeds: {fmt_p(t['p_value'])} (the two differ)" if t is not None else ""),
            fontsize=plotting.FONT_SMALL,
        )
    else:
        ax_d.set_title("initial p uniform in [0.25, 1]\n" + ax_d.get_title())
    ax_d.set_ylabel("fraction of synapses per bin (log)")
    plotting.panel_letter(ax_d, "d")
    plotting.mark_panels(
        fig,
        dict(zip("abcd", (ax_a, ax_b, ax_c, ax_d))),
        plotting.not_reproduced("appfig1", stats_df, published, PANELS),
    )
    fig.suptitle("Energy efficiency: all weight decays, fixed p sweep, uniform initial p" + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
