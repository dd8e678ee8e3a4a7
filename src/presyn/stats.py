"""Statistics as tidy rows: every test with its name, statistic, p, n and groups.

All figures and the reproduction scorecard read these rows (``results/stats/<figure>.csv``);
nothing is computed in plotting code. Rows are keyed by a stable dotted ``name``
(e.g. ``fig1.best_mi_per_energy.presyn``), which ``config/published.yaml`` refers to.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

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
    return _row(
        figure,
        name,
        "summary",
        value=float(v.mean()) if len(v) else float("nan"),
        sem=sem(v),
        n=len(v),
        test="mean +- SEM",
        groups=groups,
        detail=detail,
    )


def _too_few(figure, name, test, groups, n, need) -> dict:
    msg = f"not enough replicates for {test}: n={n}, need >= {need}"
    log.warning("%s %s: %s", figure, name, msg)
    return _row(
        figure,
        name,
        "test",
        value=float("nan"),
        n=n,
        statistic=float("nan"),
        p_value=float("nan"),
        test=test,
        groups=groups,
        detail=msg,
    )


def ttest(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str, equal_var: bool = True) -> dict:
    """Independent two-sample t-test (scipy); value = mean(a) - mean(b)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    test = "independent t-test" if equal_var else "Welch t-test"
    if len(a) < 2 or len(b) < 2:
        return _too_few(figure, name, test, groups, len(a) + len(b), "2 per group")
    res = sps.ttest_ind(a, b, equal_var=equal_var)
    return _row(
        figure,
        name,
        "test",
        value=float(a.mean() - b.mean()),
        n=len(a) + len(b),
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        test=test,
        groups=groups,
        detail=f"n={len(a)} vs {len(b)}",
    )


def pearson(figure: str, name: str, x: Sequence[float], y: Sequence[float], groups: str = "") -> dict:
    """Pearson correlation (scipy); value = statistic = r."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 3:
        return _too_few(figure, name, "Pearson correlation", groups, len(x), 3)
    res = sps.pearsonr(x, y)
    return _row(
        figure,
        name,
        "test",
        value=float(res.statistic),
        n=len(x),
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        test="Pearson correlation",
        groups=groups,
    )


def ks_2samp(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str) -> dict:
    """Two-sample Kolmogorov-Smirnov test (scipy); value = statistic = D."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 1 or len(b) < 1:
        return _too_few(figure, name, "two-sample KS test", groups, len(a) + len(b), "1 per group")
    res = sps.ks_2samp(a, b)
    return _row(
        figure,
        name,
        "test",
        value=float(res.statistic),
        n=len(a) + len(b),
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        test="two-sample KS test",
        groups=groups,
        detail=f"n={len(a)} vs {len(b)}",
    )


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
    return _row(
        figure,
        name,
        "test",
        value=float((a - b).mean()),
        n=len(a),
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        test="paired t-test",
        groups=groups,
        detail=f"n={len(a)} pairs",
    )


