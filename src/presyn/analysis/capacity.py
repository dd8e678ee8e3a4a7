"""The perceptron near capacity (Methods, "Perceptron"): the Fig 5 protocol at more patterns per task.

The paper: "for more patterns, when the perceptron gets closer to its maximum capacity of 2N, the average
accuracies of the stochastic and standard perceptron become more similar". Runs: ``presyn.planning.
capacity_series`` (every method x ``perceptron.capacity.n_patterns`` x seed). The load of a run is
n_tasks x n_patterns / 2N, the share of the perceptron's capacity that all tasks' patterns together take
(full protocol: 5 x 100 / 2000 = 0.25, 5 x 400 / 2000 = 1).

Stats rows (``results/stats/perceptron_capacity.csv``), accuracies as fractions, every repetition (x seed)
one replicate:

- ``perceptron_capacity.final.<method>.patterns<P>``: mean +- SEM of the mean accuracy over all tasks
  after the last task (Fig 5c's quantity);
- ``perceptron_capacity.gap.patterns<P>``: presyn - standard of that accuracy, per repetition (both methods
  of one seed and repetition see the same patterns), mean +- SEM over repetitions; ``.gap.smallest`` /
  ``.gap.largest``: the same rows at the smallest / largest P (names independent of the P's, so the claim
  reads the same rows in every config);
- ``perceptron_capacity.gap_ttest.patterns<P>``: paired t-test presyn vs standard at P;
- ``perceptron_capacity.gap_change``: independent t-test of the per-repetition gaps, largest vs smallest P;
  value = gap(largest) - gap(smallest) (negative: the gap shrinks).
"""

from __future__ import annotations

import pandas as pd

from presyn import stats
from presyn.analysis.collect import check_single_config, read_metrics
from presyn.analysis.fig5 import perceptron_final

FIGURE = "perceptron_capacity"


def capacity_table(metric_paths: list[str], series: dict[str, dict]) -> pd.DataFrame:
    """One row per run x repetition: method (the Fig 5 method), run_method, kind, n_patterns, load, seed,
    repetition, mean_accuracy (over all tasks after the last task), task1 (task-1 accuracy then).

    ``series``: ``presyn.planning.capacity_series`` (run key -> {spec, method, n_patterns}); the metric
    paths are those runs' metrics files in any order.
    """
    df = read_metrics(metric_paths)
    check_single_config(df, "perceptron capacity runs")
    by_method = {e["spec"]["method"]: e for e in series.values()}
    unknown = sorted(set(df["method"]) - set(by_method))
    if unknown:
        raise ValueError(f"perceptron capacity table: runs of methods {unknown} are not in the capacity series")
    df["kind"] = df["method"].map(lambda m: by_method[m]["spec"]["model"]["kind"])
    final = perceptron_final(df).rename(columns={"method": "run_method"})
    final["method"] = final["run_method"].map(lambda m: by_method[m]["method"])
    final["n_patterns"] = final["run_method"].map(lambda m: int(by_method[m]["n_patterns"]))
    final["load"] = final["run_method"].map(
        lambda m: by_method[m]["spec"]["n_tasks"] * by_method[m]["n_patterns"] / (2 * by_method[m]["spec"]["n_inputs"])
    )
    final = final.rename(columns={"1": "task1"})
    cols = ["method", "run_method", "kind", "n_patterns", "load", "seed", "repetition", "mean_accuracy", "task1"]
    return final[cols].sort_values(["n_patterns", "method", "seed", "repetition"]).reset_index(drop=True)


def _groups(n: int, load: float, **extra: str) -> str:
    return ";".join([*(f"{k}={v}" for k, v in extra.items()), f"n_patterns={n}", f"load={load:g}"])


def capacity_stats(table: pd.DataFrame) -> pd.DataFrame:
    """Stats rows of the near-capacity series (module docstring); the gap needs one method of kind presyn and
    one of kind standard (the first of each kind in the table's order)."""
    rows = []
    kinds = table.drop_duplicates("method").set_index("method")["kind"]
    presyn = next((m for m, k in kinds.items() if k == "presyn"), None)
    standard = next((m for m, k in kinds.items() if k == "standard"), None)
    gaps: dict[int, pd.Series] = {}
    for n, g in table.groupby("n_patterns", sort=True):
        load = float(g["load"].iloc[0])
        for method, gm in g.groupby("method", sort=False):
            rows.append(
                stats.summary(
                    FIGURE,
                    f"{FIGURE}.final.{method}.patterns{n}",
                    gm["mean_accuracy"],
                    _groups(n, load, method=method, model=gm["kind"].iloc[0]),
                    "mean accuracy over all tasks after the last task",
                )
            )
        if presyn is None or standard is None:
            continue
        wide = g[g["method"].isin([presyn, standard])].pivot_table(
            index=["seed", "repetition"], columns="method", values="mean_accuracy"
        )
        wide = wide.dropna()
        gap = wide[presyn] - wide[standard]
        gaps[n] = gap
        rows.append(
            stats.summary(
                FIGURE,
                f"{FIGURE}.gap.patterns{n}",
                gap,
                _groups(n, load, a=presyn, b=standard),
                f"{presyn} - {standard}, mean accuracy over all tasks, per repetition (paired: same "
                f"patterns); mean +- SEM over repetitions",
            )
        )
        t = stats.ttest_paired(
            FIGURE,
            f"{FIGURE}.gap_ttest.patterns{n}",
            wide[presyn],
            wide[standard],
            _groups(n, load, a=presyn, b=standard),
        )
        rows.append(t)
    if len(gaps) >= 2:
        small, large = min(gaps), max(gaps)
        by_name = {r["name"]: r for r in rows}
        for label, n in (("smallest", small), ("largest", large)):
            row = by_name[f"{FIGURE}.gap.patterns{n}"]
            rows.append(
                {
                    **row,
                    "name": f"{FIGURE}.gap.{label}",
                    "detail": f"the gap at the {label} patterns per task ({n}); {row['detail']}",
                }
            )
        t = stats.ttest(
            FIGURE, f"{FIGURE}.gap_change", gaps[large], gaps[small], f"a=patterns{large};b=patterns{small}"
        )
        t["detail"] = (
            f"value = gap({large} patterns) - gap({small} patterns), per-repetition gaps, independent "
            f"t-test; {t['detail']}"
        )
        rows.append(t)
    return stats.frame(rows)
