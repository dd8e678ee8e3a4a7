"""Lifelong learning: runs -> tidy tables -> stats for Fig 4, App. fig 3, App. table 1
(docs/protocol.md#lifelong-learning-common-protocol).

Tables (results/tables/):
  lifelong_epochs.csv  one row per run x epoch x task: test_accuracy, plus per run x epoch (task "all"):
                       current_task, train_loss, mean_p, fraction_frozen (long format, as metrics.parquet)
  lifelong_final.csv   one row per run x task: final test accuracy; task "all" = mean over tasks
Stats names (accuracies are fractions in [0, 1]; config/published.yaml refers to these):
  apptable1.<benchmark>.<method>                 mean +- SEM over seeds of the final mean accuracy
  apptable1.ttest.<benchmark>.presyn_vs_<method> independent t-test (value = presyn - other)
  fig4.task1_accuracy.<method>.e<epoch>          task-1 accuracy after each epoch (Fig 4b)
  fig4.task1_final.<method>                      task-1 accuracy after the last task
  fig4.task1_learned.<method>                    task-1 accuracy at the end of training on task 1 (curve methods)
  fig4.final_mean_accuracy.<benchmark>.<method>  as apptable1 for the Fig 4 benchmark (Fig 4c bars)
  fig4.ttest.<benchmark>.presyn_vs_<method>      Fig 4c stars
  appfig3.final_accuracy.<method>.task<t>        App. fig 3a
  appfig3.mean_p.e<epoch>, appfig3.fraction_frozen.e<epoch>, appfig3.{mean_p,fraction_frozen}.{first,last}
  appfig3.frozen_increment.task<k>, .smallest    newly frozen fraction per task, per seed (issue 28)
  fig4.task1_after.<method>, fig4.task1_after.presyn_vs_<method>  mean task-1 accuracy after task 1, per seed (issue 28)
"""

from __future__ import annotations

import pandas as pd

from presyn import stats
from presyn.analysis.collect import check_single_config, read_metrics
from presyn.curves import FIG4B_BENCHMARK, FIG4B_CURVE_METHODS

KEYS = ["method", "benchmark", "seed"]
EPOCH_METRICS = ("test_accuracy", "current_task", "train_loss", "mean_p", "fraction_frozen")


def collect(metric_paths: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-epoch long table, final per-task table) from the lifelong runs' metrics.parquet files."""
    df = read_metrics(metric_paths)
    check_single_config(df, "lifelong runs", by=["method", "benchmark"])
    epochs = df[df["metric"].isin(EPOCH_METRICS)][[*KEYS, "epoch", "task", "metric", "value"]]
    epochs = epochs.sort_values([*KEYS, "metric", "epoch", "task"]).reset_index(drop=True)
    last = df["epoch"] == df.groupby(KEYS)["epoch"].transform("max")
    final_task = df[last & (df["metric"] == "test_accuracy")][[*KEYS, "task", "value"]].rename(
        columns={"value": "accuracy"}
    )
    final_mean = df[df["metric"] == "mean_accuracy"][[*KEYS, "task", "value"]].rename(columns={"value": "accuracy"})
    final = pd.concat([final_task, final_mean], ignore_index=True).sort_values([*KEYS, "task"]).reset_index(drop=True)
    return epochs, final


def _mean_acc(final: pd.DataFrame) -> pd.DataFrame:
    return final[final["task"] == "all"]


def _ttests(figure: str, prefix: str, means: pd.DataFrame, benchmark: str) -> list[dict]:
    rows = []
    g = means[means["benchmark"] == benchmark]
    ref = g[g["method"] == "presyn"]["accuracy"]
    if ref.empty:
        return rows
    for method in sorted(set(g["method"]) - {"presyn"}):
        rows.append(
            stats.ttest(
                figure,
                f"{prefix}.{benchmark}.presyn_vs_{method}",
                ref,
                g[g["method"] == method]["accuracy"],
                f"benchmark={benchmark};a=presyn;b={method}",
            )
        )
    return rows


def apptable1_stats(final: pd.DataFrame, figure: str = "apptable1") -> pd.DataFrame:
    """Mean +- SEM of the final mean accuracy per method x benchmark (+ t-tests presyn vs each)."""
    means = _mean_acc(final)
    rows = []
    for (benchmark, method), g in means.groupby(["benchmark", "method"]):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.{benchmark}.{method}",
                g["accuracy"],
                f"benchmark={benchmark};method={method}",
                detail="mean test accuracy over tasks after the last task",
            )
        )
    for benchmark in sorted(set(means["benchmark"])):
        rows += _ttests(figure, f"{figure}.ttest", means, benchmark)
    return stats.frame(rows)


