"""Appendix figure "Model robustness" (issue 21): the energy results with p_up / p_down 25 % lower and higher.

Top row, one panel per p_up / p_down setting (the default 0.07 among them, from Fig 1's stats): MI per
synaptic energy vs weight decay for the presynaptic model and the two controls (the controls' runs are the
same in every panel), each model's best weight decay ringed, the Fig 1 t-tests at the best written in. Bottom
row, Fig 2's quantities at the analysis weight decay per setting: fraction of synapses with p >= 0.9, lesion
accuracy with 50 % of synapses removed (lowest p first vs random), and the per-seed mean |w_bar| and Fisher
information of high- vs low-p synapses.

Draws stats rows only: results/stats/robustness.csv (the variants) and results/stats/fig1.csv, fig2.csv
(the default model).
"""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from presyn import plotting
from presyn.analysis.energy import parse_groups
from presyn.figures.fig1 import stars
from presyn.figures.fig2 import IMPORTANT_P, stat

# scorecard item id -> panel it is drawn in (issue 30.3): none of this figure's items is tied to one panel
PANELS = {
    f"robustness.{v}.{c}": panel
    for v in ("p_low", "p_high")
    for c, panel in (
        ("presyn_more_efficient_than_deterministic", "top"),
        ("presyn_more_efficient_than_fixedp", "top"),
        ("presyn_vs_deterministic_significant", "top"),
        ("presyn_vs_fixedp_significant", "top"),
        ("few_high_p_synapses", "d"),
        ("lesion_lowp_first_beats_random", "e"),
        ("lesion_significant", "e"),
        ("high_p_more_energy", "f"),
        ("high_p_more_fisher", "g"),
    )
}
PANELS = {k: (f"top.{k.split('.')[1]}" if v == "top" else v) for k, v in PANELS.items()}  # top: that setting's panel

MODEL = "presyn"
LESION_PCT = 50


def settings(
    stats_df: pd.DataFrame,
    fig1_df: pd.DataFrame,
    fig2_df: pd.DataFrame,
    variants: dict[str, dict],
    default: dict,
    prefix: str = "robustness",
) -> list[dict]:
    """One entry per p_up / p_down setting, ordered by (p_up, p_down): where its Fig 1 and Fig 2 rows are."""
    out = [
        {
            "key": "default",
            "p_up": float(default["p_up"]),
            "p_down": float(default["p_down"]),
            "f1": (fig1_df, "fig1"),
            "f2": (fig2_df, "fig2"),
        }
    ]
    for name, v in variants.items():
        out.append(
            {
                "key": name,
                "p_up": float(v["p_up"]),
                "p_down": float(v["p_down"]),
                "f1": (stats_df, f"{prefix}.{name}"),
                "f2": (stats_df, f"{prefix}.{name}"),
            }
        )
    return sorted(out, key=lambda s: (s["p_up"], s["p_down"]))


def setting_label(s: dict, short: bool = False) -> str:
    p = f"{s['p_up']:g}" if s["p_up"] == s["p_down"] else f"{s['p_up']:g} / {s['p_down']:g}"
    if short:
        return p + ("\n(default)" if s["key"] == "default" else "")
    what = "p_up = p_down" if s["p_up"] == s["p_down"] else "p_up / p_down"
    return f"{what} = {p}" + (" (default, Fig 1)" if s["key"] == "default" else f" ({s['key']})")


