"""Fig 5: ablation table (a), perceptron table (b, c) and their statistics
(docs/protocol.md#fig-5a-ablation, docs/protocol.md#fig-5b-c-perceptron).

Stats rows (``results/stats/fig5.csv``), accuracies as fractions:

- ``fig5.ablation.<benchmark>.<variant>``: mean +- SEM over seeds of the final mean accuracy over tasks
- ``fig5.ablation_ttest.<benchmark>.<variant>_vs_full``: independent t-test full vs variant;
  value = mean(full) - mean(variant) (the accuracy drop, published 0.014 / 0.056 for fixedP),
  statistic = t (positive when the full model is better)
- ``fig5.perceptron.final.<method>``: mean +- SEM over repetitions of the mean accuracy over all tasks
  after learning all tasks (Fig 5c)
- ``fig5.perceptron.ttest``: independent t-test presyn vs standard; value = presyn - standard
- ``fig5.perceptron.task1_final.<method>``, ``fig5.perceptron.task1_ttest``: the same for task 1 (Fig 5b's end)
"""

from __future__ import annotations

import pandas as pd

from presyn import stats
from presyn.analysis.collect import check_single_config, read_metrics

FIGURE = "fig5"
REFERENCE = "full"


def ablation_table(metric_paths: list[str], specs: dict[str, dict]) -> pd.DataFrame:
    """One row per ablation run: benchmark, variant, seed, final mean accuracy, mean p, fraction frozen."""
    df = read_metrics(metric_paths)
    for benchmark, g in df.groupby("benchmark"):  # a variant's model (lr, tuned values) differs per benchmark
        check_single_config(g, f"ablation runs on {benchmark}")
    variant = {s["method"]: s.get("variant", s["method"]) for s in specs.values()}
    keys = ["method", "benchmark", "seed"]
    last = df[df["epoch"] == df.groupby(keys)["epoch"].transform("max")]
    wide = last[last["task"] == "all"].pivot_table(index=keys, columns="metric", values="value").reset_index()
    wide.columns.name = None
    if "mean_accuracy" not in wide:
        raise ValueError("ablation runs carry no mean_accuracy metric; were they trained by the lifelong trainer?")
    wide["variant"] = wide["method"].map(variant)
    cols = ["benchmark", "variant", "method", "seed", "mean_accuracy"] + [
        c for c in ("mean_p", "fraction_frozen", "fraction_important") if c in wide
    ]
    return wide[cols].sort_values(["benchmark", "variant", "seed"]).reset_index(drop=True)


def perceptron_table(metric_paths: list[str], specs: dict[str, dict]) -> pd.DataFrame:
    """Tidy rows of every perceptron run (method, kind, seed, repetition, epoch, task, metric, value)."""
    df = read_metrics(metric_paths)
    check_single_config(df, "perceptron runs")
    kind = {s["method"]: s["model"]["kind"] for s in specs.values()}
    df["kind"] = df["method"].map(kind)
    cols = ["method", "kind", "seed", "repetition", "epoch", "task_trained", "pass", "task", "metric", "value"]
    return df[cols].sort_values(["method", "seed", "repetition", "epoch", "task", "metric"]).reset_index(drop=True)


def perceptron_final(table: pd.DataFrame) -> pd.DataFrame:
    """Per method x seed x repetition: accuracy of every task after the last pass, wide (tasks as columns)."""
    acc = table[table["metric"] == "accuracy"]
    last = acc[acc["epoch"] == acc.groupby(["method", "seed"])["epoch"].transform("max")]
    wide = last.pivot_table(
        index=["method", "kind", "seed", "repetition"], columns="task", values="value"
    ).reset_index()
    wide.columns.name = None
    tasks = [c for c in wide.columns if c not in ("method", "kind", "seed", "repetition")]
    wide["mean_accuracy"] = wide[tasks].mean(axis=1)
    return wide


def task1_curve(table: pd.DataFrame) -> pd.DataFrame:
    """Fig 5b: task-1 accuracy per method and epoch (pass over all tasks): mean, SEM, n over repetitions."""
    t1 = table[(table["metric"] == "accuracy") & (table["task"].astype(str) == "1")]
    out = t1.groupby(["method", "epoch"])["value"].agg(mean="mean", sem=stats.sem, n="count").reset_index()
    return out


def _ttest(name: str, a, b, groups: str, detail: str) -> dict:
    row = stats.ttest(FIGURE, name, a, b, groups)
    row["detail"] = f"{detail}; {row['detail']}" if row.get("detail") else detail
    return row


def fig5_stats(ablation: pd.DataFrame | None, perceptron: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    if ablation is not None and len(ablation):
        for (benchmark, variant), g in ablation.groupby(["benchmark", "variant"], sort=False):
            rows.append(
                stats.summary(
                    FIGURE,
                    f"{FIGURE}.ablation.{benchmark}.{variant}",
                    g["mean_accuracy"],
                    f"benchmark={benchmark};variant={variant}",
                    "final mean test accuracy over tasks",
                )
            )
        for benchmark, g in ablation.groupby("benchmark", sort=False):
            full = g[g["variant"] == REFERENCE]["mean_accuracy"]
            if not len(full):
                continue
            for variant, gv in g[g["variant"] != REFERENCE].groupby("variant", sort=False):
                rows.append(
                    _ttest(
                        f"{FIGURE}.ablation_ttest.{benchmark}.{variant}_vs_{REFERENCE}",
                        full,
                        gv["mean_accuracy"],
                        f"benchmark={benchmark};variant={variant};reference={REFERENCE}",
                        f"value = mean({REFERENCE}) - mean({variant}): accuracy drop (fraction)",
                    )
                )
    if perceptron is not None and len(perceptron):
        final = perceptron_final(perceptron)
        by_kind = {}
        for method, g in final.groupby("method", sort=False):
            kind = g["kind"].iloc[0]
            by_kind.setdefault(kind, g)
            rows.append(
                stats.summary(
                    FIGURE,
                    f"{FIGURE}.perceptron.final.{method}",
                    g["mean_accuracy"],
                    f"method={method};model={kind}",
                    "mean accuracy over all tasks after the last task",
                )
            )
            rows.append(
                stats.summary(
                    FIGURE,
                    f"{FIGURE}.perceptron.task1_final.{method}",
                    g["1"],
                    f"method={method};model={kind}",
                    "task-1 accuracy after the last task",
                )
            )
        if {"presyn", "standard"} <= set(by_kind):
            a, b = by_kind["presyn"], by_kind["standard"]
            groups = f"{a['method'].iloc[0]} vs {b['method'].iloc[0]}"
            rows.append(
                _ttest(
                    f"{FIGURE}.perceptron.ttest",
                    a["mean_accuracy"],
                    b["mean_accuracy"],
                    groups,
                    "value = presyn - standard, mean accuracy over all tasks",
                )
            )
            rows.append(
                _ttest(
                    f"{FIGURE}.perceptron.task1_ttest",
                    a["1"],
                    b["1"],
                    groups,
                    "value = presyn - standard, task-1 accuracy after the last task",
                )
            )
    return stats.frame(rows)
