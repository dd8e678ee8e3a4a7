"""Per-synapse tables of trained energy runs, histogram tables, and the Fig 2 / Appendix 1-fig 1 stats.

runs (state.pt) -> ``synapse_table`` (one row per seed x synapse: p, initial p, w_bar, |w_bar|, Fisher)
-> ``histogram_table`` (what the figures draw), ``synapse_stats`` (Fig 2's synapse-level statistics) and
``important_fractions`` (App. fig 1d), the tables the reference bundle ships instead of the synapses
-> ``fig2_stats`` / ``appfig1_stats`` (stats rows).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from presyn import stats
from presyn.analysis.collect import check_single_config, final_values, read_metrics
from presyn.analysis.drift import init_bin_table
from presyn.analysis.fisher import empirical_fisher
from presyn.analysis.lesion import RANDOM_MEAN, area_between
from presyn.safe_io import torch_load

LOG_FLOOR = 1e-12  # |w_bar| and Fisher values below this are counted at the floor of their log-axis histograms


def load_state(path: str | Path) -> dict:
    """A run's ``state.pt`` as plain data (``weights_only``): a file holding anything else is refused with
    ``presyn.safe_io.UnsafeFileError`` and nothing in it is run (run folders may come from elsewhere)."""
    return torch_load(path, map_location="cpu")


def release_probs(state: dict) -> list[np.ndarray]:
    return [P.numpy() for P in state["p"]]


def synapse_table(
    states: dict[int, dict],
    x: torch.Tensor | None = None,
    y: torch.Tensor | None = None,
    important_p: float = 0.9,
    fisher_chunk: int = 500,
) -> pd.DataFrame:
    """One row per seed x synapse: seed, layer (1-based), post, pre, p, p_init, w_bar, abs_w, important
    (p >= important_p), important_init (p_init >= important_p) and, when test data ``x, y`` are given,
    the empirical Fisher information (all p = 1)."""
    frames = []
    for seed, st in states.items():
        fisher = empirical_fisher(st["w_bar"], st["biases"], x, y, chunk=fisher_chunk) if x is not None else None
        for li, (W, P) in enumerate(zip(st["w_bar"], st["p"]), start=1):
            n_out, n_in = W.shape
            post, pre = np.divmod(np.arange(n_out * n_in), n_in)
            p = P.reshape(-1).numpy().astype(np.float64)
            df = pd.DataFrame(
                {
                    "seed": int(seed),
                    "layer": li,
                    "post": post.astype(np.int32),
                    "pre": pre.astype(np.int32),
                    "p": p,
                    "p_init": st["initial_p"][li - 1].reshape(-1).numpy().astype(np.float64),
                    "w_bar": W.reshape(-1).numpy().astype(np.float64),
                }
            )
            df["abs_w"] = df["w_bar"].abs()
            df["important"] = df["p"] >= important_p
            df["important_init"] = df["p_init"] >= important_p
            if fisher is not None:
                df["fisher"] = fisher[li - 1].reshape(-1).numpy().astype(np.float64)
            frames.append(df)
    return pd.concat(frames, ignore_index=True)


def _hist(values: np.ndarray, edges: np.ndarray, panel: str, group: str, log_x: bool) -> pd.DataFrame:
    counts, _ = np.histogram(values, bins=edges)
    total = max(len(values), 1)
    return pd.DataFrame(
        {
            "panel": panel,
            "group": group,
            "bin_left": edges[:-1],
            "bin_right": edges[1:],
            "count": counts,
            "fraction": counts / total,
            "n": len(values),
            "log_x": log_x,
        }
    )


def _log_edges(values: np.ndarray, n_bins: int) -> np.ndarray:
    v = values[values > 0]
    lo, hi = (np.log10(v.min()), np.log10(v.max())) if len(v) else (-1.0, 0.0)
    if hi <= lo:
        hi = lo + 1.0
    return np.logspace(lo - 1e-9, hi + 1e-9, n_bins + 1)  # the margins keep the extreme values inside


def histogram_table(syn: pd.DataFrame, prefix: str = "", p_bins: int = 40, log_bins: int = 50) -> pd.DataFrame:
    """Histograms pooled over seeds (the paper's "accumulated data"): release probabilities before /
    after learning (panel ``<prefix>p``, linear bins of width 1/p_bins on [0, 1]); |w_bar| and Fisher
    information for high- vs low-p synapses (panels ``<prefix>abs_w``, ``<prefix>fisher``, log bins).
    ``fraction`` = count / number of synapses in the group."""
    edges = np.linspace(0.0, 1.0, p_bins + 1)
    edges[-1] = 1.0 + 1e-9  # p = 1 falls in the last bin
    out = [
        _hist(syn["p_init"].to_numpy(), edges, f"{prefix}p", "before", False),
        _hist(syn["p"].to_numpy(), edges, f"{prefix}p", "after", False),
    ]
    groups = {"high_p": syn["important"].to_numpy(), "low_p": ~syn["important"].to_numpy()}
    for col in ("abs_w", "fisher"):
        if col not in syn:
            continue
        vals = np.maximum(syn[col].to_numpy(), LOG_FLOOR)  # log axis: zeros are counted at the floor
        e = _log_edges(vals, log_bins)
        for g, m in groups.items():
            out.append(_hist(vals[m], e, f"{prefix}{col}", g, True))
    return pd.concat(out, ignore_index=True)


def _pct(f: float) -> int:
    return int(round(100 * float(f)))


def synapse_stats(syn: pd.DataFrame, figure: str = "fig2") -> pd.DataFrame:
    """Fig 2's statistics over single synapses: fraction of important synapses before / after learning and mean
    p (per seed); |w_bar| and Fisher of high- vs low-p synapses (per-seed means, Mann-Whitney U over pooled
    synapses); share of the energy on high-p synapses; Pearson r(F, p) pooled and per seed. Computed beside the
    synapse table (the table layer): the reference bundle ships these rows, not the 600k-row table."""
    rows = []
    per_seed = syn.groupby("seed")
    for stage, col in (("before", "important_init"), ("after", "important")):
        frac = per_seed[col].mean()
        rows.append(
            stats.summary(
                figure,
                f"{figure}.fraction_important.{stage}",
                frac,
                f"stage={stage}",
                detail="fraction of synapses with p >= important_p, per seed",
            )
        )
    rows.append(stats.summary(figure, f"{figure}.mean_p.after", per_seed["p"].mean(), "stage=after"))
    high, low = syn[syn["important"]], syn[~syn["important"]]
    for col, what in (("abs_w", "synaptic energy |w_bar|"), ("fisher", "empirical Fisher information")):
        if col not in syn:
            continue
        for grp, d in (("high_p", high), ("low_p", low)):
            means = d.groupby("seed")[col].mean().reindex(sorted(syn["seed"].unique()))
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.{col}.{grp}",
                    means.dropna(),
                    f"group={grp}",
                    detail=f"per-seed mean {what}; {len(d)} synapses pooled",
                )
            )
        rows.append(stats.mannwhitney(figure, f"{figure}.{col}.high_vs_low", high[col], low[col], "a=high_p;b=low_p"))
    share = per_seed.apply(lambda d: float(d.loc[d["important"], "abs_w"].sum() / d["abs_w"].sum()))
    rows.append(
        stats.summary(
            figure,
            f"{figure}.energy_share.high_p",
            share,
            "group=high_p",
            detail="fraction of total synaptic energy on high-p synapses, per seed",
        )
    )
    if "fisher" in syn:
        rows.append(
            stats.pearson(figure, f"{figure}.pearson_fisher_p", syn["fisher"], syn["p"], "x=fisher;y=p;seeds=pooled")
        )
        rs = []
        for seed, d in per_seed:
            r = stats.pearson(
                figure, f"{figure}.pearson_fisher_p.seed{seed}", d["fisher"], d["p"], f"x=fisher;y=p;seed={seed}"
            )
            rows.append(r)
            rs.append(r["value"])
        rows.append(
            stats.summary(
                figure,
                f"{figure}.pearson_fisher_p.seeds",
                rs,
                "x=fisher;y=p",
                detail="per-seed Pearson r (mean +- SEM)",
            )
        )
    return stats.frame(rows)


def lesion_stats(lesion: pd.DataFrame, figure: str = "fig2") -> pd.DataFrame:
    """Fig 2b: test accuracy per removed fraction and order (mean +- SEM over seeds) and the paired t-test of
    low-p-first against random removal at every fraction > 0."""
    rows = []
    for (order, f), g in lesion.groupby(["order", "fraction"]):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.lesion.{order}.{_pct(f)}",
                g.sort_values("seed")["accuracy"],
                f"order={order};fraction={f:g}",
                detail="test accuracy after removing this fraction",
            )
        )
    wide = lesion.pivot_table(index=["seed", "fraction"], columns="order", values="accuracy").reset_index()
    if {"lowp_first", "random"} <= set(wide.columns):
        for f, g in wide.groupby("fraction"):
            if f > 0:
                rows.append(
                    stats.ttest_paired(
                        figure,
                        f"{figure}.lesion.lowp_vs_random.{_pct(f)}",
                        g["lowp_first"],
                        g["random"],
                        f"fraction={f:g};a=lowp_first;b=random",
                    )
                )
    if {"lowp_first", RANDOM_MEAN} <= set(wide.columns):  # issue 29: averaged random baseline, whole-curve test
        n_orders = int(lesion.loc[lesion["order"] == RANDOM_MEAN, "n_orders"].max())
        for f, g in wide.groupby("fraction"):
            if f > 0:
                rows.append(
                    stats.ttest_paired(
                        figure,
                        f"{figure}.lesion.lowp_vs_random_mean.{_pct(f)}",
                        g["lowp_first"],
                        g[RANDOM_MEAN],
                        f"fraction={f:g};a=lowp_first;b={RANDOM_MEAN};orders={n_orders}",
                    )
                )
        for base in ("random", RANDOM_MEAN):
            areas = {
                seed: area_between(g.set_index("fraction")["lowp_first"], g.set_index("fraction")[base])
                for seed, g in wide.groupby("seed")
            }
            seeds = sorted(areas)
            row = stats.ttest_paired(
                figure,
                f"{figure}.lesion.area_lowp_vs_{base}",
                [areas[s] for s in seeds],
                [0.0] * len(seeds),
                f"a=lowp_first;b={base};fractions=0.1-0.9;orders={n_orders if base == RANDOM_MEAN else 1}",
            )
            row["detail"] = (
                f"area between the curves from 10 to 90 % removed (trapezoid, accuracy x fraction), per seed "
                f"{', '.join(f'{areas[s]:.4f}' for s in seeds)}; paired over seeds; {row['detail']}"
            )
            rows.append(row)
    return stats.frame(rows)


def fig2_stats(synapse_rows: pd.DataFrame, lesion: pd.DataFrame, figure: str = "fig2") -> pd.DataFrame:
    """Fig 2: the synapse-level rows (``synapse_stats``, computed beside the synapse table under the same
    ``figure``) followed by the lesion rows (``lesion_stats``)."""
    if len(synapse_rows) and set(synapse_rows["figure"]) != {figure}:
        raise ValueError(
            f"synapse statistics of figure {sorted(set(synapse_rows['figure']))} given for {figure!r}: "
            f"the synapse_stats table of another analysis"
        )
    return pd.concat([synapse_rows[stats.COLUMNS], lesion_stats(lesion, figure)], ignore_index=True)


INIT_BIN_EDGES = [
    0.25,
    0.5,
    0.75,
    1.0 + 1e-9,
]  # App. fig 1d by initial p: below 1/2 the rule drifts down (analysis.drift)


def important_fractions(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """init label -> synapse table, reduced to one row per (init, seed): the fraction of synapses with
    p >= important_p after learning (App. fig 1d reads only this, not the synapses), then the same per bin of
    initial p (rows with ``bin_left`` / ``bin_right`` / ``n``; issue 29: where the difference comes from)."""
    frames = [
        syn.groupby("seed")["important"].mean().rename("fraction_important").reset_index().assign(init=label)
        for label, syn in tables.items()
    ]
    whole = pd.concat(frames, ignore_index=True)[["init", "seed", "fraction_important"]]
    binned = pd.concat([init_bin_table(syn, INIT_BIN_EDGES, label) for label, syn in tables.items()], ignore_index=True)
    return pd.concat([whole, binned[binned["n"] > 0]], ignore_index=True)


# ------------------------------------------------------------------ Appendix 1-fig 1

SWEEP_COLUMNS = [
    "method",
    "seed",
    "p",
    "lr",
    "weight_decay",
    "mutual_information",
    "synaptic_energy",
    "neuronal_energy",
    "mi_per_energy",
    "mi_per_neuronal_energy",
]


def sweep_table(metric_paths: list[str], specs: dict[str, dict]) -> pd.DataFrame:
    """Final metrics of the fixed-p sweep runs: one row per run with p, lr, weight decay, MI per energy."""
    df = read_metrics(metric_paths)
    check_single_config(df, "fixed-p sweep runs")
    wide = final_values(df)
    meta = {(s["method"], s["seed"]): s for s in specs.values()}
    for col, key in (("p", "fixed_p"), ("lr", "lr"), ("weight_decay", "weight_decay")):
        wide[col] = [float(meta[(m, s)][key]) for m, s in zip(wide["method"], wide["seed"])]
    wide["mi_per_energy"] = wide["mutual_information"] / wide["synaptic_energy"]
    wide["mi_per_neuronal_energy"] = wide["mutual_information"] / wide["neuronal_energy"]
    return wide.sort_values(["p", "lr", "seed"]).reset_index(drop=True)


def appfig1_stats(
    energy_final: pd.DataFrame, sweep: pd.DataFrame, fractions: pd.DataFrame, figure: str = "appfig1"
) -> pd.DataFrame:
    """(a, b) MI per synaptic / neuronal energy per model and weight decay (mean +- SEM over seeds) and the
    best per model; (c) fixed-p model: per p the best learning rate by mean MI per energy; (d) fraction of
    important synapses after learning from uniform initial p, vs the default initialisation (t-test)."""
    rows = []
    for metric in ("mi_per_energy", "mi_per_neuronal_energy"):
        for (model, wd), g in energy_final.groupby(["model", "weight_decay"]):
            rows.append(
                stats.summary(
                    figure, f"{figure}.{metric}.{model}.wd{wd:g}", g[metric], f"model={model};wd={wd:g};metric={metric}"
                )
            )
        for model, g in energy_final.groupby("model"):
            means = g.groupby("weight_decay")[metric].mean()
            wd = float(means.idxmax())
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.best_{metric}.{model}",
                    g[g["weight_decay"] == wd][metric],
                    f"model={model};wd={wd:g};metric={metric}",
                    detail=f"best weight decay {wd:g}",
                )
            )
    best_per_p = {}
    for (p, lr), g in sweep.groupby(["p", "lr"]):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.fixedp_mi_per_energy.p{p:g}.lr{lr:g}",
                g["mi_per_energy"],
                f"p={p:g};lr={lr:g};panel=grid",
            )
        )
    for p, g in sweep.groupby("p"):
        means = g.groupby("lr")["mi_per_energy"].mean()
        if means.notna().any():
            lr = float(means.idxmax())
            vals = g[g["lr"] == lr]["mi_per_energy"]
            best_per_p[p] = float(vals.mean())
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.fixedp_mi_per_energy.p{p:g}",
                    vals,
                    f"p={p:g};lr={lr:g};panel=best",
                    detail=f"best learning rate {lr:g} of {len(means)}",
                )
            )
    if best_per_p:
        p_star = max(best_per_p, key=best_per_p.get)
        rows.append(
            stats.summary(
                figure,
                f"{figure}.fixedp_best_p",
                [p_star],
                f"p={p_star:g}",
                detail="release probability with the highest best-lr mean MI per energy",
            )
        )
    fracs = {}
    if "bin_left" not in fractions:  # a table from before the per-bin rows (e.g. an older reference bundle)
        fractions = fractions.assign(bin_left=np.nan, bin_right=np.nan, n=np.nan)
    binned, fractions = fractions[fractions["bin_left"].notna()], fractions[fractions["bin_left"].isna()]
    bin_rows = []
    for (label, lo, hi), g in binned.groupby(["init", "bin_left", "bin_right"]):
        g = g.sort_values("seed")
        bin_rows.append(
            stats.summary(
                figure,
                f"{figure}.fraction_important_by_init.{label}.p{lo:g}-{min(hi, 1.0):g}",
                g["fraction_important"],
                f"init={label};p_init_from={lo:g};p_init_to={min(hi, 1.0):g}",
                detail=f"fraction of the synapses starting in [{lo:g}, {min(hi, 1.0):g}] that end with "
                f"p >= important_p, per seed; synapses per seed {', '.join(str(int(n)) for n in g['n'])}",
            )
        )
    for label in ("uniform_init", "min_init"):
        g = fractions[fractions["init"] == label].sort_values("seed")
        if g.empty:
            raise ValueError(f"the important-fraction table has no {label!r} rows")
        fracs[label] = g["fraction_important"].to_numpy(dtype=float)
        rows.append(
            stats.summary(
                figure,
                f"{figure}.fraction_important.{label}",
                fracs[label],
                f"init={label}",
                detail="fraction of synapses with p >= important_p after learning, per seed",
            )
        )
    rows.append(
        stats.ttest(
            figure,
            f"{figure}.fraction_important.uniform_vs_min_init",
            fracs["uniform_init"],
            fracs["min_init"],
            "a=uniform_init;b=min_init",
        )
    )
    return stats.frame(rows + bin_rows)