def per_wd(ax, s: dict) -> None:
    df, prefix = s["f1"]
    rows = df[df["name"].str.match(rf"^{re.escape(prefix)}\.mi_per_energy\.[^.]+\.wd")].copy()
    if rows.empty:
        ax.text(0.5, 0.5, "no stats rows", transform=ax.transAxes, ha="center", va="center", color="#666666")
        return
    rows = rows.join(parse_groups(rows["groups"]))
    rows["wd_f"] = rows["wd"].astype(float)
    wds = sorted(rows["wd_f"].unique())
    for model in dict.fromkeys(rows["model"]):
        g = rows[rows["model"] == model].set_index("wd_f").reindex(wds)
        x = np.arange(len(wds))
        ax.errorbar(
            x,
            g["value"],
            yerr=g["sem"].fillna(0),
            marker="o",
            ms=4,
            capsize=2,
            color=plotting.color(model),
            label=plotting.label(model),
        )
        best = stat(df, f"{prefix}.best_mi_per_energy.{model}")
        if best is not None:
            wd = float(parse_groups(pd.Series([best["groups"]]))["wd"].iloc[0])
            if wd in wds:
                ax.plot(wds.index(wd), best["value"], "o", ms=11, mfc="none", mec=plotting.color(model), mew=1.5)
    ax.set_xticks(range(len(wds)), [f"{w:g}" for w in wds])
    ax.set_xlabel("weight decay")
    tests = []
    for model in dict.fromkeys(rows["model"]):
        t = stat(df, f"{prefix}.best_mi_per_energy.{MODEL}_vs_{model}") if model != MODEL else None
        if t is not None:
            sign = ">" if t["value"] > 0 else "<" if t["value"] < 0 else "="
            tests.append(f"{sign} {plotting.label(model)} {stars(t['p_value']) if pd.notna(t['p_value']) else '(n<2)'}")
    mp = stat(df, f"{prefix}.mean_p.{MODEL}.best")
    ax.set_title(
        setting_label(s)
        + (f"\n{plotting.label(MODEL)} mean p at its best: {mp['value']:.3f}" if mp is not None else "")
        + ("\nat the best: " + "; ".join(tests) if tests else ""),
        fontsize=plotting.FONT_SMALL,
    )


def bars(
    ax,
    sets: list[dict],
    groups: list[tuple[str, str]],
    ylabel: str,
    scale: float = 1.0,
    log: bool = False,
    test: str | None = None,
) -> None:
    """Grouped bars per setting from 0 on a linear axis, or points with SEM on a ``log`` axis (no bars on a log
    axis): ``groups`` = (colour/label key, Fig 2 quantity); ``test`` a Fig 2 test row with seeds as its unit (a
    pooled-synapse test is not drawn: the panel says where the per-seed test is)."""
    width = 0.8 / len(groups)
    x = np.arange(len(sets))
    tops = np.zeros(len(sets))
    lows = []
    for j, (key, quantity) in enumerate(groups):
        vals, sems = [], []
        for s in sets:
            df, prefix = s["f2"]
            r = stat(df, f"{prefix}.{quantity}")
            vals.append(np.nan if r is None else float(r["value"]) * scale)
            sems.append(0.0 if r is None or pd.isna(r["sem"]) else float(r["sem"]) * scale)
        pos = x + (j - (len(groups) - 1) / 2) * width
        if log:
            ax.errorbar(
                pos,
                vals,
                yerr=sems,
                marker="o",
                ms=4,
                capsize=2,
                ls="none",
                color=plotting.color(key),
                label=plotting.label(key),
            )
        else:
            ax.bar(
                pos,
                vals,
                width,
                yerr=sems,
                capsize=2,
                color=plotting.color(key),
                label=plotting.label(key),
                error_kw={"lw": 0.8},
            )
        tops = np.fmax(tops, np.nan_to_num(np.array(vals) + np.array(sems), nan=0.0))
        lows += [v for v in vals if np.isfinite(v) and v > 0]
    pooled = False
    if test:  # above each setting's bars, at the top of the axes (x in data, y in axes coordinates)
        for i, s in enumerate(sets):
            df, prefix = s["f2"]
            t = stat(df, f"{prefix}.{test}")
            if t is not None and ("Mann-Whitney" in str(t.get("test", "")) or float(t["n"]) > 1000):
                pooled = True  # a test over pooled synapses: its stars would speak for the models
                continue
            if t is not None:
                ax.text(
                    i,
                    0.97,
                    stars(t["p_value"]) if pd.notna(t["p_value"]) else "n/a",
                    ha="center",
                    va="top",
                    fontsize=plotting.FONT_SMALL,
                    transform=ax.get_xaxis_transform(),
                )
    if pooled:
        ax.text(
            0.5,
            0.97,
            "per-seed test: see scorecard",
            ha="center",
            va="top",
            transform=ax.transAxes,
            fontsize=plotting.FONT_SMALL,
        )
    if log and lows:
        ax.set_yscale("log")
        ax.set_ylim(min(lows) / 3, tops.max() * 10)
    else:
        ax.set_ylim(0, tops.max() * 1.25 if tops.max() > 0 else 1.0)
    for i, s in enumerate(sets):  # a setting without a value (e.g. no synapse with p >= 0.9) says so
        df, prefix = s["f2"]
        if all(stat(df, f"{prefix}.{q}") is None or pd.isna(stat(df, f"{prefix}.{q}")["value"]) for _, q in groups):
            ax.text(
                i,
                0.5,
                "no value",
                rotation=90,
                ha="center",
                va="center",
                fontsize=plotting.FONT_SMALL,
                color="#666666",
                transform=ax.get_xaxis_transform(),
            )
    ax.set_xticks(x, [setting_label(s, short=True) for s in sets])
    ax.set_xlabel("p_up = p_down")
    ax.set_ylabel(ylabel)
    n = next(
        (
            int(stat(s["f2"][0], f"{s['f2'][1]}.{q}")["n"])
            for s in sets
            for _, q in groups
            if stat(s["f2"][0], f"{s['f2'][1]}.{q}") is not None
        ),
        None,
    )
    if not log:
        ax.set_ylim(0, ax.get_ylim()[1] * 1.35)  # room for the legend and marks inside the axes
    ax.legend(frameon=False, loc="upper right", bbox_to_anchor=(1.0, 0.9), title=plotting.sem_note(n))


