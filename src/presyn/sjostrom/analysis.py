"""App. fig 4 statistics: is the relative change in expected strength smaller for high initial P?

x = P before induction, y = (P_after q_after) / (P_before q_before) - 1 per recording; Pearson r and p
over all recordings and per LTP / LTD group (published: r = -0.4416, p < 0.01, all recordings).

P_before appears on both axes (y divides by P_before q_before), so some negative r is built in even if
the after-values had nothing to do with P. The shuffle control measures it: the after-strengths are
permuted across recordings (within the group for the group rows) ``n_shuffle`` times, which keeps both
marginal distributions but breaks any link between a recording's change and its P; r is recomputed each
time. Rows report the mean and spread of that null r and the two-sided permutation p of the observed r
around the null mean ((k + 1) / (n + 1)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from presyn import stats

FIGURE = "appfig4"


def rowwise_pearson(x: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Pearson r of one x against each row of ys (n_rows x n)."""
    xc = x - x.mean()
    yc = ys - ys.mean(axis=1, keepdims=True)
    return (yc @ xc) / (np.sqrt((yc**2).sum(axis=1)) * np.sqrt((xc**2).sum()))


def shuffle_null(p_before: np.ndarray, s_before: np.ndarray, s_after: np.ndarray, n_shuffle: int,
                 rng: np.random.Generator) -> np.ndarray:
    """r(P_before, s_after[perm] / s_before - 1) for ``n_shuffle`` random permutations of the after-strengths."""
    n = len(p_before)
    perms = rng.permuted(np.tile(np.arange(n), (n_shuffle, 1)), axis=1)
    return rowwise_pearson(np.asarray(p_before, float), np.asarray(s_after, float)[perms] / np.asarray(s_before, float) - 1)


def _data_tag(rec: pd.DataFrame) -> str:
    return "synthetic" if rec["synthetic"].astype(bool).any() else "real"


def appfig4_stats(rec: pd.DataFrame, n_shuffle: int = 10000, seed: int = 0, figure: str = FIGURE) -> pd.DataFrame:
    """Stats rows for App. fig 4 from the tidy recordings table (presyn.sjostrom.parse.RECORDING_COLUMNS).

    Names: ``appfig4.pearson.{all,ltp,ltd}``, ``appfig4.regression.{slope,intercept}`` (all recordings),
    ``appfig4.shuffle_null_r[.ltp|.ltd]`` (value = mean null r, sem = its SEM over shuffles,
    detail = sd and 2.5/97.5 % quantiles), ``appfig4.shuffle_null_sd[...]``,
    ``appfig4.shuffle_null_q025[...]``, ``appfig4.shuffle_null_q975[...]``,
    ``appfig4.shuffle_p[...]`` (permutation p of the observed r), ``appfig4.r_minus_null[...]``
    (observed r - mean null r: the part of r not built in), ``appfig4.n_recordings.{all,ltp,ltd}``,
    ``appfig4.rel_change.{ltp,ltd}`` (mean +- SEM of the relative change), ``appfig4.pearson_abs.{all,ltp,ltd}``
    (r of P before vs the size |relative change|: stability regardless of direction; an addition, not published).
    Every row's ``groups`` carries ``data=real|synthetic``.
    """
    tag = _data_tag(rec)
    rng = np.random.default_rng(seed)
    rows = []
    subsets = [("all", rec)] + [(g, rec[rec["group"] == g]) for g in ("ltp", "ltd")]
    for key, sub in subsets:
        groups = f"group={key};data={tag}"
        x, y = sub["P_before"].to_numpy(float), sub["rel_change"].to_numpy(float)
        rows.append(stats._row(figure, f"{figure}.n_recordings.{key}", "summary", value=float(len(sub)), n=len(sub),
                               test="count", groups=groups, detail=f"{len(sub)} recordings ({tag} data)"))
        pear = stats.pearson(figure, f"{figure}.pearson.{key}", x, y, groups)
        pear["detail"] = pear.get("detail") or f"x = P before, y = relative change in P*q; {tag} data"
        rows.append(pear)
        absr = stats.pearson(figure, f"{figure}.pearson_abs.{key}", x, np.abs(y), groups)
        absr["detail"] = absr.get("detail") or f"x = P before, y = |relative change in P*q| (size of change, any sign); {tag} data"
        rows.append(absr)
        if key != "all":
            rows.append(stats.summary(figure, f"{figure}.rel_change.{key}", y, groups, detail="relative change in P*q"))
        suffix = "" if key == "all" else f".{key}"
        if len(sub) < 3:
            continue
        if key == "all":
            fit = sps.linregress(x, y)
            rows.append(stats._row(figure, f"{figure}.regression.slope", "test", value=float(fit.slope), sem=float(fit.stderr),
                                   n=len(x), statistic=float(fit.slope), p_value=float(fit.pvalue),
                                   test="least-squares regression of relative change on P before", groups=groups))
            rows.append(stats._row(figure, f"{figure}.regression.intercept", "test", value=float(fit.intercept),
                                   sem=float(fit.intercept_stderr), n=len(x), test="least-squares regression", groups=groups))
        # permute the after-strengths within this subset
        null = shuffle_null(x, sub["strength_before"].to_numpy(float), sub["strength_after"].to_numpy(float), n_shuffle, rng)
        null = null[np.isfinite(null)]
        r_obs = float(pear["value"])
        mean, sd = float(null.mean()), float(null.std(ddof=1))
        q025, q975 = (float(v) for v in np.quantile(null, [0.025, 0.975]))
        k_two = int(np.sum(np.abs(null - mean) >= abs(r_obs - mean)))
        k_low = int(np.sum(null <= r_obs))
        p_two = (k_two + 1) / (len(null) + 1)
        spread = f"null r: sd={sd:.4f}, 2.5%={q025:.4f}, 97.5%={q975:.4f}, n_shuffle={len(null)}, seed={seed}"
        shuffle_groups = groups + ";control=shuffle"
        test = "permutation of after-strengths across recordings"
        rows.append(stats._row(figure, f"{figure}.shuffle_null_r{suffix}", "summary", value=mean, sem=sd / np.sqrt(len(null)),
                               n=len(null), test=test, groups=shuffle_groups, detail=spread))
        rows.append(stats._row(figure, f"{figure}.shuffle_null_sd{suffix}", "summary", value=sd, n=len(null), test=test,
                               groups=shuffle_groups))
        rows.append(stats._row(figure, f"{figure}.shuffle_null_q025{suffix}", "summary", value=q025, n=len(null), test=test,
                               groups=shuffle_groups))
        rows.append(stats._row(figure, f"{figure}.shuffle_null_q975{suffix}", "summary", value=q975, n=len(null), test=test,
                               groups=shuffle_groups))
        rows.append(stats._row(figure, f"{figure}.shuffle_p{suffix}", "test", value=p_two, n=len(sub), statistic=r_obs,
                               p_value=p_two, test=test + " (two-sided about the null mean)", groups=shuffle_groups,
                               detail=f"observed r={r_obs:.4f} vs {spread}; one-sided p(null r <= observed) = "
                                      f"{(k_low + 1) / (len(null) + 1):.4g}"))
        rows.append(stats._row(figure, f"{figure}.r_minus_null{suffix}", "summary", value=r_obs - mean, sem=sd, n=len(sub),
                               test="observed r - mean shuffle-null r (sem column = null sd)", groups=shuffle_groups))
    return stats.frame(rows)
