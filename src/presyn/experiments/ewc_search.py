"""EWC's settings by a search that never reads the test set (docs/protocol.md#ewc).

No code of the authors' EWC is public, so its optimiser, learning rate, lambda and Fisher are chosen here,
per benchmark, on held-out training data (the last ``holdout`` training items; ``presyn.data.load_processed``
then never reads the test split). Two stages keep the cost bounded:

1. **screen**: every grid point (optimiser x lr, lambda, Fisher, optimiser reset at task boundaries; the
   reset only for Adam, whose moments it clears) at a cheaper protocol (``screen.epochs_per_task``,
   ``screen.n_tasks``), one seed;
2. **confirm**: the ``confirm_top`` best screened points per benchmark at the full protocol, same held-out data.

The choice per benchmark is the confirmed point with the highest held-out mean accuracy over tasks after the
last task; ties go to the smaller lambda, then the cheaper Fisher (empirical), then no reset, then grid order.
Runs that diverge (non-finite loss) score NaN and are never chosen. The choice is copied by hand into
``lifelong.methods.ewc.per_benchmark`` (config/README.md records grid, scores and choice).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

STAGES = ("screen", "confirm")
POINT_KEYS = ("optimizer", "lr", "ewc_lambda", "fisher", "reset_optimizer")


def grid_points(search: dict) -> list[dict]:
    """Every grid point, in a fixed order; ``reset_optimizer`` true only with Adam (SGD keeps no state)."""
    grid = search["grid"]
    points = []
    for (opt, lr), lam, fisher, reset in itertools.product(grid["optimizer_lr"], grid["ewc_lambda"], grid["fisher"],
                                                            grid["reset_optimizer"]):
        if reset and opt != "adam":
            continue
        points.append({"optimizer": str(opt), "lr": float(lr), "ewc_lambda": float(lam), "fisher": str(fisher),
                       "reset_optimizer": bool(reset)})
    return points


def point_label(point: dict) -> str:
    """A path-safe spelling of one grid point, e.g. 'adam0.001_lam100_exact_reset'."""
    from presyn.plan import fmt_number

    return (f"{point['optimizer']}{fmt_number(point['lr'])}_lam{fmt_number(point['ewc_lambda'])}_{point['fisher']}"
            + ("_reset" if point["reset_optimizer"] else ""))


def method_for(stage: str, point: dict) -> str:
    return f"ewcsearch-{stage}_{point_label(point)}"


def plan_search_runs(config: dict, sec: dict, spec_for) -> list[dict]:
    """Screen and confirm specs of every benchmark x grid point x search seed (all planned, so that the
    confirm stage can request any of them once the screen is scored). ``spec_for(method, benchmark, seed,
    model)`` builds a lifelong spec; the search keys are added here."""
    search = sec.get("ewc_search")
    if not search or "ewc" not in sec["methods"]:
        return []
    base = sec["methods"]["ewc"]
    runs = []
    for benchmark in search.get("benchmarks") or sec["benchmarks"]:
        kind = "split" if benchmark.startswith("split_") else "perm"
        for (index, point), stage, seed in itertools.product(enumerate(grid_points(search)), STAGES, search["seeds"]):
            model = {**base["model"], **((base.get("per_benchmark") or {}).get(benchmark) or {}), **point}
            spec = spec_for(method_for(stage, point), benchmark, seed, model)
            spec.update(holdout=int(search["holdout"]), eval_every=0, task_end_eval=False,
                        search={"stage": stage, "point": point, "label": point_label(point), "index": index})
            if stage == "screen":
                spec.update(epochs_per_task=int(search["screen"]["epochs_per_task"]),
                            n_tasks=min(int(spec["n_tasks"]), int(search["screen"]["n_tasks"][kind])))
            runs.append(spec)
    return runs


def _tie_order(df: pd.DataFrame) -> pd.DataFrame:
    """Sort best first: score descending, then smaller lambda, empirical Fisher, no reset, grid order."""
    keyed = df.assign(_neg=-df["score"].fillna(-np.inf), _emp=(df["fisher"] != "empirical").astype(int),
                      _reset=df["reset_optimizer"].astype(int))
    return keyed.sort_values(["benchmark", "_neg", "ewc_lambda", "_emp", "_reset", "grid_index"], kind="mergesort") \
                .drop(columns=["_neg", "_emp", "_reset"])


def scores_table(rows: list[dict]) -> pd.DataFrame:
    """rows: {benchmark, stage, seed, score, diverged, grid_index, **point} -> mean over seeds per stage x point."""
    df = pd.DataFrame(rows)
    keys = ["benchmark", "stage", "grid_index", *POINT_KEYS]
    out = df.groupby(keys, dropna=False).agg(score=("score", "mean"), n_seeds=("seed", "count"),
                                             diverged=("diverged", "max")).reset_index()
    return out


def top_points(screen: pd.DataFrame, k: int) -> pd.DataFrame:
    """The ``k`` best screened points per benchmark (diverged runs last; ties as ``_tie_order``)."""
    ranked = _tie_order(screen[screen["stage"] == "screen"])
    ranked = ranked[np.isfinite(ranked["score"])]
    return ranked.groupby("benchmark", sort=False).head(k).reset_index(drop=True)


def choose(confirm: pd.DataFrame) -> pd.DataFrame:
    """The chosen point per benchmark: best confirmed held-out score (ties as ``_tie_order``)."""
    ranked = _tie_order(confirm[(confirm["stage"] == "confirm") & np.isfinite(confirm["score"])])
    return ranked.groupby("benchmark", sort=False).head(1).reset_index(drop=True)
