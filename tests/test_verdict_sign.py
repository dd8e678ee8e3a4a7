"""The scorecard's significance verdicts check the direction, from both sides.

A significant result in the wrong direction is the opposite of the published finding and must never count
as reproduced; a significant result in the published direction must. Tested through the path that
``scripts/scorecard.py`` takes (published YAML -> ``load_published``; stats CSV -> ``load_stats``;
``scorecard``), all in ``verdicts`` below, so a rename in presyn.scorecard is a one-line change here.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from presyn import scorecard as sc
from presyn import stats

HIGH, LOW = [0.90, 0.91, 0.92], [0.80, 0.81, 0.82]  # t = +12.2 (p ~ 3e-4) for HIGH vs LOW
CLOSE_A, CLOSE_B = [0.90, 0.70, 0.80], [0.85, 0.75, 0.79]  # same direction, p ~ 0.9
SOURCE = {"kind": "text", "where": "Results (test)"}
TOLERANCES = {"t05": {"criterion": "significance", "alpha": 0.05}, "t01": {"criterion": "significance", "alpha": 0.01}}


def verdicts(tmp_path, numbers=(), claims=(), rows=()) -> dict[str, str]:
    """id -> verdict of the scorecard of ``numbers`` and ``claims`` against stats ``rows``."""
    pub_path, stats_path = tmp_path / "published.yaml", tmp_path / "fig5.csv"
    pub_path.write_text(yaml.safe_dump({"tolerances": TOLERANCES, "numbers": list(numbers), "claims": list(claims)}))
    stats.frame(list(rows)).to_csv(stats_path, index=False)
    published = sc.load_published(pub_path)
    table, missing = sc.load_stats([stats_path])
    assert not missing
    card = sc.scorecard(published, table)
    return dict(zip(card["id"], card["verdict"]))


def t_row(name: str, a, b) -> dict:
    return stats.ttest("fig5", name, a, b, "a vs b")


def t_number(id_: str, published: float, stat: str = "fig5.t", tolerance: str = "t05", **operand) -> dict:
    return {
        "id": id_,
        "figure": "fig5",
        "what": "a t statistic",
        "published": published,
        "unit": "t",
        "tolerance": tolerance,
        "ours": {"stat": stat, "field": "statistic", **operand},
        "source": SOURCE,
    }


def test_the_rows_are_what_the_cases_need():
    up, down, close = t_row("u", HIGH, LOW), t_row("d", LOW, HIGH), t_row("c", CLOSE_A, CLOSE_B)
    assert up["statistic"] > 10 and up["p_value"] < 0.001
    assert down["statistic"] < -10 and down["p_value"] < 0.001
    assert close["statistic"] > 0 and close["p_value"] > 0.5


# ----------------------------------------------------------------------------- numbers: criterion significance
def test_significant_in_the_published_direction_is_reproduced(tmp_path):
    v = verdicts(
        tmp_path,
        numbers=[t_number("pos", 3.44), t_number("neg", -6.72, stat="fig5.t_down", tolerance="t01")],
        rows=[t_row("fig5.t", HIGH, LOW), t_row("fig5.t_down", LOW, HIGH)],
    )
    assert v == {"pos": sc.REPRODUCED, "neg": sc.REPRODUCED}


def test_significant_in_the_wrong_direction_is_not_reproduced(tmp_path):
    """p ~ 3e-4 passes alpha, but the published t is positive and ours negative (and the other way round)."""
    v = verdicts(
        tmp_path,
        numbers=[t_number("pos_pub", 3.44), t_number("neg_pub", -6.72, stat="fig5.t_up", tolerance="t01")],
        rows=[t_row("fig5.t", LOW, HIGH), t_row("fig5.t_up", HIGH, LOW)],
    )
    assert v == {"pos_pub": sc.NOT_REPRODUCED, "neg_pub": sc.NOT_REPRODUCED}


def test_wrong_direction_detail_says_opposite_sign(tmp_path):
    pub_path = tmp_path / "published.yaml"
    pub_path.write_text(yaml.safe_dump({"tolerances": TOLERANCES, "numbers": [t_number("x", 3.44)]}))
    card = sc.scorecard(sc.load_published(pub_path), stats.frame([t_row("fig5.t", LOW, HIGH)]))
    assert card.loc[0, "verdict"] == sc.NOT_REPRODUCED
    assert "opposite sign" in card.loc[0, "detail"]


def test_right_direction_but_not_significant_is_not_reproduced(tmp_path):
    v = verdicts(tmp_path, numbers=[t_number("x", 3.44)], rows=[t_row("fig5.t", CLOSE_A, CLOSE_B)])
    assert v == {"x": sc.NOT_REPRODUCED}


def test_direction_of_a_flipped_operand(tmp_path):
    """A row for b vs a read with scale -1 has the direction of a vs b: reproduced against +3.44, not -3.44."""
    v = verdicts(
        tmp_path,
        numbers=[t_number("plus", 3.44, scale=-1), t_number("minus", -3.44, scale=-1)],
        rows=[t_row("fig5.t", LOW, HIGH)],
    )
    assert v == {"plus": sc.REPRODUCED, "minus": sc.NOT_REPRODUCED}


def test_difference_of_means_judged_by_its_sign_too(tmp_path):
    """The same criterion on the row's value (mean(a) - mean(b)) with its p."""
    item = {**t_number("diff", 0.05), "unit": "fraction"}
    item["ours"] = {"stat": "fig5.t", "field": "value"}
    wrong = {**item, "id": "diff_wrong", "published": -0.05}
    v = verdicts(tmp_path, numbers=[item, wrong], rows=[t_row("fig5.t", HIGH, LOW)])
    assert v == {"diff": sc.REPRODUCED, "diff_wrong": sc.NOT_REPRODUCED}