def draw(
    stats_df: pd.DataFrame,
    fig1_df: pd.DataFrame,
    fig2_df: pd.DataFrame,
    variants: dict[str, dict],
    default: dict,
    pdf: str,
    png: str,
    title_note: str = "",
    analysis_wd: float | None = None,
    published=None,
) -> None:
    plotting.style()
    sets = settings(stats_df, fig1_df, fig2_df, variants, default)
    n = len(sets)
    fig = plt.figure(figsize=(max(2.5 * n, 7.4), 9.0))
    grid = fig.add_gridspec(3, 2 * n)
    top = [fig.add_subplot(grid[0, 2 * i : 2 * (i + 1)]) for i in range(n)]
    for ax in top[1:]:
        ax.sharey(top[0])
        ax.tick_params(labelleft=False)
    bottom = [fig.add_subplot(grid[1 + i // 2, n * (i % 2) : n * (i % 2 + 1)]) for i in range(4)]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    for ax, s in zip(top, sets):
        per_wd(ax, s)
        plotting.panel_letter(ax, next(letters))
    lo, hi = top[0].get_ylim()
    top[0].set_ylim(lo, hi + 0.4 * (hi - lo))  # room for the legend above the curves (the row shares its y axis)
    top[0].set_ylabel("MI per synaptic energy (bits / a.u.)")
    n1 = stat(sets[0]["f1"][0], f"{sets[0]['f1'][1]}.best_mi_per_energy.{MODEL}")
    top[0].legend(frameon=False, loc="upper left", title=plotting.sem_note(None if n1 is None else n1["n"]))
    top[-1].text(
        0.98,
        0.02,
        "controls: the same Fig 1\nruns in every panel (only\nthe presynaptic model\nchanges)",
        transform=top[-1].transAxes,
        ha="right",
        va="bottom",
        fontsize=plotting.FONT_SMALL,
    )

    bars(
        bottom[0], sets, [(MODEL, "fraction_important.after")], f"synapses with p \u2265 {IMPORTANT_P} (%)", scale=100.0
    )
    bars(
        bottom[1],
        sets,
        [("lowp_first", f"lesion.lowp_first.{LESION_PCT}"), ("random", f"lesion.random.{LESION_PCT}")],
        f"test accuracy, {LESION_PCT}% of synapses removed",
        test=f"lesion.lowp_vs_random.{LESION_PCT}",
    )
    bars(
        bottom[2],
        sets,
        [("high_p", "abs_w.high_p"), ("low_p", "abs_w.low_p")],
        "mean $|\\bar w|$ (a.u., log)",
        log=True,
        test="abs_w.high_vs_low",
    )
    bars(
        bottom[3],
        sets,
        [("high_p", "fisher.high_p"), ("low_p", "fisher.low_p")],
        "mean Fisher information (log)",
        log=True,
        test="fisher.high_vs_low",
    )
    for ax in bottom:
        plotting.panel_letter(ax, next(letters))
    where = f"weight decay {analysis_wd:g}" if analysis_wd is not None else "the analysis weight decay"
    bottom[0].set_title(f"Fig 2 quantities at {where}", loc="left")
    axes = {f"top.{s['key']}": ax for ax, s in zip(top, sets)} | dict(zip("defg", bottom))
    plotting.mark_panels(
        fig,
        axes,
        plotting.not_reproduced("appfig_robustness", pd.concat([stats_df, fig1_df, fig2_df]), published, PANELS),
    )
    fig.suptitle("Model robustness: p_up, p_down 25 % lower / higher" + title_note)
    plotting.tight_layout(fig, h_pad=1.5)
    plotting.save(fig, pdf, png)
