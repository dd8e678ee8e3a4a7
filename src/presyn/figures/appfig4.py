"""App. fig 4: size of the relative change of expected strength vs initial release probability.

Sjöström et al. 2001 (layer-5 pairs, rat visual cortex, spike-timing protocols), as processed for the paper:
one point per synapse, x = Pr before induction, y = |w_after / w_before - 1| with w = Pr q, LTP and LTD in
two colours (n per group in the legend), the least-squares line over all synapses, Pearson r and p in the
panel (all synapses, and within each group). The extras (signed change, shuffle control) are in the stats
table, not drawn: the figure reads like the paper's.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting

GROUP_LABELS = {"ltp": "LTP", "ltd": "LTD", "all": "all"}


def p_text(p: float) -> str:
    if not np.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p >= 0.01 else f"p = {p:.4f}"


def draw(recordings: pd.DataFrame, stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "") -> None:
    plotting.style()
    st = stats_df.set_index("name")
    fig, ax = plt.subplots(figsize=(4.8, 3.8))
    for group in ("ltp", "ltd"):
        g = recordings[recordings["group"] == group]
        ax.scatter(g["P_before"], g["rel_change_size"], s=24, alpha=0.9, color=plotting.color(group),
                   label=f"{GROUP_LABELS[group]} (n = {len(g)})", edgecolor="white", linewidth=0.4, zorder=3)
    if "appfig4.regression.slope" in st.index:
        slope, icpt = st.loc["appfig4.regression.slope", "value"], st.loc["appfig4.regression.intercept", "value"]
        xs = np.linspace(recordings["P_before"].min(), recordings["P_before"].max(), 50)
        ax.plot(xs, icpt + slope * xs, color="black", lw=1.2, label="least squares (all)", zorder=2)
    lines = []
    for key in ("all", "ltp", "ltd"):
        name = f"appfig4.pearson.{key}"
        if name in st.index:
            row = st.loc[name]
            lines.append(f"{GROUP_LABELS[key]}: r = {row['value']:.3f}, {p_text(row['p_value'])}")
    ax.text(0.98, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("initial release probability Pr (before induction)")
    ax.set_ylabel("relative change of expected\nstrength |\u0394w| / w")
    ax.legend(frameon=False, fontsize=7, loc="upper right", bbox_to_anchor=(1.0, 0.80))
    fig.suptitle("Release probability and stability (Sj\u00f6str\u00f6m et al. 2001)" + title_note, fontsize=9)
    plotting.tight_layout(fig)
    plotting.save(fig, pdf, png)
