"""Energy experiment: final-metrics table and Fig 1 statistics (docs/protocol.md#fig-1-energy-efficiency)."""

from __future__ import annotations

import pandas as pd

from presyn import stats
from presyn.analysis.collect import check_single_config, final_values, read_metrics


def final_table(metric_paths: list[str], specs: dict[str, dict]) -> pd.DataFrame:
    """One row per run: model, weight decay, seed and the final metrics, incl. MI per energy."""
    df = read_metrics(metric_paths)
    check_single_config(df, "energy runs")
    wide = final_values(df)
    meta = {(s["method"], s["seed"]): s for s in specs.values()}
    wide["model"] = [meta[(m, s)]["model_name"] for m, s in zip(wide["method"], wide["seed"])]
    wide["weight_decay"] = [meta[(m, s)]["weight_decay"] for m, s in zip(wide["method"], wide["seed"])]
    wide["mi_per_energy"] = wide["mutual_information"] / wide["synaptic_energy"]
    wide["mi_per_neuronal_energy"] = wide["mutual_information"] / wide["neuronal_energy"]
    return wide.sort_values(["model", "weight_decay", "seed"]).reset_index(drop=True)


def fig1_stats(table: pd.DataFrame, figure: str = "fig1") -> pd.DataFrame:
    """Per model x weight decay: mean +- SEM of MI, energy, MI/energy; per model the best
    weight decay by mean MI/energy; t-tests of the presynaptic model's best against the others'."""
    rows = []
    for (model, wd), g in table.groupby(["model", "weight_decay"]):
        groups = f"model={model};wd={wd:g}"
        for metric in (
            "mutual_information",
            "synaptic_energy",
            "neuronal_energy",
            "mi_per_energy",
            "mi_per_neuronal_energy",
            "test_accuracy",
        ):
            rows.append(stats.summary(figure, f"{figure}.{metric}.{model}.wd{wd:g}", g[metric], groups))
    best = {}
    for model, g in table.groupby("model"):
        means = g.groupby("weight_decay")["mi_per_energy"].mean()
        wd = float(means.idxmax())
        best[model] = g[g["weight_decay"] == wd]["mi_per_energy"].to_numpy()
        rows.append(
            stats.summary(
                figure,
                f"{figure}.best_mi_per_energy.{model}",
                best[model],
                f"model={model};wd={wd:g}",
                detail=f"best weight decay {wd:g}",
            )
        )
    rows += _margin_every_wd(table, figure)
    rows += _mean_p_rows(table, figure)
    if "presyn" in best:
        for model, values in best.items():
            if model != "presyn":
                rows.append(
                    stats.ttest(
                        figure,
                        f"{figure}.best_mi_per_energy.presyn_vs_{model}",
                        best["presyn"],
                        values,
                        f"presyn vs {model}",
                    )
                )
    return stats.frame(rows)


def _margin_every_wd(table: pd.DataFrame, figure: str) -> list[dict]:
    """Fig 1a: the presynaptic model above both controls at *every* weight decay. One row: the smallest, over
    the weight decays all models share, of mean MI/energy (presyn) minus the best control's mean; > 0 iff
    presyn wins at every weight decay. ``detail`` names the weight decay of that smallest margin."""
    means = table.groupby(["weight_decay", "model"])["mi_per_energy"].mean().unstack("model").dropna()
    controls = [m for m in means.columns if m != "presyn"]
    if "presyn" not in means.columns or not controls or means.empty:
        return []
    margin = means["presyn"] - means[controls].max(axis=1)
    wd = float(margin.idxmin())
    return [
        stats.summary(
            figure,
            f"{figure}.presyn_margin_every_wd",
            [float(margin.min())],
            f"wd={wd:g}",
            detail=f"min over {len(margin)} weight decays of mean MI/energy, presyn - best of "
            f"{', '.join(controls)}; smallest at wd {wd:g}",
        )
    ]


def _mean_p_rows(table: pd.DataFrame, figure: str) -> list[dict]:
    """Fig 1 caption (issue 28): 'the fixed release probabilities model was chosen to have the same average release
    probability as the model with learned probabilities'. Per seed, the learned model's mean p at the weight decay of
    its best MI per energy (Fig 1b's comparison): ``<figure>.mean_p.presyn.best`` (mean +- SEM over seeds), and the
    fixed-p model's p (``<figure>.mean_p.fixedp``, the same at every weight decay)."""
    if "mean_p" not in table or "presyn" not in set(table["model"]):
        return []
    rows = []
    g = table[table["model"] == "presyn"]
    wd = float(g.groupby("weight_decay")["mi_per_energy"].mean().idxmax())
    rows.append(
        stats.summary(
            figure,
            f"{figure}.mean_p.presyn.best",
            g[g["weight_decay"] == wd]["mean_p"],
            f"model=presyn;wd={wd:g}",
            detail=f"learned mean release probability at the best weight decay {wd:g}",
        )
    )
    fixed = table[table["model"] == "fixedp"]["mean_p"]
    if len(fixed):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.mean_p.fixedp",
                fixed,
                "model=fixedp",
                detail="release probability of the fixed-p model (all runs)",
            )
        )
    return rows


def parse_groups(groups: pd.Series) -> pd.DataFrame:
    """'model=presyn;wd=0.01' -> columns model, wd (used by figures to read stats rows)."""
    parsed = [dict(kv.split("=", 1) for kv in str(g).split(";") if "=" in kv) for g in groups]
    return pd.DataFrame(parsed, index=groups.index)
