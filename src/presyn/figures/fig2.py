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


fmt_p = plotting.fmt_p

P_STEP = 0.07  # p_up = p_down of the paper's model: p moves on a grid of this step
P_FLOOR = 1e-12  # the histogram table's log floor: its first bin holds every value at or below it (F = 0 included)
TAIL = 1e-3  # log panels start where either group's cumulative fraction reaches this (the rest is counted)

# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "fig2.lesion_significant": "b",
    "fig2.important_fraction": "a",
    "fig2.high_p_more_energy": "c",
    "fig2.high_p_more_fisher": "d",
    "fig2.fisher_p_correlated": "d",
    "fig2.few_high_p_synapses": "a",
    "fig2.lesion_lowp_first_beats_random": "b",
    "fig2.lesion_whole_curve.random_mean": "b",
    "fig2.lesion_whole_curve.random_single": "b",
    "fig2.high_p_considerably_more_energy": "c",
    "fig2.high_p_considerably_more_energy.per_seed": "c",
    "fig2.fisher_p_correlated.per_seed": "d",
    "fig2.most_energy_on_sparse_subset": "c",
}


def p_grid(
    h: pd.DataFrame, p0: float = 0.25, step: float = P_STEP, continuous: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Re-bin a fine p histogram onto the values p takes: p0 + k step (k = 0, 1, ...) below 1, and p = 1 itself
    (clamped / frozen). Values reached down from 1 (1 - j step) fall in the bin of the nearest grid value. A
    ``continuous`` group whose values spread over the fine bins (initial p drawn uniformly) is spread over the grid
    bins by overlap instead, so that a uniform distribution stays flat. Returns (grid values, fraction of synapses per grid bin)."""
    left, right = h["bin_left"].to_numpy(float), h["bin_right"].to_numpy(float)
    frac = h["fraction"].to_numpy(float)
    k_max = int(np.floor((1 - p0) / step - 1e-9))
    centres = np.append(p0 + step * np.arange(k_max + 1), 1.0)
    out = np.zeros(len(centres))
    top = right >= 1 - 1e-9  # the last fine bin: p at (or within a bin of) 1
    spread = continuous and (frac[~top] > 0).sum() > len(frac) / 2
    if spread:  # uniform within each fine bin: share it by overlap; a grid bin the data cover only in part (the
        # ends of a uniform range) is scaled to its full width, so that a uniform distribution stays flat
        lo_edges = np.append(centres[:-1] - step / 2, centres[-2] + step / 2)
        hi_edges = np.append(centres[:-1] + step / 2, 1.0)
        covered = np.zeros(len(centres))
        for lo, hi, f in zip(left, right, frac):
            for i, (a, b) in enumerate(zip(lo_edges, hi_edges)):
                a, b = max(lo, a), min(hi, b)
                if b > a:
                    out[i] += f * (b - a) / (hi - lo)
                    covered[i] += (b - a) if f > 0 else 0
        return centres, np.where(covered > 0, out * step / np.maximum(covered, 1e-12), 0.0)
    for lo, hi, f, is_top in zip(left, right, frac, top):
        if f <= 0:
            continue
        if is_top:
            out[-1] += f
        else:
            out[min(int(round(((lo + hi) / 2 - p0) / step)), k_max)] += f
    return centres, out


def draw_p_hist(ax, hist: pd.DataFrame, panel: str, frac_after: pd.Series | None, p0: float = 0.25) -> None:
    """Fraction of synapses at each value p takes (bins of width p_up centred on p0 + k p_up, and p = 1), before and
    after learning, side by side; log y axis, so points, not bars; bins without a synapse are left out."""
    for g, marker, ms in (("before", "s", 6.5), ("after", "o", 4)):  # the larger square stays visible behind
        h = hist[(hist["panel"] == panel) & (hist["group"] == g)]
        if not len(h):
            continue
        x, f = p_grid(h, p0, continuous=g == "before")
        keep = f > 0
        n = int(h["n"].iloc[0])
        ax.plot(
            x[keep],
            f[keep],
            marker=marker,
            ls=":" if g == "after" else "none",
            lw=0.6,
            ms=ms,
            color=plotting.color(g),
            gid="p-hist",
            mec="k" if g == "before" else plotting.color(g),
            mew=0.6,
            label=f"{plotting.label(g)} (n = {n:,} synapses)",
        )
    ax.axvline(IMPORTANT_P, ls="--", color="k", lw=0.8)
    ax.text(
        IMPORTANT_P - 0.01,
        0.03,
        f"p = {IMPORTANT_P}",
        transform=ax.get_xaxis_transform(),
        ha="right",
        fontsize=plotting.FONT_SMALL,
    )
    ax.set_yscale("log")
    ax.set_ylim(1e-5, 3)
    ax.set_xlim(p0 - P_STEP, 1.04)
    ax.set_xlabel(
        f"release probability p (bins: one per value p takes,\n{p0:g} + k \u00b7 {P_STEP:g} and 1; width {P_STEP:g})"
    )
    ax.set_ylabel("fraction of synapses (log)")
    if frac_after is not None:
        ax.set_title(
            f"after learning {100 * frac_after['value']:.1f} \u00b1 {100 * frac_after['sem']:.1f} % of synapses "
            f"have p \u2265 {IMPORTANT_P}\n(mean \u00b1 SEM, n = {int(frac_after['n'])} seeds; empty bins not drawn)"
        )
    ax.legend(frameon=False, loc="upper center")


def draw_hist(ax, hist: pd.DataFrame, panel: str, groups: tuple[str, ...]) -> str:
    """Step histograms (fraction of synapses per bin) of the given groups on a log x axis. The table's first bin
    (the log floor: every value at or below P_FLOOR, zero included) is counted, not drawn; the x axis starts where
    either group's cumulative fraction reaches TAIL. Returns the sentence that says what was left out."""
    lows, notes = [], []
    for g in groups:
        h = hist[(hist["panel"] == panel) & (hist["group"] == g)].sort_values("bin_left")
        if not len(h):
            continue
        n = int(h["n"].iloc[0])
        frac, left = h["fraction"].to_numpy(), h["bin_left"].to_numpy()
        floor = left[0] <= P_FLOOR * 1.0001
        n_floor = int(h["count"].iloc[0]) if floor else 0
        if floor:
            frac = frac.copy()
            frac[0] = 0
        edges = np.append(left, h["bin_right"].to_numpy()[-1])
        ax.stairs(frac, edges, color=plotting.color(g), lw=1.3, label=f"{plotting.label(g)} (n = {n:,})")
        cum = np.cumsum(frac)
        lows.append(edges[np.searchsorted(cum, TAIL)])
        below = cum[np.searchsorted(cum, TAIL) - 1] if np.searchsorted(cum, TAIL) > 0 else 0
        notes.append((g, n_floor, below))
    ax.set_xscale("log")
    if lows:
        ax.set_xlim(min(lows), hist[hist["panel"] == panel]["bin_right"].max())
    text = "; ".join(f"{plotting.label(g).split(' (')[0]}: {nf:,}" for g, nf, _ in notes if nf)
    if text:
        text = "not drawn, at \u2264 10$^{-12}$ (0 included): " + text
    return text


def seed_welch_p(a: pd.Series, b: pd.Series) -> float | None:
    """Two-sided Welch t-test of two summary rows over seeds (mean, SEM, n): the seed, not the pooled synapse,
    is the unit when the statement is about the model (issue 30); None when either has fewer than 2 seeds."""
    from presyn import stats

    if min(int(a["n"]), int(b["n"])) < 2 or pd.isna(a["sem"]) or pd.isna(b["sem"]):
        return None
    p = stats.two_sided_from_stats(a["value"], a["sem"], int(a["n"]), b["value"], b["sem"], int(b["n"]))[2]
    return p if np.isfinite(p) else None


def draw(
    hist: pd.DataFrame, stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "", what: str = "", published=None
) -> None:
    plotting.style()
    fig, axes = plt.subplots(2, 2, figsize=(7.2, 6.2))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    draw_p_hist(ax_a, hist, "p", stat(stats_df, "fig2.fraction_important.after"))
    plotting.panel_letter(ax_a, "a")

    lesion = stats_df[stats_df["name"].str.match(r"^fig2\.lesion\.(lowp_first|random|random_mean)\.\d+$")].copy()
    lesion["order"] = lesion["name"].str.split(".").str[2]
    lesion["pct"] = lesion["name"].str.split(".").str[3].astype(int)
    n_l = int(lesion["n"].max()) if len(lesion) else None
    area = {b: stat(stats_df, f"fig2.lesion.area_lowp_vs_{b}") for b in ("random", "random_mean")}
    orders = (area["random_mean"]["groups"] if area["random_mean"] is not None else "").rpartition("orders=")[2]
    for order, g in lesion.sort_values("pct").groupby("order", sort=False):
        sem = g["sem"].fillna(0).to_numpy()
        label = plotting.label(order) + {
            "random": " (authors': one per seed)",
            "random_mean": f" (mean of {orders or 'R'} per seed)",
        }.get(order, "")
        ax_b.plot(
            g["pct"],
            g["value"],
            marker="o" if order != "random_mean" else None,
            ms=3,
            color=plotting.color(order),
            label=label,
            mec="k" if order == "random" else plotting.color(order),
            mew=0.4,
            ls="--" if order == "random_mean" else "-",
            lw=1.2 if order == "random_mean" else None,
            zorder=3 if order == "random_mean" else 2,
        )
        if order != "random_mean":
            ax_b.fill_between(
                g["pct"], g["value"] - sem, g["value"] + sem, color=plotting.color(order), alpha=0.3, lw=0
            )
    tests = stats_df[stats_df["name"].str.match(r"^fig2\.lesion\.lowp_vs_random\.\d+$")].copy()
    if len(tests):
        tests["pct"] = tests["name"].str.rsplit(".", n=1).str[1].astype(int)
        tests["p_holm"] = plotting.holm(tests["p_value"])
        for _, t in tests.iterrows():
            ax_b.text(
                t["pct"],
                1.0,
                plotting.stars(t["p_holm"]),
                ha="center",
                va="bottom",
                fontsize=plotting.FONT_SMALL,
                rotation=90 if plotting.stars(t["p_holm"]) == "n.s." else 0,
            )
        ax_b.set_title(
            f"mean \u00b1 SEM, n = {n_l} seeds; marks: paired t-test per\n"
            f"fraction vs one random order, Holm-corrected ({len(tests)} fractions)"
        )
    whole = [
        f"{fmt_p(t['p_value'])} vs {'one order' if b == 'random' else f'mean of {orders}'}"
        for b, t in area.items()
        if t is not None
    ]
    if whole:  # the whole-curve tests, fixed before they were computed (issue 29.2)
        ax_b.text(
            0.03,
            0.35,
            "area between curves 10\u201390 %,\npaired t-test: " + ";\n".join(whole),
            transform=ax_b.transAxes,
            ha="left",
            va="bottom",
            fontsize=plotting.FONT_SMALL,
        )
    ax_b.set_xlabel("synapses removed (%)")
    ax_b.set_ylabel("test accuracy")
    ax_b.set_ylim(0, 1.12)
    ax_b.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax_b.legend(frameon=False, loc="lower left")
    plotting.panel_letter(ax_b, "b")

    for ax, panel, xlabel, letter in (
        (ax_c, "abs_w", "synaptic energy $|\\bar w|$ (a.u., log)", "c"),
        (ax_d, "fisher", "empirical Fisher information F (log)", "d"),
    ):
        left_out = draw_hist(ax, hist, panel, ("low_p", "high_p"))
        ax.set_xlabel(xlabel + (f"\n{left_out}" if left_out else ""))
        ax.set_ylabel("fraction of synapses in group")
        lines = []
        hi, lo = stat(stats_df, f"fig2.{panel}.high_p"), stat(stats_df, f"fig2.{panel}.low_p")
        if hi is not None and lo is not None:
            lines.append(
                f"per-seed means: high {hi['value']:.3g} vs low p {lo['value']:.3g} (n = {int(hi['n'])} seeds)"
            )
            p_seeds = seed_welch_p(hi, lo)
            if p_seeds is not None:
                lines.append(f"Welch t-test over seeds (two-sided): {fmt_p(p_seeds)}")
        if panel == "fisher":
            r = stat(stats_df, "fig2.pearson_fisher_p.seeds")
            if r is not None:
                lines.append(
                    f"Pearson r(F, p) = {r['value']:.2f} \u00b1 {r['sem']:.2f} (mean \u00b1 SEM, n = {int(r['n'])} seeds)"
                )
        ax.set_title("\n".join(lines), fontsize=plotting.FONT_SMALL)
        ax.legend(frameon=False, loc="upper left")
        plotting.panel_letter(ax, letter)

    plotting.mark_panels(
        fig, dict(zip("abcd", (ax_a, ax_b, ax_c, ax_d))), plotting.not_reproduced("fig2", stats_df, published, PANELS)
    )
    fig.suptitle("Synapses with high release probability matter" + (f" ({what})" if what else "") + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
