"""Fig 1: mutual information vs synaptic energy (a) and the best MI per energy per model (b)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator, NullFormatter

from presyn import plotting
from presyn.analysis.energy import parse_groups

# scorecard item id -> panel it is drawn in (issue 30.3: a panel whose claim is not reproduced says so)
PANELS = {
    "fig1.fixedp_same_mean_p": "b",
    "fig1.presyn_more_efficient_than_deterministic": "b",
    "fig1.presyn_more_efficient_than_fixedp": "b",
    "fig1.presyn_vs_deterministic_significant": "b",
    "fig1.presyn_vs_fixedp_significant": "b",
    "fig1.fixedp_needs_more_energy_than_deterministic": "a",
    "fig1.presyn_more_efficient_every_weight_decay": "a",
    "fig1.weight_decay_tradeoffs_all_models": "a",
}


stars = plotting.stars


def energy_ticks(ax) -> None:
    """Labels on the log energy axis at 1, 2, 5 x 10^k in plain numbers, or (less than two of those in view, e.g.
    the quick config's narrow range) at a few round values. Matplotlib's default labels every minor tick of
    a short log range, and those ran into each other."""
    lo, hi = ax.get_xlim()
    ticks = [
        m * 10.0**k
        for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
        for m in (1, 2, 5)
        if lo <= m * 10.0**k <= hi
    ]
    if len(ticks) < 2:
        ticks = [v for v in MaxNLocator(nbins=3, steps=[1, 2, 2.5, 5, 10]).tick_values(lo, hi) if lo <= v <= hi]
    ax.set_xticks(ticks, [f"{v:,.0f}" if v >= 10 else f"{v:g}" for v in ticks])
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(lo, hi)


def draw(stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "", published=None) -> None:
    plotting.style()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(7.2, 3.0), gridspec_kw={"width_ratios": [1.5, 1]})
    summ = stats_df[stats_df["kind"] == "summary"].copy()
    summ = summ.join(parse_groups(summ["groups"]))
    summ["metric"] = summ["name"].str.split(".").str[1]
    per_wd = summ[summ["metric"].isin(["mutual_information", "synaptic_energy"])]
    n_seeds = int(per_wd["n"].max()) if len(per_wd) else None
    for model, g in per_wd.groupby("model"):
        mi = g[g["metric"] == "mutual_information"].set_index("wd")
        en = g[g["metric"] == "synaptic_energy"].set_index("wd").loc[mi.index]
        ax_a.errorbar(
            en["value"],
            mi["value"],
            xerr=en["sem"],
            yerr=mi["sem"],
            marker="o",
            ms=3.5,
            capsize=2,
            lw=1.2,
            color=plotting.color(model),
            label=plotting.label(model),
        )
    ax_a.set_xscale("log")
    energy_ticks(ax_a)
    ax_a.set_xlabel("synaptic energy  $\\sum |\\bar w|$ (a.u., log scale)")
    ax_a.set_ylabel("mutual information (bits)")
    ax_a.legend(frameon=False, loc="lower right")
    ax_a.set_title(
        "one point per weight decay; " + plotting.sem_note(n_seeds) + "\n(SEM bars smaller than the markers)"
    )
    plotting.panel_letter(ax_a, "a")

    best = summ[summ["metric"] == "best_mi_per_energy"]
    models = list(best["model"])
    ax_b.bar(
        range(len(models)),
        best["value"] * 1e3,
        yerr=best["sem"] * 1e3,
        capsize=3,
        width=0.6,
        color=[plotting.color(m) for m in models],
    )
    ax_b.set_xticks(range(len(models)), [plotting.label(m) for m in models])
    ax_b.set_ylabel("best MI per energy (10$^{-3}$ bits / a.u.)")
    n_b = int(best["n"].max()) if len(best) else None
    ax_b.set_title("at each model's best weight decay\n" + plotting.sem_note(n_b))
    tests = stats_df[(stats_df["kind"] == "test") & stats_df["name"].str.contains("best_mi_per_energy.presyn_vs_")]
    top = float((best["value"] + best["sem"].fillna(0)).max() * 1e3) if len(best) else 1.0
    ax_b.set_ylim(0, top * 1.35 if top > 0 else 1)
    if "presyn" in models:
        level = top * 1.06
        for _, t in tests.iterrows():
            other = t["name"].rsplit("presyn_vs_", 1)[1]
            if other in models:
                plotting.bracket(
                    ax_b,
                    models.index("presyn"),
                    models.index(other),
                    level,
                    stars(t["p_value"]) if pd.notna(t["p_value"]) else "n<2",
                )
                level += top * 0.13
        if len(tests):
            n = int(tests["n"].iloc[0])
            ax_b.set_xlabel(
                f"brackets: t-test over seeds, n = {n // 2} vs {n - n // 2}\n(our test; the paper shows none)"
            )
    plotting.panel_letter(ax_b, "b")
    plotting.mark_panels(fig, {"a": ax_a, "b": ax_b}, plotting.not_reproduced("fig1", stats_df, published, PANELS))
    fig.suptitle("Presynaptic stochasticity and energy efficiency" + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
