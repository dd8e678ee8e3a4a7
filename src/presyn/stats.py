"""Statistics as tidy rows: every test with its name, statistic, p, n and groups.

All figures and the reproduction scorecard read these rows (``results/stats/<figure>.csv``);
nothing is computed in plotting code. Rows are keyed by a stable dotted ``name``
(e.g. ``fig1.best_mi_per_energy.presyn``), which ``config/published.yaml`` refers to.
"""

from __future__ import annotations

import logging
import math
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as sps

log = logging.getLogger(__name__)

COLUMNS = ["figure", "name", "kind", "value", "sem", "n", "statistic", "p_value", "test", "groups", "detail"]


def _row(figure: str, name: str, kind: str, **kw) -> dict:
    row = dict.fromkeys(COLUMNS, None)
    row.update(figure=figure, name=name, kind=kind, **kw)
    return row


def sem(values: Sequence[float]) -> float:
    """Standard error of the mean (ddof=1); NaN for fewer than two values."""
    v = np.asarray(values, dtype=float)
    return float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan")


def summary(figure: str, name: str, values: Sequence[float], groups: str = "", detail: str = "") -> dict:
    """Mean +- SEM over seeds (or any replicates)."""
    v = np.asarray(values, dtype=float)
    return _row(figure, name, "summary", value=float(v.mean()) if len(v) else float("nan"), sem=sem(v), n=len(v),
                test="mean +- SEM", groups=groups, detail=detail)


def _too_few(figure, name, test, groups, n, need) -> dict:
    msg = f"not enough replicates for {test}: n={n}, need >= {need}"
    log.warning("%s %s: %s", figure, name, msg)
    return _row(figure, name, "test", value=float("nan"), n=n, statistic=float("nan"), p_value=float("nan"),
                test=test, groups=groups, detail=msg)


def ttest(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str, equal_var: bool = True) -> dict:
    """Independent two-sample t-test (scipy); value = mean(a) - mean(b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    test = "independent t-test" if equal_var else "Welch t-test"
    if len(a) < 2 or len(b) < 2:
        return _too_few(figure, name, test, groups, len(a) + len(b), "2 per group")
    res = sps.ttest_ind(a, b, equal_var=equal_var)
    return _row(figure, name, "test", value=float(a.mean() - b.mean()), n=len(a) + len(b), statistic=float(res.statistic),
                p_value=float(res.pvalue), test=test, groups=groups, detail=f"n={len(a)} vs {len(b)}")


def pearson(figure: str, name: str, x: Sequence[float], y: Sequence[float], groups: str = "") -> dict:
    """Pearson correlation (scipy); value = statistic = r."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return _too_few(figure, name, "Pearson correlation", groups, len(x), 3)
    res = sps.pearsonr(x, y)
    return _row(figure, name, "test", value=float(res.statistic), n=len(x), statistic=float(res.statistic),
                p_value=float(res.pvalue), test="Pearson correlation", groups=groups)


def ks_2samp(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str) -> dict:
    """Two-sample Kolmogorov-Smirnov test (scipy); value = statistic = D."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 1 or len(b) < 1:
        return _too_few(figure, name, "two-sample KS test", groups, len(a) + len(b), "1 per group")
    res = sps.ks_2samp(a, b)
    return _row(figure, name, "test", value=float(res.statistic), n=len(a) + len(b), statistic=float(res.statistic),
                p_value=float(res.pvalue), test="two-sample KS test", groups=groups, detail=f"n={len(a)} vs {len(b)}")


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


def ttest_paired(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str) -> dict:
    """Paired t-test (scipy ttest_rel), e.g. two conditions on the same seeds; value = mean(a - b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) != len(b):
        raise ValueError(f"{name}: paired t-test needs equal lengths, got {len(a)} and {len(b)}")
    if len(a) < 2:
        return _too_few(figure, name, "paired t-test", groups, len(a), 2)
    res = sps.ttest_rel(a, b)
    return _row(figure, name, "test", value=float((a - b).mean()), n=len(a), statistic=float(res.statistic),
                p_value=float(res.pvalue), test="paired t-test", groups=groups, detail=f"n={len(a)} pairs")


def mannwhitney(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str) -> dict:
    """Two-sided Mann-Whitney U test (scipy); value = median(a) - median(b), statistic = U."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 1 or len(b) < 1:
        return _too_few(figure, name, "Mann-Whitney U test", groups, len(a) + len(b), "1 per group")
    res = sps.mannwhitneyu(a, b, alternative="two-sided")
    return _row(figure, name, "test", value=float(np.median(a) - np.median(b)), n=len(a) + len(b),
                statistic=float(res.statistic), p_value=float(res.pvalue), test="Mann-Whitney U test", groups=groups,
                detail=f"n={len(a)} vs {len(b)}; value = difference of medians")