def fig4_stats(
    epochs: pd.DataFrame,
    final: pd.DataFrame,
    benchmark: str = FIG4B_BENCHMARK,
    figure: str = "fig4",
    curve_methods: tuple[str, ...] = FIG4B_CURVE_METHODS,
) -> pd.DataFrame:
    """Fig 4b: task-1 accuracy after every epoch (curve methods); Fig 4c: final mean accuracy per method, t-tests."""
    rows = []
    e = epochs[(epochs["benchmark"] == benchmark) & (epochs["metric"] == "test_accuracy") & (epochs["task"] == "1")]
    for (method, epoch), g in e.groupby(["method", "epoch"]):
        if method in curve_methods:
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.task1_accuracy.{method}.e{epoch}",
                    g["value"],
                    f"benchmark={benchmark};method={method};epoch={epoch}",
                )
            )
    rows += _task1_learned(figure, epochs, benchmark, curve_methods)
    rows += _task1_after(figure, epochs, benchmark, curve_methods)
    fin = final[(final["benchmark"] == benchmark) & (final["task"] == "1")]
    for method, g in fin.groupby("method"):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.task1_final.{method}",
                g["accuracy"],
                f"benchmark={benchmark};method={method}",
                detail="task-1 accuracy after the last task",
            )
        )
    means = _mean_acc(final)
    for method, g in means[means["benchmark"] == benchmark].groupby("method"):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.final_mean_accuracy.{benchmark}.{method}",
                g["accuracy"],
                f"benchmark={benchmark};method={method}",
            )
        )
    rows += _ttests(figure, f"{figure}.ttest", means, benchmark)
    return stats.frame(rows)


def _task1_learned(figure: str, epochs: pd.DataFrame, benchmark: str, curve_methods: tuple[str, ...]) -> list[dict]:
    """Fig 4b "both models learn the first task": per curve method, task-1 test accuracy at the last epoch
    trained on task 1 (read from each run's ``current_task``), mean +- SEM over seeds."""
    b = epochs[epochs["benchmark"] == benchmark]
    on_task1 = b[(b["metric"] == "current_task") & (b["value"] == 1)]
    end = on_task1.groupby(KEYS)["epoch"].max().rename("end").reset_index()
    acc = b[(b["metric"] == "test_accuracy") & (b["task"] == "1")].merge(end, on=KEYS)
    acc = acc[acc["epoch"] == acc["end"]]
    rows = []
    for method, g in acc.groupby("method"):
        if method in curve_methods:
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.task1_learned.{method}",
                    g["value"],
                    f"benchmark={benchmark};method={method}",
                    detail="task-1 accuracy at the end of training on task 1",
                )
            )
    return rows


def _task1_after(figure: str, epochs: pd.DataFrame, benchmark: str, curve_methods: tuple[str, ...]) -> list[dict]:
    """Fig 4b "forgets more quickly" as the curve (issue 28): per run, the mean task-1 test accuracy over every epoch
    after task 1 (``current_task`` > 1), the area under the forgetting curve per epoch; mean +- SEM over seeds per
    curve method, and the independent t-test over seeds, presyn vs each other curve method (value = presyn - other)."""
    b = epochs[epochs["benchmark"] == benchmark]
    later = b[(b["metric"] == "current_task") & (b["value"] > 1)][KEYS + ["epoch"]]
    acc = b[(b["metric"] == "test_accuracy") & (b["task"] == "1")].merge(later, on=KEYS + ["epoch"])
    acc = acc[acc["method"].isin(curve_methods)]
    if acc.empty:
        return []
    per_run = acc.groupby(KEYS)["value"].mean().rename("after").reset_index()
    rows = []
    for method, g in per_run.groupby("method"):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.task1_after.{method}",
                g["after"],
                f"benchmark={benchmark};method={method}",
                detail="per seed: mean task-1 accuracy over the epochs after task 1 (area under the forgetting curve per epoch)",
            )
        )
    ref = per_run[per_run["method"] == "presyn"]["after"]
    for method in sorted(set(per_run["method"]) - {"presyn"}):
        if len(ref):
            rows.append(
                stats.ttest(
                    figure,
                    f"{figure}.task1_after.presyn_vs_{method}",
                    ref,
                    per_run[per_run["method"] == method]["after"],
                    f"benchmark={benchmark};a=presyn;b={method}",
                )
            )
    return rows


