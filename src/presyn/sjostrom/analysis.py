"""App. fig 4 statistics: do synapses with a higher initial release probability change less?

As the paper states it (App. fig 4 caption: "synapses with higher release probabilities undergo smaller
relative changes in expected strength"): per synapse x = Pr before, y = |w_after / w_before - 1|, the size
of the relative change of the expected strength w = Pr * q; Pearson r and p pooled over all synapses
(published r = -0.4416, p < 0.01; n = 44) and within LTP and within LTD (the main text: "for both LTP and LTD").

Clearly labelled extras (not the published quantity):
- the signed relative change w_after / w_before - 1 (``pearson_signed``; r = -0.334 pooled, not the published value);
- a shuffle control: Pr before also sits in the denominator of y, so some negative r is built in even if the
  after-strengths had nothing to do with Pr. The after-strengths are permuted across synapses (within the
  group for the group rows) ``n_shuffle`` times, which keeps both marginals but breaks any link between a
  synapse's change and its Pr; rows give the mean and spread of that null r and the two-sided permutation p
  of the observed r about the null mean ((k + 1) / (n + 1)), and (issue 28) the one-sided p of the observed r
  below the null (``shuffle_p_below``: the test of "more than the coupling builds in");
- (issue 28) the partial correlation of Pr before with the size of the change controlling for w_before
  (``partial_r.{all,ltp,ltd}``): y = |w_after - w_before| / w_before divides by a strength that grows with Pr, so
  the raw r mixes that coupling with any real link; the partial r asks whether Pr still predicts the change
  among synapses of the same initial strength.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from presyn import stats

FIGURE = "appfig4"
SUBSETS = ("all", "ltp", "ltd")


def rowwise_pearson(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson r of one x against each row of ys (n_rows x n)."""
    xc = x - x.mean()
    yc = ys - ys.mean(axis=1, keepdims=True)
    return (yc @ xc) / (np.sqrt((yc**2).sum(axis=1)) * np.sqrt((xc**2).sum()))


def shuffle_null(
    p_before: np.ndarray, s_before: np.ndarray, s_after: np.ndarray, n_shuffle: int, rng: np.random.Generator
) -> np.ndarray:
    """r(Pr before, |s_after[perm] / s_before - 1|) for ``n_shuffle`` random permutations of the after-strengths."""
    n = len(p_before)
    perms = rng.permuted(np.tile(np.arange(n), (n_shuffle, 1)), axis=1)
    sizes = np.abs(np.asarray(s_after, float)[perms] / np.asarray(s_before, float) - 1)
    return rowwise_pearson(np.asarray(p_before, float), sizes)


def _subset(rec: pd.DataFrame, key: str) -> pd.DataFrame:
    return rec if key == "all" else rec[rec["group"] == key]


def _shuffle_rows(
    key: str, sub: pd.DataFrame, r_obs: float, n_shuffle: int, seed: int, rng: np.random.Generator
) -> list[dict]:
    null = shuffle_null(
        sub["P_before"].to_numpy(float),
        sub["strength_before"].to_numpy(float),
        sub["strength_after"].to_numpy(float),
        n_shuffle,
        rng,
    )
    null = null[np.isfinite(null)]
    mean, sd = float(null.mean()), float(null.std(ddof=1))
    q025, q975 = (float(v) for v in np.quantile(null, [0.025, 0.975]))
    k_two = int(np.sum(np.abs(null - mean) >= abs(r_obs - mean)))
    k_low = int(np.sum(null <= r_obs))
    p_two = (k_two + 1) / (len(null) + 1)
    sfx = "" if key == "all" else f".{key}"
    groups = f"group={key};control=shuffle"
    test = "extra: permutation of after-strengths across synapses (size of change)"
    spread = f"null r: sd={sd:.4f}, 2.5%={q025:.4f}, 97.5%={q975:.4f}, n_shuffle={len(null)}, seed={seed}"
    f = FIGURE
    return [
        stats._row(
            f,
            f"{f}.shuffle_null_r{sfx}",
            "summary",
            value=mean,
            sem=sd / np.sqrt(len(null)),
            n=len(null),
            test=test,
            groups=groups,
            detail=spread,
        ),
        stats._row(f, f"{f}.shuffle_null_sd{sfx}", "summary", value=sd, n=len(null), test=test, groups=groups),
        stats._row(f, f"{f}.shuffle_null_q025{sfx}", "summary", value=q025, n=len(null), test=test, groups=groups),
        stats._row(f, f"{f}.shuffle_null_q975{sfx}", "summary", value=q975, n=len(null), test=test, groups=groups),
        stats._row(
            f,
            f"{f}.shuffle_p{sfx}",
            "test",
            value=p_two,
            n=len(sub),
            statistic=r_obs,
            p_value=p_two,
            test=test + " (two-sided about the null mean)",
            groups=groups,
            detail=f"observed r={r_obs:.4f} vs {spread}; one-sided p(null r <= observed) = {(k_low + 1) / (len(null) + 1):.4g}",
        ),
        stats._row(
            f,
            f"{f}.r_minus_null{sfx}",
            "summary",
            value=r_obs - mean,
            sem=sd,
            n=len(sub),
            test="extra: observed r - mean shuffle-null r (sem column = null sd)",
            groups=groups,
        ),
        # issue 28: the one-sided permutation test the scorecard judges (is r more negative than coupling alone gives?)
        stats._row(
            f,
            f"{f}.shuffle_p_below{sfx}",
            "test",
            value=(k_low + 1) / (len(null) + 1),
            n=len(sub),
            statistic=r_obs - mean,
            p_value=(k_low + 1) / (len(null) + 1),
            test="permutation test, one-sided: observed r below the shuffle null (statistic = observed r - null mean)",
            groups=groups,
            detail=f"observed r={r_obs:.4f}; {spread}",
        ),
    ]


