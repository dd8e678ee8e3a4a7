"""App. fig 4: size of the relative change of expected strength vs initial release probability.

Sjöström et al. 2001 (layer-5 pairs, rat visual cortex, spike-timing protocols), as processed for the paper:
one point per synapse, x = release probability p before induction (the data's Pr), y = |w_after / w_before - 1| with w = p q, LTP and LTD in
two colours (n per group in the legend), the least-squares line over all synapses, Pearson r and p in the
panel (all synapses, and within each group). Beside it (issue 28) the shuffle control: for all synapses, LTP and
LTD, the 95 % range of r when the after-strengths are permuted across synapses (what the measure builds in: it
divides by w_before = Pr q, which grows with Pr) with the observed r as a dot, and the partial r controlling for
w_before. The signed-change extra stays in the stats table.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting

GROUP_LABELS = {"ltp": "LTP", "ltd": "LTD", "all": "all"}


def p_text(p: float) -> str:
    """A P-value (capital P: lower-case p is the release probability)."""
    if not np.isfinite(p):
        return "P = n/a"
    return "P < 0.001" if p < 0.001 else f"P = {p:.3f}" if p >= 0.01 else f"P = {p:.4f}"


# scorecard item id -> panel it is drawn in (issue 30.3)
PANELS = {
    "appfig4.high_p_more_stable": "a",
    "appfig4.pearson.all": "a",
    "appfig4.high_p_more_stable_ltp_and_ltd": "a",
    "appfig4.high_p_more_stable.each_group_significant": "a",
    "appfig4.beyond_coupling.shuffle": "b",
    "appfig4.beyond_coupling.shuffle.ltp_and_ltd": "b",
    "appfig4.beyond_coupling.partial": "b",
    "appfig4.beyond_coupling.partial.ltp_and_ltd": "b",
}


def draw_null(ax, st: pd.DataFrame) -> None:
    """Observed r against the shuffle null's 95 % range per subset, and the partial r given w_before."""
    keys = [k for k in ("all", "ltp", "ltd") if f"appfig4.pearson.{k}" in st.index]
    for i, key in enumerate(keys):
        sfx = "" if key == "all" else f".{key}"
        y = len(keys) - 1 - i
        lo, hi = f"appfig4.shuffle_null_q025{sfx}", f"appfig4.shuffle_null_q975{sfx}"
        if lo in st.index and hi in st.index:
            ax.plot(
                [st.loc[lo, "value"], st.loc[hi, "value"]],
                [y, y],
                color=plotting.color("shuffled"),
                lw=7,
                solid_capstyle="butt",
                label="shuffle null, 95 %" if i == 0 else None,
                zorder=1,
            )
            ax.plot(
                [st.loc[f"appfig4.shuffle_null_r{sfx}", "value"]] * 2, [y - 0.18, y + 0.18], color="0.4", lw=1, zorder=2
            )
        ax.plot(
            st.loc[f"appfig4.pearson.{key}", "value"],
            y,
            "o",
            color=plotting.BLACK,
            ms=5,
            zorder=3,
            label="observed r" if i == 0 else None,
        )
        pr = f"appfig4.partial_r.{key}"
        if pr in st.index:
            ax.plot(
                st.loc[pr, "value"],
                y - 0.3,
                "D",
                color=plotting.BLACK,
                mfc="white",
                ms=4,
                zorder=3,
                label="partial r | w before" if i == 0 else None,
            )
            pb = f"appfig4.shuffle_p_below{sfx}"
            note = f"shuffle P = {st.loc[pb, 'p_value']:.2f}" if pb in st.index else ""
            ax.text(
                0.98,
                y + 0.28,
                f"{note}; partial {p_text(st.loc[pr, 'p_value'])}",
                fontsize=plotting.FONT_SMALL,
                ha="right",
                transform=ax.get_yaxis_transform(),
            )
    ax.axvline(0, color="0.5", lw=0.6, ls=":")
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([GROUP_LABELS[k] for k in reversed(keys)])
    ax.set_ylim(-1.7, len(keys) - 0.4)  # room for the legend below the last row
    ax.set_xlim(-1, 0.4)
    ax.set_xlabel("Pearson r (p, size of change)")
    ax.set_title("what the measure builds in")
    ax.legend(frameon=False, loc="lower left")


def draw(
    recordings: pd.DataFrame, stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "", published=None
) -> None:
    plotting.style()
    st = stats_df.set_index("name")
    fig, (ax, axn) = plt.subplots(1, 2, figsize=(7.6, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})
    for group, face in (("ltp", plotting.BLACK), ("ltd", "white")):  # measured data: black, LTP filled, LTD open
        g = recordings[recordings["group"] == group]
        ax.scatter(
            g["P_before"],
            g["rel_change_size"],
            s=20,
            facecolor=face,
            edgecolor=plotting.BLACK,
            linewidth=0.7,
            label=f"{GROUP_LABELS[group]} (n = {len(g)})",
            zorder=3,
        )
    if "appfig4.regression.slope" in st.index:
        slope, icpt = st.loc["appfig4.regression.slope", "value"], st.loc["appfig4.regression.intercept", "value"]
        xs = np.linspace(recordings["P_before"].min(), recordings["P_before"].max(), 50)
        ax.plot(xs, icpt + slope * xs, color=plotting.BLACK, lw=1.0, ls="--", label="least squares (all)", zorder=2)
    lines = []
    for key in ("all", "ltp", "ltd"):
        name = f"appfig4.pearson.{key}"
        if name in st.index:
            row = st.loc[name]
            lines.append(f"{GROUP_LABELS[key]}: r = {row['value']:.3f}, {p_text(row['p_value'])}")
    ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=plotting.FONT_SMALL)
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("release probability p before induction")
    ax.set_ylabel("relative change of expected\nstrength |\u0394w| / w")
    ax.legend(frameon=False, loc="upper right", bbox_to_anchor=(1.0, 0.80))
    plotting.panel_letter(ax, "a")
    draw_null(axn, st)
    plotting.panel_letter(axn, "b")
    plotting.mark_panels(fig, {"a": ax, "b": axn}, plotting.not_reproduced("appfig4", stats_df, published, PANELS))
    fig.suptitle("Release probability and stability (Sj\u00f6str\u00f6m et al. 2001)" + title_note)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