def frozen_increments(epochs: pd.DataFrame, benchmark: str = "perm_mnist", figure: str = "appfig3") -> list[dict]:
    """App. fig 3b per task (issue 28): per seed, the fraction of synapses newly frozen during task k = fraction frozen
    at the last epoch of task k minus that at the last epoch of task k - 1 (0 before task 1; tasks from
    ``current_task``); mean +- SEM over seeds per task (``<figure>.frozen_increment.task<k>``) and the task with the
    smallest mean increment again as ``<figure>.frozen_increment.smallest`` (the claim's hardest case)."""
    b = epochs[(epochs["benchmark"] == benchmark) & (epochs["method"] == "presyn")]
    task = b[b["metric"] == "current_task"][["seed", "epoch", "value"]].rename(columns={"value": "task"})
    frozen = b[b["metric"] == "fraction_frozen"][["seed", "epoch", "value"]].merge(task, on=["seed", "epoch"])
    if frozen.empty:
        return []
    end = frozen.sort_values("epoch").groupby(["seed", "task"]).tail(1).sort_values(["seed", "task"])
    end["increment"] = end.groupby("seed")["value"].diff().fillna(end["value"])
    rows = []
    for t, g in end.groupby("task"):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.frozen_increment.task{int(t)}",
                g["increment"],
                f"benchmark={benchmark};method=presyn;task={int(t)}",
                detail=f"per seed: fraction frozen at the end of task {int(t)} minus at the end of the task before",
            )
        )
    if rows:
        small = dict(min(rows, key=lambda r: r["value"]))
        small["name"] = f"{figure}.frozen_increment.smallest"
        small["detail"] = (
            f"the task with the smallest mean increment: {small['groups'].split('task=')[-1]}; " + small["detail"]
        )
        rows.append(small)
    return rows


def appfig3_stats(
    epochs: pd.DataFrame,
    final: pd.DataFrame,
    split_benchmark: str = "split_mnist",
    perm_benchmark: str = "perm_mnist",
    figure: str = "appfig3",
) -> pd.DataFrame:
    """(a) final accuracy per task per method on Split MNIST; (b) mean p and fraction frozen per epoch (presyn, perm. MNIST)."""
    rows = []
    fin = final[(final["benchmark"] == split_benchmark) & (final["task"] != "all")]
    for (method, task), g in fin.groupby(["method", "task"]):
        rows.append(
            stats.summary(
                figure,
                f"{figure}.final_accuracy.{method}.task{task}",
                g["accuracy"],
                f"benchmark={split_benchmark};method={method};task={task}",
            )
        )
    syn = epochs[
        (epochs["benchmark"] == perm_benchmark)
        & (epochs["method"] == "presyn")
        & epochs["metric"].isin(["mean_p", "fraction_frozen", "current_task"])
    ]
    if not syn.empty:
        first, last = syn["epoch"].min(), syn["epoch"].max()
        for (metric, epoch), g in syn.groupby(["metric", "epoch"]):
            rows.append(
                stats.summary(
                    figure,
                    f"{figure}.{metric}.e{epoch}",
                    g["value"],
                    f"benchmark={perm_benchmark};method=presyn;metric={metric};epoch={epoch}",
                )
            )
            if metric != "current_task" and epoch in (first, last):
                which = "first" if epoch == first else "last"
                rows.append(
                    stats.summary(
                        figure,
                        f"{figure}.{metric}.{which}",
                        g["value"],
                        f"benchmark={perm_benchmark};method=presyn;metric={metric};epoch={epoch}",
                        detail=f"after the {which} epoch",
                    )
                )
    rows += frozen_increments(epochs, perm_benchmark, figure)
    return stats.frame(rows)


def ewc_search_rows(metric_paths: list[str], specs: dict[str, dict]) -> list[dict]:
    """One row per EWC search run: benchmark, stage, seed, grid point, held-out score (mean accuracy over
    tasks after the last task; NaN if the run diverged)."""
    df = read_metrics(metric_paths)
    by_run = {(s["method"], s["benchmark"], s["seed"]): s for s in specs.values()}
    rows = []
    for (method, benchmark, seed), g in df.groupby(["method", "benchmark", "seed"]):
        spec = by_run[(method, benchmark, seed)]
        values = dict(zip(g["metric"], g["value"]))
        rows.append(
            {
                "benchmark": benchmark,
                "stage": spec["search"]["stage"],
                "seed": int(seed),
                "grid_index": int(spec["search"]["index"]),
                **spec["search"]["point"],
                "epochs_per_task": spec["epochs_per_task"],
                "n_tasks": spec["n_tasks"],
                "score": float(values.get("mean_accuracy", float("nan"))),
                "diverged": bool(values.get("diverged", 0.0)),
            }
        )
    return rows