def appfig4_stats(rec: pd.DataFrame, n_shuffle: int = 10000, seed: int = 2019) -> pd.DataFrame:
    """Stats rows from the tidy recordings table (``presyn.sjostrom.parse.RECORDING_COLUMNS``).

    Names: ``appfig4.n_recordings.{all,ltp,ltd}``; ``appfig4.pearson.{all,ltp,ltd}`` (x = Pr before,
    y = size of the relative change: the published quantity); ``appfig4.regression.{slope,intercept}``
    (least squares of that y on x, all synapses: the figure's line); ``appfig4.rel_change_size.{ltp,ltd}``
    (mean +- SEM of y); extras ``appfig4.pearson_signed.{all,ltp,ltd}`` and the shuffle control
    ``appfig4.shuffle_{null_r,null_sd,null_q025,null_q975,p}[.ltp|.ltd]``, ``appfig4.r_minus_null[...]``.
    """
    rng = np.random.default_rng(seed)
    f = FIGURE
    rows = []
    for key in SUBSETS:
        sub = _subset(rec, key)
        groups = f"group={key}"
        x, size, signed = (sub[c].to_numpy(float) for c in ("P_before", "rel_change_size", "rel_change"))
        rows.append(
            stats._row(
                f,
                f"{f}.n_recordings.{key}",
                "summary",
                value=float(len(sub)),
                n=len(sub),
                test="count",
                groups=groups,
                detail=f"{len(sub)} synapses",
            )
        )
        pear = stats.pearson(f, f"{f}.pearson.{key}", x, size, groups)
        pear["detail"] = (
            pear.get("detail")
            or "x = Pr before, y = |w_after / w_before - 1| (size of the relative change of w = Pr q)"
        )
        rows.append(pear)
        signed_row = stats.pearson(f, f"{f}.pearson_signed.{key}", x, signed, groups)
        signed_row["detail"] = (
            signed_row.get("detail") or "extra: y = w_after / w_before - 1 (signed); not the published quantity"
        )
        rows.append(signed_row)
        if key != "all":
            rows.append(stats.summary(f, f"{f}.rel_change_size.{key}", size, groups, detail="|w_after / w_before - 1|"))
        if len(sub) < 3:
            continue
        if key == "all":
            fit = sps.linregress(x, size)
            rows.append(
                stats._row(
                    f,
                    f"{f}.regression.slope",
                    "test",
                    value=float(fit.slope),
                    sem=float(fit.stderr),
                    n=len(x),
                    statistic=float(fit.slope),
                    p_value=float(fit.pvalue),
                    test="least-squares regression of |relative change| on Pr before",
                    groups=groups,
                )
            )
            rows.append(
                stats._row(
                    f,
                    f"{f}.regression.intercept",
                    "test",
                    value=float(fit.intercept),
                    sem=float(fit.intercept_stderr),
                    n=len(x),
                    test="least-squares regression",
                    groups=groups,
                )
            )
        rows += _shuffle_rows(key, sub, float(pear["value"]), n_shuffle, seed, rng)
        rows.append(
            stats.partial_pearson_row(
                f,
                f"{f}.partial_r.{key}",
                x,
                size,
                sub["strength_before"].to_numpy(float),
                groups,
                detail="partial r(Pr before, |w_after / w_before - 1| | w_before): the link beyond the division by w_before",
            )
        )
    return stats.frame(rows)
