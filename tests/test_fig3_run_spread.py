"""Fig 3's representative run (issue 29, point 7): the same statistics on every energy run, the spread rows, the
scorecard claims that ask whether the published one-run values are values our runs give, and the caption line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from presyn import scorecard as sc
from presyn import stats
from presyn.analysis import sparsity
from presyn.figures import fig3

ROOT = Path(__file__).resolve().parents[1]
CLAIMS = [
    "fig3.representative_run_within_spread.ks_d",
    "fig3.representative_run_within_spread.r_layer1",
    "fig3.representative_run_within_spread.r_layer2",
]


def _network(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    rich = np.repeat([[0.5]] * 8 + [[0.05]] * 32, 30, axis=1)  # a few neurons with many important inputs
    return [
        np.where(rng.random((40, 30)) < rich, rng.uniform(0.9, 1, (40, 30)), 0.25),
        np.where(rng.random((20, 40)) < 0.3, rng.uniform(0.9, 1, (20, 40)), 0.3),
        rng.uniform(0.25, 1, (10, 20)),
    ]


def test_run_statistics_equal_the_representative_run_rows_of_sparsity_stats():
    """Same shuffle as the pipeline's neuron table: drawn from [shuffle_seed, training seed, layer]. (Until
    2026-12-07 every run was shuffled as seed 0; seed 12 is chosen here because its shuffle's D differs from
    seed 0's on this network, so that slip fails this test.)"""
    P = _network(3)
    one = sparsity.run_statistics(P, 0.9, shuffle_seed=4, seed=12)
    assert one["ks_d_layer2"] != sparsity.run_statistics(P, 0.9, shuffle_seed=4, seed=0)["ks_d_layer2"]
    probs = {11: _network(4), 12: P}
    st = sparsity.sparsity_stats(sparsity.neuron_table(probs, 0.9, 4), sparsity.in_out_table(probs, 0.9), 12)
    rows = pd.concat(st.values()).set_index("name")
    assert one["ks_d_layer2"] == rows.loc["fig3.ks.layer2", "statistic"]
    assert one["ks_p_layer2"] == rows.loc["fig3.ks.layer2", "p_value"]
    assert one["r_in_out_hidden1"] == rows.loc["fig3.pearson_in_out.layer1", "value"]
    assert one["r_in_out_hidden2"] == rows.loc["appfig2.pearson_in_out.layer2", "value"]


def _runs(ds, r1s, r2s) -> pd.DataFrame:
    n = len(ds)
    return pd.DataFrame(
        {
            "weight_decay": [0.0, 0.01, 0.1, 0.0, 0.01, 0.1][:n],
            "seed": [1, 1, 1, 2, 2, 2][:n],
            "ks_d_layer2": ds,
            "ks_p_layer2": [1e-3] * n,
            "r_in_out_hidden1": r1s,
            "r_in_out_hidden2": r2s,
        }
    )


def test_run_spread_rows_by_hand():
    rows = stats.frame(
        sparsity.run_spread_rows(_runs([0.40, 0.52, 0.46, 0.44], [0.9, 0.95, 0.8, 0.85], [0.7, 0.75, 0.8, 0.85]))
    ).set_index("name")
    d = "fig3.run_spread.ks_d.layer2"
    assert rows.loc[d, "value"] == pytest.approx(0.455) and rows.loc[d, "n"] == 4
    assert rows.loc[d, "sem"] == pytest.approx(np.std([0.40, 0.52, 0.46, 0.44], ddof=1) / 2)
    assert rows.loc[f"{d}.min", "value"] == 0.40 and rows.loc[f"{d}.max", "value"] == 0.52
    assert rows.loc[f"{d}.median", "value"] == pytest.approx(0.45) and rows.loc[f"{d}.min", "n"] == 4
    assert rows.loc["fig3.run_spread.pearson_in_out.layer2.max", "value"] == 0.85
    assert "weight_decays=0, 0.01, 0.1" in rows.loc[d, "groups"]


def _card(runs: pd.DataFrame) -> pd.DataFrame:
    pub = sc.load_published(ROOT / "config" / "published.yaml")
    items = {"tolerances": pub["tolerances"], "numbers": [], "claims": [c for c in pub["claims"] if c["id"] in CLAIMS]}
    assert len(items["claims"]) == 3
    return sc.scorecard(items, stats.frame(sparsity.run_spread_rows(runs))).set_index("id")


def test_within_spread_claims_hold_when_the_published_value_is_inside_and_fail_outside():
    inside = _card(_runs([0.48, 0.51, 0.47], [0.93, 0.95, 0.90], [0.79, 0.81, 0.74]))
    assert set(inside["verdict"]) == {sc.REPRODUCED}
    below = _card(_runs([0.46, 0.49, 0.47], [0.88, 0.90, 0.89], [0.74, 0.76, 0.75]))  # every run under the paper's
    assert set(below["verdict"]) == {sc.NOT_REPRODUCED}
    above = _card(_runs([0.51, 0.55, 0.60], [0.94, 0.96, 0.97], [0.80, 0.85, 0.90]))  # 0.7999 < every r2
    assert above.loc["fig3.representative_run_within_spread.r_layer2", "verdict"] == sc.NOT_REPRODUCED
    assert above.loc["fig3.representative_run_within_spread.ks_d", "verdict"] == sc.NOT_REPRODUCED


def test_caption_line_gives_the_spread_and_the_published_values():
    rows = stats.frame(sparsity.run_spread_rows(_runs([0.40, 0.52, 0.46], [0.9, 0.95, 0.8], [0.7, 0.75, 0.8])))
    note = fig3.spread_note(rows, ROOT / "config" / "published.yaml")
    assert "all 3 energy runs" in note and "D 0.400\u20130.520 (median 0.460)" in note
    assert "Paper (one representative run): D = 0.505, r1 = 0.939, r2 = 0.7999." in note
    assert fig3.spread_note(rows.iloc[:0]) == ""  # a stats table without the spread rows draws no line