# ----------------------------------------------------------------------------- claims: test checks with a sign
def claim(id_: str, sign: str, p_below: float = 0.05, stat: str = "fig5.t") -> dict:
    return {
        "id": id_,
        "figure": "fig5",
        "claim": "a is better than b",
        "our_test": "two-sample t-test",
        "check": {"test": stat, "p_below": p_below, "sign": sign},
    }


def test_claim_with_a_sign_from_both_directions(tmp_path):
    rows = [t_row("fig5.t", HIGH, LOW), t_row("fig5.t_down", LOW, HIGH)]
    v = verdicts(
        tmp_path,
        claims=[
            claim("up_pos", "positive"),
            claim("up_neg", "negative"),
            claim("down_pos", "positive", stat="fig5.t_down"),
            claim("down_neg", "negative", stat="fig5.t_down"),
            claim("up_any", "any"),
            claim("down_any", "any", stat="fig5.t_down"),
        ],
        rows=rows,
    )
    assert v == {
        "up_pos": sc.REPRODUCED,
        "up_neg": sc.NOT_REPRODUCED,
        "down_pos": sc.NOT_REPRODUCED,
        "down_neg": sc.REPRODUCED,
        "up_any": sc.REPRODUCED,
        "down_any": sc.REPRODUCED,
    }


def test_claim_with_the_right_sign_but_not_significant(tmp_path):
    v = verdicts(tmp_path, claims=[claim("c", "positive")], rows=[t_row("fig5.t", CLOSE_A, CLOSE_B)])
    assert v == {"c": sc.NOT_REPRODUCED}


def test_significance_rows_survive_the_csv_round_trip(tmp_path):
    """load_stats reads what stats.frame wrote: statistic and p as numbers, not strings."""
    path = tmp_path / "fig5.csv"
    stats.frame([t_row("fig5.t", HIGH, LOW)]).to_csv(path, index=False)
    table, _ = sc.load_stats([path])
    assert pd.api.types.is_float_dtype(table["statistic"]) and table.loc[0, "statistic"] > 10
    assert table.loc[0, "p_value"] == pytest.approx(t_row("x", HIGH, LOW)["p_value"])
