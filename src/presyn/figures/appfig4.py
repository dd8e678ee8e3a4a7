"""App. fig 4: relative change in expected strength vs initial release probability (Sjöström et al. 2001).

(a) per recording: x = P before, y = relative change of P*q, LTP / LTD coloured, the least-squares line
over all recordings and Pearson r in the panel beside the published value; (b) the observed r (all, LTP,
LTD) against the shuffle control (mean and 95 % interval of r when the after-strengths are permuted
across recordings), which shows how much of r is built in because P appears on both axes.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting

GROUP_LABELS = {"ltp": "LTP", "ltd": "LTD", "all": "all"}


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return "p = n/a"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def is_synthetic(recordings: pd.DataFrame) -> bool:
    return bool(recordings["synthetic"].astype(str).str.strip().str.lower().isin(["true", "1"]).any())


def figure_title(synthetic: bool) -> str:
    if synthetic:
        return "SYNTHETIC DATA (not Sjöström et al. 2001): release probability and stability"
    return "Release probability and stability (Sjöström et al. 2001)"


def draw(recordings: pd.DataFrame, stats_df: pd.DataFrame, pdf: str, png: str, title_note: str = "") -> None:
    plotting.style()
    st = stats_df.set_index("name")
    synthetic = is_synthetic(recordings)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(9.5, 3.8), gridspec_kw={"width_ratios": [1.6, 1]})

    for group in ("ltp", "ltd"):
        g = recordings[recordings["group"] == group]
        ax_a.scatter(g["P_before"], 100 * g["rel_change"], s=22, alpha=0.85, color=plotting.color(group),
                     label=f"{GROUP_LABELS[group]} (n = {len(g)})", edgecolor="white", linewidth=0.4)
    if "appfig4.regression.slope" in st.index:
        slope, icpt = st.loc["appfig4.regression.slope", "value"], st.loc["appfig4.regression.intercept", "value"]
        xs = np.linspace(recordings["P_before"].min(), recordings["P_before"].max(), 50)
        ax_a.plot(xs, 100 * (icpt + slope * xs), color="black", lw=1.2, label="least squares (all)")
    ax_a.axhline(0, color="#999999", lw=0.6, ls=":")
    r_all = st.loc["appfig4.pearson.all"]
    text = f"r = {r_all['value']:.3f}, {_p_text(r_all['p_value'])} (n = {int(r_all['n'])})"
    if "appfig4.shuffle_null_r" in st.index:
        null = st.loc["appfig4.shuffle_null_r"]
        text += f"\nshuffle null r = {null['value']:.3f} \u00b1 {st.loc['appfig4.shuffle_null_sd', 'value']:.3f}"
    ax_a.text(0.98, 0.97, text, transform=ax_a.transAxes, ha="right", va="top", fontsize=8)
    ax_a.set_xlabel("release probability P before induction")
    ax_a.set_ylabel("relative change in strength P\u00b7q (%)")
    ax_a.legend(frameon=False, fontsize=7, loc="best")
    plotting.panel_letter(ax_a, "a")

    keys = [k for k in ("all", "ltp", "ltd") if f"appfig4.pearson.{k}" in st.index]
    for i, key in enumerate(keys):
        sfx = "" if key == "all" else f".{key}"
        colour = "black" if key == "all" else plotting.color(key)
        if f"appfig4.shuffle_null_r{sfx}" in st.index:
            mean = st.loc[f"appfig4.shuffle_null_r{sfx}", "value"]
            lo, hi = st.loc[f"appfig4.shuffle_null_q025{sfx}", "value"], st.loc[f"appfig4.shuffle_null_q975{sfx}", "value"]
            ax_b.errorbar([i], [mean], yerr=[[mean - lo], [hi - mean]], fmt="s", ms=5, capsize=4,
                          color=plotting.color("shuffled"), label="shuffle null (mean, 95 %)" if i == 0 else None)
        ax_b.plot([i + 0.15], [st.loc[f"appfig4.pearson.{key}", "value"]], "o", ms=6, color=colour,
                  label="observed r" if i == 0 else None)
    ax_b.axhline(0, color="#999999", lw=0.6, ls=":")
    ax_b.set_xticks(range(len(keys)), [GROUP_LABELS[k] for k in keys])
    ax_b.set_xlim(-0.5, len(keys) - 0.5)
    ax_b.set_ylim(-1.05, 1.05)
    ax_b.set_ylabel("Pearson r (P before, relative change)")
    ax_b.legend(frameon=False, fontsize=7, loc="upper left")
    plotting.panel_letter(ax_b, "b")

    fig.suptitle(figure_title(synthetic) + title_note, fontsize=10, color="#b00000" if synthetic else "black")
    fig.tight_layout()
    plotting.save(fig, pdf, png)
