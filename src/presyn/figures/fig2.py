"""Fig 2: importance of high-release-probability synapses: (a) p before / after learning, (b) lesion
curves, (c) synaptic energy and (d) Fisher information of high- vs low-p synapses.

Draws precomputed histogram tables and stats rows only (results/tables/energy_histograms.csv,
results/stats/fig2.csv).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting

IMPORTANT_P = 0.9


def stat(stats_df: pd.DataFrame, name: str) -> pd.Series | None:
    """The stats row called ``name`` (None when absent)."""
    rows = stats_df[stats_df["name"] == name]
    return rows.iloc[0] if len(rows) else None


def fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def draw_hist(ax, hist: pd.DataFrame, panel: str, groups: tuple[str, ...]) -> None:
    """Step histograms (fraction of synapses per bin) of the given groups of one panel."""
    for g in groups:
        h = hist[(hist["panel"] == panel) & (hist["group"] == g)]
        if not len(h):
            continue
        edges = np.append(h["bin_left"].to_numpy(), h["bin_right"].to_numpy()[-1])
        n = int(h["n"].iloc[0])
        ax.stairs(h["fraction"].to_numpy(), edges, color=plotting.color(g), fill=g == "before", alpha=0.6 if g == "before" else 1,
                  lw=1.5, label=f"{plotting.label(g)} (n = {n:,})")
        if bool(h["log_x"].iloc[0]):
            ax.set_xscale("log")


def draw_p_hist(ax, hist: pd.DataFrame, panel: str, frac_after: pd.Series | None) -> None:
    draw_hist(ax, hist, panel, ("before", "after"))
    ax.axvline(IMPORTANT_P, ls="--", color="k", lw=1)
    ax.set_yscale("log")
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("release probability p")
    ax.set_ylabel("fraction of synapses")
    if frac_after is not None:
        ax.set_title(f"after learning, {100 * frac_after['value']:.2f}% of synapses have p >= {IMPORTANT_P}\n"
                     f"(mean over {int(frac_after['n'])} seeds)", fontsize=8)
    # right of the initial p, left of the dashed line at p = 0.9: above the sparse middle of the histogram
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(0.3, 1.0))


def draw(hist: pd.DataFrame, stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "", what: str = "") -> None:
    plotting.style()
    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    draw_p_hist(ax_a, hist, "p", stat(stats_df, "fig2.fraction_important.after"))
    plotting.panel_letter(ax_a, "a")

    lesion = stats_df[stats_df["name"].str.match(r"^fig2\.lesion\.(lowp_first|random)\.\d+$")].copy()
    lesion["order"] = lesion["name"].str.split(".").str[2]
    lesion["pct"] = lesion["name"].str.split(".").str[3].astype(int)
    for order, g in lesion.sort_values("pct").groupby("order"):
        sem = g["sem"].fillna(0).to_numpy()
        ax_b.plot(g["pct"], g["value"], marker="o", ms=3, color=plotting.color(order), label=plotting.label(order))
        ax_b.fill_between(g["pct"], g["value"] - sem, g["value"] + sem, color=plotting.color(order), alpha=0.25, lw=0)
    t50 = stat(stats_df, "fig2.lesion.lowp_vs_random.50")
    if t50 is not None:
        ax_b.text(0.03, 0.05, f"50% removed: paired t-test {fmt_p(t50['p_value'])} (n = {int(t50['n'])})",
                  transform=ax_b.transAxes, fontsize=7)
    ax_b.set_xlabel("synapses removed (%)")
    ax_b.set_ylabel("test accuracy")
    ax_b.set_ylim(0, 1.02)
    ax_b.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 0.1))
    plotting.panel_letter(ax_b, "b")

    for ax, panel, xlabel, letter in ((ax_c, "abs_w", "synaptic energy $|\\bar w|$ (a.u.)", "c"),
                                      (ax_d, "fisher", "empirical Fisher information F (nats$^2$ per unit weight$^2$)", "d")):
        draw_hist(ax, hist, panel, ("low_p", "high_p"))
        ax.set_xlabel(xlabel)
        ax.set_ylabel("fraction of synapses in group")
        test = stat(stats_df, f"fig2.{panel}.high_vs_low")
        lines = []
        if test is not None:
            lines.append(f"Mann-Whitney {fmt_p(test['p_value'])}")
        if panel == "fisher":
            r = stat(stats_df, "fig2.pearson_fisher_p")
            if r is not None:
                lines.append(f"Pearson r(F, p) = {r['value']:.3f}, {fmt_p(r['p_value'])}")
        if lines:
            ax.set_title("high vs low p: " + "\n".join(lines), fontsize=8)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
        plotting.panel_letter(ax, letter)

    fig.suptitle("Synapses with high release probability matter" + (f" ({what})" if what else "") + title_note, fontsize=10)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
