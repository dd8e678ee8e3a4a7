"""Issue 28: the scorecard's rules, each on a hand-made table where the check holds and one where it fails.

- the three-level verdict of means (reproduced within noise / close within the practical margin / not reproduced);
- the Fisher-z rule of correlations against a hand computation;
- TOST and the one-sided Welch test from summary rows against statsmodels / scipy on the raw data;
- App. fig 4's shuffle null and partial correlation on a synthetic table where coupling alone gives r ~ -0.4
  (the beyond-coupling claims must then be not reproduced) and one where Pr really predicts stability;
- the distinct-test count of a scorecard with a duplicate and a superseded item.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats as sps
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from presyn import scorecard as sc
from presyn import stats
from presyn.sjostrom.analysis import appfig4_stats

PUBLISHED = "config/published.yaml"
SOURCE = {"kind": "text", "where": "Results (test)"}


def card_of(tmp_path, tolerances=None, numbers=(), claims=(), rows=()) -> pd.DataFrame:
    pub_path, stats_path = tmp_path / "published.yaml", tmp_path / "fig1.csv"
    pub_path.write_text(
        yaml.safe_dump({"tolerances": tolerances or {}, "numbers": list(numbers), "claims": list(claims)})
    )
    stats.frame(list(rows)).to_csv(stats_path, index=False)
    table, _ = sc.load_stats([stats_path])
    return sc.scorecard(sc.load_published(pub_path), table).set_index("id")


def summ(name, values):
    return stats.summary(name.split(".")[0], name, values)


# ----------------------------------------------------------------------------- three-level verdict of means

MEAN = {"m": {"criterion": "mean", "sem_mult": 2.0, "practical": 2.0}}


def mean_number(id_, published, published_sem, stat):
    return {
        "id": id_,
        "figure": "fig1",
        "what": "acc",
        "published": published,
        "published_sem": published_sem,
        "unit": "%",
        "tolerance": "m",
        "ours": {"stat": stat, "unit": "fraction"},
        "source": SOURCE,
    }


def test_mean_rule_three_levels_by_hand(tmp_path):
    # ours: mean 0.80, SEM 0.01 (values 0.79, 0.80, 0.81 -> SD 0.01, SEM 0.01/sqrt(3) = 0.00577) -> 80.00 +- 0.577 %
    rows = [summ("fig1.acc", [0.79, 0.80, 0.81])]
    sem_o = 100 * 0.01 / math.sqrt(3)
    comb = math.sqrt(sem_o**2 + 0.5**2)  # 0.7638
    card = card_of(
        tmp_path,
        MEAN,
        [
            mean_number("in_noise", 80.0 + 1.9 * comb, 0.5, "fig1.acc"),  # 1.45 points: 1.9 SEM
            mean_number("close", 80.0 + 2.1 * comb, 0.5, "fig1.acc"),  # 1.60 points: 2.1 SEM, < 2
            mean_number("far", 82.5, 0.5, "fig1.acc"),
        ],
        rows=rows,
    )  # 2.5 points: > 2
    assert card.loc["in_noise", "verdict"] == sc.REPRODUCED
    assert card.loc["close", "verdict"] == sc.CLOSE
    assert card.loc["far", "verdict"] == sc.NOT_REPRODUCED
    # the legacy rule ("2 points OR 2 combined SEM") called the 1.6-point case reproduced on the floor alone
    legacy = {"old": {"abs": 2.0, "sem_mult": 2.0}}
    old = card_of(
        tmp_path, legacy, [{**mean_number("close", 80.0 + 2.1 * comb, 0.5, "fig1.acc"), "tolerance": "old"}], rows=rows
    )
    assert old.loc["close", "verdict"] == sc.REPRODUCED


def test_mean_rule_same_sign_and_published_sem_from_t(tmp_path):
    tol = {"d": {"criterion": "mean", "sem_mult": 2.0, "practical": 2.0, "same_sign": True}}
    rows = [summ("fig1.full", [0.83, 0.83, 0.83]), summ("fig1.ctrl", [0.836, 0.836, 0.836])]  # drop -0.6 points
    item = {
        "id": "drop",
        "figure": "fig1",
        "what": "drop",
        "published": 1.4,
        "published_t": 3.44,
        "unit": "points",
        "tolerance": "d",
        "ours": {"diff": ["fig1.full", "fig1.ctrl"], "unit": "fraction"},
        "source": SOURCE,
    }
    card = card_of(tmp_path, tol, [item], rows=rows)
    assert card.loc["drop", "verdict"] == sc.NOT_REPRODUCED and "opposite sign" in card.loc["drop", "detail"]
    assert card.loc["drop", "published_sem"] == pytest.approx(1.4 / 3.44)
    rows = [summ("fig1.full", [0.83, 0.84, 0.85]), summ("fig1.ctrl", [0.82, 0.825, 0.83])]  # drop 1.5 +- 0.65
    assert card_of(tmp_path, tol, [item], rows=rows).loc["drop", "verdict"] == sc.REPRODUCED


# ----------------------------------------------------------------------------- Fisher z


def test_fisher_z_rule_against_hand_computation(tmp_path):
    tol = {"z": {"criterion": "fisher_z", "z_mult": 2.0, "practical": 0.1}}
    # hand: atanh(0.939) = 0.5 ln(1.939 / 0.061) = 1.7297; atanh(0.878) = 0.5 ln(1.878 / 0.122) = 1.3670;
    # SE = sqrt(2 / 197) = 0.10076: 3.6 SE apart -> outside noise, |r diff| 0.061 <= 0.1 -> close
    assert 0.5 * math.log(1.939 / 0.061) == pytest.approx(math.atanh(0.939))
    dz, se = stats.fisher_z_distance(0.878, 200, 0.939, 200)
    assert dz == pytest.approx(0.5 * math.log(1.939 / 0.061) - 0.5 * math.log(1.878 / 0.122)) and se == pytest.approx(
        math.sqrt(2 / 197)
    )
    assert dz / se == pytest.approx(3.60, abs=0.01)
    x = np.random.default_rng(0).normal(size=200)

    def row_with_r(r):
        return {**stats._row("fig1", "fig1.r", "test", value=r, n=200, statistic=r, p_value=0.0), "test": "Pearson"}

    item = {
        "id": "r",
        "figure": "fig1",
        "what": "r",
        "published": 0.939,
        "n_published": 200,
        "unit": "r",
        "tolerance": "z",
        "ours": {"stat": "fig1.r", "unit": "r"},
        "source": SOURCE,
    }
    assert card_of(tmp_path, tol, [item], rows=[row_with_r(0.878)]).loc["r", "verdict"] == sc.CLOSE
    # 2 SE in z around atanh(0.939): r >= tanh(1.7297 - 0.2015) = 0.9101 is within noise
    assert card_of(tmp_path, tol, [item], rows=[row_with_r(0.915)]).loc["r", "verdict"] == sc.REPRODUCED
    assert card_of(tmp_path, tol, [item], rows=[row_with_r(0.80)]).loc["r", "verdict"] == sc.NOT_REPRODUCED
    del x


# ----------------------------------------------------------------------------- TOST and one-sided Welch

A, B_NEAR, B_FAR = [0.80, 0.81, 0.82], [0.805, 0.815, 0.812], [0.90, 0.91, 0.93]


@pytest.mark.parametrize("b", [B_NEAR, B_FAR])
def test_tost_from_summary_rows_equals_statsmodels(b):
    p_sm, *_ = ttost_ind(np.array(A), np.array(b), -0.03, 0.03, usevar="unequal")
    p, *_ = stats.tost_ind(A, b, 0.03)
    assert p == pytest.approx(p_sm, rel=1e-9)
    # one-sample TOST against a constant = statsmodels' paired TOST against a constant column
    p1_sm, *_ = ttost_paired(np.array(A), np.full(3, 0.805), -0.02, 0.02)
    p1, *_ = stats.tost_from_stats(np.mean(A), stats.sem(A), 3, 0.805, None, None, 0.02)
    assert p1 == pytest.approx(p1_sm, rel=1e-9)


def test_tost_claim_holds_and_fails(tmp_path):
    claim = {
        "id": "same",
        "figure": "fig1",
        "claim": "similar",
        "our_test": "TOST 0.03",
        "check": {"tost": ["fig1.a", "fig1.b"], "margin": 0.03, "alpha": 0.05},
    }
    near = card_of(tmp_path, claims=[claim], rows=[summ("fig1.a", A), summ("fig1.b", B_NEAR)])
    far = card_of(tmp_path, claims=[claim], rows=[summ("fig1.a", A), summ("fig1.b", B_FAR)])
    assert near.loc["same", "verdict"] == sc.REPRODUCED and far.loc["same", "verdict"] == sc.NOT_REPRODUCED
    # 'not significantly different' would have called the far pair equal at small n? here it is significant, but
    # a noisy pair that is neither different nor equivalent must fail the TOST
    noisy = card_of(tmp_path, claims=[claim], rows=[summ("fig1.a", [0.7, 0.8, 0.9]), summ("fig1.b", [0.75, 0.85, 0.8])])
    assert noisy.loc["same", "verdict"] == sc.NOT_REPRODUCED


def test_above_check_equals_scipy_welch_one_sided(tmp_path):
    a, b = [0.9, 0.92, 0.95], [0.85, 0.86, 0.90]
    ref = sps.ttest_ind(a, b, equal_var=False, alternative="greater")
    t, df, p = stats.one_sided_from_stats(np.mean(a), stats.sem(a), 3, np.mean(b), stats.sem(b), 3)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    one = sps.ttest_1samp(a, 0.88, alternative="greater")
    assert stats.one_sided_from_stats(np.mean(a), stats.sem(a), 3, 0.88)[2] == pytest.approx(one.pvalue)
    claim = {
        "id": "up",
        "figure": "fig1",
        "claim": "a > b",
        "our_test": "Welch",
        "check": {"above": ["fig1.a", "fig1.b"], "alpha": 0.05},
    }
    holds = card_of(tmp_path, claims=[claim], rows=[summ("fig1.a", a), summ("fig1.b", b)])
    fails = card_of(tmp_path, claims=[claim], rows=[summ("fig1.a", b), summ("fig1.b", a)])
    assert holds.loc["up", "verdict"] == sc.REPRODUCED and fails.loc["up", "verdict"] == sc.NOT_REPRODUCED
    # a number on the left: 0.5 > b (one-sample over b's seeds)
    c2 = {**claim, "check": {"above": [0.5, "fig1.b"], "alpha": 0.05}}
    assert (
        card_of(tmp_path, claims=[c2], rows=[summ("fig1.b", [0.2, 0.25, 0.22])]).loc["up", "verdict"] == sc.REPRODUCED
    )
    assert (
        card_of(tmp_path, claims=[c2], rows=[summ("fig1.b", [0.6, 0.55, 0.62])]).loc["up", "verdict"]
        == sc.NOT_REPRODUCED
    )


def test_partial_correlation_equals_the_regression_t():
    import statsmodels.api as smapi

    rng = np.random.default_rng(3)
    z = rng.normal(size=40)
    x = z + rng.normal(size=40)
    y = -0.5 * x + z + rng.normal(size=40)
    r, p, n = stats.partial_pearson(x, y, z)
    fit = smapi.OLS(y, smapi.add_constant(np.column_stack([x, z]))).fit()
    t = r * math.sqrt((n - 3) / (1 - r * r))
    assert t == pytest.approx(fit.tvalues[1], rel=1e-9) and p == pytest.approx(fit.pvalues[1], rel=1e-9)


# ----------------------------------------------------------------------------- App. fig 4: the built-in coupling


def synthetic_recordings(rng: np.random.Generator, real_effect: bool) -> pd.DataFrame:
    """44 synapses (30 LTP, 14 LTD). Coupling only: the after-strength is drawn independently of Pr; the measure
    |w_after / w_before - 1| still falls with Pr because w_before = Pr q grows with Pr. Real effect: the size of the
    change falls with Pr at fixed w_before."""
    n = 44
    group = np.array(["ltp"] * 30 + ["ltd"] * 14)
    p = rng.uniform(0.1, 0.9, n)
    q = rng.uniform(0.1, 0.3, n)
    wb = p * q
    if real_effect:
        size = 1.2 * (1 - p) ** 2 * rng.uniform(0.8, 1.2, n)
        wa = wb * np.where(group == "ltp", 1 + size, 1 - 0.6 * size)
    else:
        wa = rng.permutation(wb) * rng.uniform(0.8, 1.4, n)
    rel = wa / wb - 1
    return pd.DataFrame(
        {
            "recording": [f"r{i}" for i in range(n)],
            "group": group,
            "P_before": p,
            "q_before": q,
            "strength_before": wb,
            "strength_after": wa,
            "rel_change": rel,
            "rel_change_size": np.abs(rel),
        }
    )


def appfig4_card(rec: pd.DataFrame) -> pd.DataFrame:
    rows = appfig4_stats(rec, n_shuffle=2000, seed=1)
    return sc.scorecard(sc.load_published(PUBLISHED), rows).set_index("id"), rows.set_index("name")


def test_coupling_alone_makes_the_published_r_but_fails_the_beyond_coupling_claims():
    card, rows = appfig4_card(synthetic_recordings(np.random.default_rng(7), real_effect=False))
    assert -0.6 < rows.loc["appfig4.pearson.all", "value"] < -0.25  # the measure alone gives r ~ -0.4 ...
    assert card.loc["appfig4.high_p_more_stable", "verdict"] == sc.REPRODUCED  # ... which the paper's test accepts
    for cid in ("appfig4.beyond_coupling.shuffle", "appfig4.beyond_coupling.partial"):
        assert card.loc[cid, "verdict"] == sc.NOT_REPRODUCED, card.loc[cid, "detail"]


def test_a_real_effect_passes_the_beyond_coupling_claims():
    card, _ = appfig4_card(synthetic_recordings(np.random.default_rng(7), real_effect=True))
    for cid in ("appfig4.beyond_coupling.shuffle", "appfig4.beyond_coupling.partial"):
        assert card.loc[cid, "verdict"] == sc.REPRODUCED, card.loc[cid, "detail"]


# ----------------------------------------------------------------------------- counting distinct tests


def test_distinct_count_merges_a_duplicate_and_sets_a_superseded_test_apart(tmp_path):
    rows = [stats.ttest("fig1", "fig1.t", [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], "a;b"), summ("fig1.a", [0.5, 0.6, 0.7])]
    tol = {"t05": {"criterion": "significance", "alpha": 0.05}}
    numbers = [
        {
            "id": "n.t",
            "figure": "fig1",
            "what": "t",
            "published": 3.0,
            "unit": "t",
            "tolerance": "t05",
            "ours": {"stat": "fig1.t", "field": "statistic"},
            "source": SOURCE,
            "duplicate_of": "c.t",
        }
    ]
    claims = [
        {
            "id": "c.t",
            "figure": "fig1",
            "claim": "a > b",
            "basis": "paper",
            "check": {"test": "fig1.t", "p_below": 0.05},
        },
        {
            "id": "c.old",
            "figure": "fig1",
            "claim": "x",
            "our_test": "point",
            "superseded_by": "c.new",
            "superseded_on": "2026-12-06",
            "superseded_why": "no noise",
            "check": {"left": "fig1.a", "op": ">", "value": 0.55},
        },
        {
            "id": "c.new",
            "figure": "fig1",
            "claim": "x",
            "our_test": "one-sided",
            "added": "2026-12-06",
            "after_results": True,
            "check": {"above": ["fig1.a", 0.55], "alpha": 0.05},
        },
    ]
    card = card_of(tmp_path, tol, numbers, claims, rows).reset_index()
    c = sc.distinct_counts(card)
    assert c["number"]["n_current"] == 0 and c["number"]["duplicates"] == 1
    assert (
        c["claim"]["n_current"] == 2
        and c["claim"]["current"][sc.REPRODUCED] == 1
        and c["claim"]["current"][sc.NOT_REPRODUCED] == 1
    )
    assert c["claim"]["n_superseded"] == 1 and c["claim"]["superseded"][sc.REPRODUCED] == 1
    assert c["claim"]["after_results"] == 1
    line = sc.summary_line(card)
    assert "published numbers (0 distinct; 1 more rows repeat a test counted elsewhere)" in line
    assert "qualitative claims (2 distinct" in line and "1 superseded earlier tests" in line
    assert "1 of the counted tests were added after the results" in line
    # without the duplicate link the same card counts the t-test twice
    del numbers[0]["duplicate_of"]
    card2 = card_of(tmp_path, tol, numbers, claims, rows).reset_index()
    assert sc.distinct_counts(card2)["number"]["n_current"] == 1


def test_links_must_name_existing_items(tmp_path):
    pub = {
        "tolerances": {},
        "numbers": [],
        "claims": [
            {
                "id": "c",
                "figure": "fig1",
                "claim": "x",
                "basis": "paper",
                "check": {"test": "fig1.t", "p_below": 0.05},
                "duplicate_of": "nowhere",
            },
            {
                "id": "d",
                "figure": "fig1",
                "claim": "x",
                "basis": "paper",
                "check": {"test": "fig1.t", "p_below": 0.05},
                "superseded_by": "c",
            },
        ],
    }
    with pytest.raises(
        sc.PublishedFileError, match=r"duplicate_of 'nowhere' is not an id.*superseded_by needs superseded_why"
    ):
        sc.check_published(pub)


def test_shipped_file_never_supersedes_a_failing_test_with_a_passing_one_on_the_bundle():
    """On the shipped bundle's stats, every superseded claim that failed has a replacement that fails too."""
    from pathlib import Path

    table, _ = sc.load_stats(sorted(Path("reference/bundle/results/stats").glob("*.csv")))
    card = sc.scorecard(sc.load_published(PUBLISHED), table).set_index("id")
    for cid, r in card[card["status"] == sc.SUPERSEDED].iterrows():
        if r["verdict"] == sc.NOT_REPRODUCED:
            assert card.loc[r["counted_under"], "verdict"] != sc.REPRODUCED, cid


def test_two_sided_welch_from_stats_equals_scipy():
    """The per-seed test Fig 2c/d print (presyn.figures.fig2.seed_welch_p) against scipy's Welch t-test."""
    import pandas as pd

    from presyn.figures.fig2 import seed_welch_p

    a, b = [0.9, 0.92, 0.95], [0.85, 0.86, 0.90]
    ref = sps.ttest_ind(a, b, equal_var=False)
    t, df, p = stats.two_sided_from_stats(np.mean(a), stats.sem(a), 3, np.mean(b), stats.sem(b), 3)
    assert t == pytest.approx(ref.statistic) and p == pytest.approx(ref.pvalue)
    row = lambda v: pd.Series({"value": np.mean(v), "sem": stats.sem(v), "n": len(v)})  # noqa: E731
    assert seed_welch_p(row(a), row(b)) == pytest.approx(ref.pvalue)
    assert seed_welch_p(row([0.9]), row(b)) is None  # one seed: no test
    assert np.isnan(stats.two_sided_from_stats(0.5, 0.0, 3, 0.5, 0.0, 3)[2])  # no spread: undefined, not 0 or 1
