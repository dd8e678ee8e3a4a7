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

import numpy as np
import pandas as pd

from presyn.planning.ewc_search import POINT_KEYS, STAGES  # noqa: F401  (the grid and both stages' runs are planned there)


def _tie_order(df: pd.DataFrame) -> pd.DataFrame:
    """Sort best first: score descending, then smaller lambda, empirical Fisher, no reset, grid order."""
    keyed = df.assign(
        _neg=-df["score"].fillna(-np.inf),
        _emp=(df["fisher"] != "empirical").astype(int),
        _reset=df["reset_optimizer"].astype(int),
    )
    return keyed.sort_values(
        ["benchmark", "_neg", "ewc_lambda", "_emp", "_reset", "grid_index"], kind="mergesort"
    ).drop(columns=["_neg", "_emp", "_reset"])


def scores_table(rows: list[dict]) -> pd.DataFrame:
    """rows: {benchmark, stage, seed, score, diverged, grid_index, **point} -> mean over seeds per stage x point."""
    df = pd.DataFrame(rows)
    keys = ["benchmark", "stage", "grid_index", *POINT_KEYS]
    out = (
        df.groupby(keys, dropna=False)
        .agg(score=("score", "mean"), n_seeds=("seed", "count"), diverged=("diverged", "max"))
        .reset_index()
    )
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