def mannwhitney(figure: str, name: str, a: Sequence[float], b: Sequence[float], groups: str) -> dict:
    """Two-sided Mann-Whitney U test (scipy); value = median(a) - median(b), statistic = U."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if len(a) < 1 or len(b) < 1:
        return _too_few(figure, name, "Mann-Whitney U test", groups, len(a) + len(b), "1 per group")
    res = sps.mannwhitneyu(a, b, alternative="two-sided")
    return _row(
        figure,
        name,
        "test",
        value=float(np.median(a) - np.median(b)),
        n=len(a) + len(b),
        statistic=float(res.statistic),
        p_value=float(res.pvalue),
        test="Mann-Whitney U test",
        groups=groups,
        detail=f"n={len(a)} vs {len(b)}; value = difference of medians",
    )


# ----------------------------------------------------------------------------- issue 28: tests the scorecard applies
# to stats rows (summary rows: mean, SEM, n) and to raw data, each checked against scipy / statsmodels in
# tests/test_stats_equivalence.py.


def welch_from_stats(
    m1: float, s1: float, n1: int, m2: float, s2: float | None = None, n2: int | None = None
) -> tuple[float, float]:
    """(standard error, degrees of freedom) of m1 - m2 from two summary rows (mean, SEM, n), Welch-Satterthwaite.
    With ``n2`` None, m2 is a constant: se = s1, df = n1 - 1 (a one-sample test)."""
    if n2 is None:
        return float(s1), float(n1 - 1)
    se2 = s1**2 + s2**2
    denom = (s1**4 / (n1 - 1) if n1 > 1 else 0.0) + (s2**4 / (n2 - 1) if n2 > 1 else 0.0)
    return math.sqrt(se2), (se2**2 / denom if denom > 0 else float("nan"))


def one_sided_from_stats(
    m1: float, s1: float, n1: int, m2: float, s2: float | None = None, n2: int | None = None, margin: float = 0.0
) -> tuple[float, float, float]:
    """One-sided (Welch) t-test of H1: mean1 - mean2 > margin from summary rows; (t, df, p).
    ``n2`` None: mean2 is a constant (one-sample t-test of mean1 > m2 + margin over n1 replicates)."""
    se, df = welch_from_stats(m1, s1, n1, m2, s2, n2)
    if not (se > 0) or not np.isfinite(df):
        return float("nan"), df, float("nan")
    t = (m1 - m2 - margin) / se
    return float(t), float(df), float(sps.t.sf(t, df))


def two_sided_from_stats(
    m1: float, s1: float, n1: int, m2: float, s2: float | None = None, n2: int | None = None
) -> tuple[float, float, float]:
    """Two-sided (Welch) t-test of mean1 != mean2 from summary rows; (t, df, p); NaN t and p when undefined."""
    t, df, _ = one_sided_from_stats(m1, s1, n1, m2, s2, n2)
    return t, df, float(2 * sps.t.sf(abs(t), df)) if np.isfinite(t) else float("nan")


def tost_from_stats(
    m1: float, s1: float, n1: int, m2: float, s2: float | None = None, n2: int | None = None, margin: float = 0.0
) -> tuple[float, float, float, float]:
    """Two one-sided tests (TOST) of equivalence, |mean1 - mean2| < margin, from summary rows (Welch; with
    ``n2`` None a one-sample TOST against the constant m2). Returns (p, t_lower, t_upper, df); p = the larger of
    the two one-sided p-values (equivalent at level a iff p < a). Equals statsmodels' ttost_ind(usevar='unequal')
    (ttost_paired / one-sample for n2 None) on the raw data."""
    se, df = welch_from_stats(m1, s1, n1, m2, s2, n2)
    if not (se > 0) or not np.isfinite(df):
        return float("nan"), float("nan"), float("nan"), df
    d = m1 - m2
    t_low, t_upp = (d + margin) / se, (d - margin) / se
    p = max(float(sps.t.sf(t_low, df)), float(sps.t.cdf(t_upp, df)))
    return p, float(t_low), float(t_upp), float(df)


def tost_ind(a: Sequence[float], b: Sequence[float], margin: float) -> tuple[float, float, float, float]:
    """TOST on raw data (Welch): the summary rows of a and b through ``tost_from_stats``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return tost_from_stats(a.mean(), sem(a), len(a), b.mean(), sem(b), len(b), margin)


def fisher_z_distance(r1: float, n1: int, r2: float, n2: int) -> tuple[float, float]:
    """|atanh(r1) - atanh(r2)| and its standard error sqrt(1/(n1-3) + 1/(n2-3)) (two independent samples)."""
    return abs(math.atanh(r1) - math.atanh(r2)), math.sqrt(1.0 / (n1 - 3) + 1.0 / (n2 - 3))


def partial_pearson(x: Sequence[float], y: Sequence[float], z: Sequence[float]) -> tuple[float, float, int]:
    """Partial correlation of x and y controlling for z (the correlation of the residuals of x and y after least
    squares on z); p from t = r sqrt((n - 3) / (1 - r^2)) with n - 3 degrees of freedom (the same t as x's
    coefficient in the regression y ~ x + z). Returns (r, two-sided p, n)."""
    x, y, z = (np.asarray(v, float) for v in (x, y, z))
    Z = np.column_stack([np.ones_like(z), z])
    rx = x - Z @ np.linalg.lstsq(Z, x, rcond=None)[0]
    ry = y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]
    r = float(np.dot(rx, ry) / math.sqrt(np.dot(rx, rx) * np.dot(ry, ry)))
    n = len(x)
    t = r * math.sqrt((n - 3) / (1 - r * r))
    return r, float(2 * sps.t.sf(abs(t), n - 3)), n


def partial_pearson_row(figure: str, name: str, x, y, z, groups: str = "", detail: str = "") -> dict:
    """Stats row of ``partial_pearson``: value = statistic = partial r, p_value two-sided."""
    if len(x) < 4:
        return _too_few(figure, name, "partial Pearson correlation", groups, len(x), 4)
    r, p, n = partial_pearson(x, y, z)
    return _row(
        figure,
        name,
        "test",
        value=r,
        n=n,
        statistic=r,
        p_value=p,
        test="partial Pearson correlation",
        groups=groups,
        detail=detail,
    )