def bgd_evidence_table(metric_paths: list[str], labels: dict[str, str], fork_logs: dict) -> pd.DataFrame:
    """Per run (method x seed): final accuracy of every task and their mean, beside the fork's logged runs.

    ``labels``: method -> what the variant is; ``fork_logs``: config/reference/bgd_fork_logs.yaml (per-task
    accuracies of the fork's committed logs, in %)."""
    df = read_metrics(metric_paths)
    rows = []
    for (method, seed), g in df.groupby(["method", "seed"]):
        last = g[g["metric"] == "test_accuracy"]
        last = last[last["epoch"] == last["epoch"].max()]
        tasks = {f"task{int(t)}": 100 * float(v) for t, v in zip(last["task"], last["value"])}
        mean = 100 * float(g.loc[g["metric"] == "mean_accuracy", "value"].iloc[0])
        rows.append(
            {
                "source": "ours",
                "run": f"{method}/seed{seed}",
                "setting": labels.get(method, method),
                "mean_accuracy": mean,
                **dict(sorted(tasks.items(), key=lambda kv: int(kv[0][4:]))),
            }
        )
    for log in fork_logs.get("runs", []):
        tasks = {f"task{i + 1}": float(v) for i, v in enumerate(log.get("tasks") or [])}
        rows.append(
            {
                "source": "fork log",
                "run": log["log"],
                "setting": log["setting"],
                "mean_accuracy": float(log["mean"]),
                **tasks,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ App. table 1
def published_apptable1(published: dict) -> dict[tuple[str, str], tuple[float, float | None]]:
    """(benchmark, method) -> (published %, published SEM %) from config/published.yaml's numbers
    (ids apptable1.<benchmark>.<method> and continuous_perm_mnist.presyn, the latter given as a fraction)."""
    out = {}
    for row in published.get("numbers", []):
        rid = row.get("id", "")
        scale = 100.0 if row.get("unit") == "fraction" else 1.0
        sem = row.get("published_sem")
        value = (float(row["published"]) * scale, None if sem is None else float(sem) * scale)
        if rid.startswith("apptable1.") and rid.count(".") == 2:
            _, benchmark, method = rid.split(".")
            out[(benchmark, method)] = value
        elif rid == "continuous_perm_mnist.presyn":
            out[("cont_perm_mnist", "presyn")] = value
    return out


def apptable1(
    stats_df: pd.DataFrame, published: dict, methods: list[str], benchmarks: list[str]
) -> tuple[pd.DataFrame, str]:
    """App. table 1 as a tidy csv frame (percent) and a markdown table; published values only in 'published'."""
    pub = published_apptable1(published)
    summ = stats_df[(stats_df["kind"] == "summary")]
    rows = []
    for method in methods:
        for benchmark in benchmarks:
            r = summ[summ["name"] == f"apptable1.{benchmark}.{method}"]
            if r.empty:
                continue
            r = r.iloc[0]
            p = pub.get((benchmark, method), (float("nan"), None))
            rows.append(
                {
                    "method": method,
                    "benchmark": benchmark,
                    "mean_accuracy_percent": 100 * float(r["value"]),
                    "sem_percent": 100 * float(r["sem"]) if pd.notna(r["sem"]) else float("nan"),
                    "n": int(r["n"]),
                    "published": p[0],
                }
            )
    table = pd.DataFrame(
        rows, columns=["method", "benchmark", "mean_accuracy_percent", "sem_percent", "n", "published"]
    )
    return table, markdown(table, pub)


def _fmt(mean: float, sem: float) -> str:
    if pd.isna(mean):
        return "-"
    return f"{mean:.2f} ± {sem:.2f}" if pd.notna(sem) else f"{mean:.2f}"


def markdown(table: pd.DataFrame, pub: dict) -> str:
    from presyn.plotting import label

    benchmarks = list(dict.fromkeys(table["benchmark"]))
    head = "| method | " + " | ".join(f"{b} (ours) | {b} (published)" for b in benchmarks) + " |"
    sep = "|---|" + "---|---|" * len(benchmarks)
    lines = [
        "# Appendix 1-table 1: mean test accuracy over all tasks after the last task (%)",
        "",
        "Ours: mean ± SEM over seeds (n per cell in figures/apptable1.csv). Published: Schug et al. 2021, "
        "App. 1-table 1 (the paper's ± read as SEM); cont_perm_mnist from the Methods text.",
        "",
        head,
        sep,
    ]
    for method in dict.fromkeys(table["method"]):
        cells = []
        for b in benchmarks:
            r = table[(table["method"] == method) & (table["benchmark"] == b)]
            ours = _fmt(r["mean_accuracy_percent"].iloc[0], r["sem_percent"].iloc[0]) if len(r) else "-"
            p = pub.get((b, method))
            cells.append(f"{ours} | {_fmt(p[0], p[1]) if p else '-'}")
        lines.append(f"| {label(method)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
