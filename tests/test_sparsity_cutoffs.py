"""Fig 3 / App. fig 2 at other importance cutoffs (issue 21, 1b): important synapses counted by hand at p >= 0.8
and p >= 0.95, the stats rows on hand-made tables, the 0.9 cutoff reproducing the published-analysis rows, and
the new claims of config/published.yaml on a table where they hold and one where they fail."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import pearson_by_hand
from presyn import scorecard as sc
from presyn.analysis import sparsity

ROOT = Path(__file__).resolve().parents[1]

# One network (seed 7) of 5 inputs -> 4 hidden -> 3 hidden -> 2 outputs; rows = receiving neurons.
P1 = np.array(
    [
        [0.85, 0.96, 0.50, 0.80, 0.99],  # >= 0.8: 4   >= 0.95: 2
        [0.30, 0.30, 0.30, 0.30, 0.30],  #          0              0
        [0.95, 0.79, 0.81, 0.20, 0.20],  #          2              1  (0.95 counts: >= is inclusive)
        [1.00, 1.00, 0.94, 0.90, 0.80],
    ]
)  #          5              2
P2 = np.array(
    [
        [0.90, 0.20, 0.97, 0.80],  # >= 0.8: 3   >= 0.95: 1
        [0.96, 0.30, 0.30, 0.85],  #          2              1
        [0.80, 0.25, 0.99, 0.96],
    ]
)  #          3              2
P3 = np.array(
    [
        [0.80, 0.95, 0.10],  # >= 0.8: 2   >= 0.95: 1
        [0.99, 0.50, 0.90],
    ]
)  #          2              1
HAND = {  # cutoff -> layer -> important inputs per receiving neuron; hidden layer -> important outputs per neuron
    0.8: {"in": {1: [4, 0, 2, 5], 2: [3, 2, 3], 3: [2, 2]}, "out": {1: [3, 0, 2, 3], 2: [2, 1, 1]}},
    0.95: {"in": {1: [2, 0, 1, 2], 2: [1, 1, 2], 3: [1, 1]}, "out": {1: [1, 0, 2, 1], 2: [1, 1, 0]}},
}


def test_cutoff_tables_count_important_synapses_by_hand():
    neurons, in_out = sparsity.cutoff_tables({7: [P1, P2, P3]}, [0.8, 0.95], shuffle_seed=0)
    assert list(neurons.columns[:1]) == ["cutoff"] and set(neurons["cutoff"]) == {0.8, 0.95}
    for cutoff, hand in HAND.items():
        nt = neurons[neurons["cutoff"] == cutoff]
        for layer, counts in hand["in"].items():
            true = nt[(nt["layer"] == layer) & (nt["connectivity"] == "true")].sort_values("neuron")
            assert list(true["important_in"]) == counts, (cutoff, layer)
            shuf = nt[(nt["layer"] == layer) & (nt["connectivity"] == "shuffled")]
            assert shuf["important_in"].sum() == sum(counts)  # the shuffle keeps the layer's important synapses
        io = in_out[in_out["cutoff"] == cutoff]
        for h, counts in hand["out"].items():
            g = io[io["hidden_layer"] == h].sort_values("neuron")
            assert list(g["important_out"]) == counts and list(g["important_in"]) == hand["in"][h], (cutoff, h)
    # the same shuffle permutation as the 0.9 analysis: its table at 0.9 is neuron_table's, row for row
    at09, _ = sparsity.cutoff_tables({7: [P1, P2, P3]}, [0.9], shuffle_seed=0)
    pd.testing.assert_frame_equal(at09.drop(columns="cutoff"), sparsity.neuron_table({7: [P1, P2, P3]}, 0.9, 0))
    with pytest.raises(ValueError, match="no importance cutoffs"):
        sparsity.cutoff_tables({7: [P1, P2, P3]}, [], shuffle_seed=0)


def _neurons(cutoff, seed, layer, true, shuffled, n_in):
    rows = [
        {
            "cutoff": cutoff,
            "seed": seed,
            "layer": layer,
            "neuron": i,
            "connectivity": conn,
            "important_in": c,
            "n_in": n_in,
        }
        for conn, counts in (("true", true), ("shuffled", shuffled))
        for i, c in enumerate(counts)
    ]
    return pd.DataFrame(rows)


def test_cutoff_stats_on_hand_made_tables():
    # seed 1 (representative): true [0, 0, 0, 4] vs shuffled [1, 1, 1, 1] -> ECDFs at 0: 0.75 vs 0 -> D = 0.75
    # seed 2: identical distributions -> D = 0
    neurons = pd.concat(
        [
            _neurons(0.8, 1, 1, [0, 0, 0, 4], [1, 1, 1, 1], n_in=5),
            _neurons(0.8, 2, 1, [1, 2, 1, 2], [2, 1, 2, 1], n_in=5),
        ],
        ignore_index=True,
    )
    x, y = [4, 0, 2, 5, 1], [3, 0, 2, 4, 2]
    in_out = pd.DataFrame(
        {
            "cutoff": 0.8,
            "seed": [1] * 5 + [2] * 5,
            "hidden_layer": 1,
            "neuron": list(range(5)) * 2,
            "important_in": x + [1, 2, 3, 4, 5],
            "important_out": y + [5, 4, 3, 2, 1],
        }
    )
    st = sparsity.cutoff_stats(neurons, in_out, representative_seed=1).set_index("name")
    assert set(st["figure"]) == {"appfig2"}
    assert st.loc["appfig2.ks.layer1.cut0.8", "value"] == pytest.approx(0.75)
    assert st.loc["appfig2.ks.layer1.cut0.8", "p_value"] == st.loc["appfig2.ks.layer1.cut0.8.seed1", "p_value"]
    assert st.loc["appfig2.ks.layer1.cut0.8.seed2", "value"] == 0.0
    assert st.loc["appfig2.ks.layer1.cut0.8.seeds", "value"] == pytest.approx(0.375)  # mean of 0.75 and 0
    assert st.loc["appfig2.ks.layer1.cut0.8.seeds", "sem"] == pytest.approx(0.375)  # sd 0.530 / sqrt 2
    assert "cutoff=0.8" in st.loc["appfig2.ks.layer1.cut0.8", "groups"]
    # fraction important, layer 1: seed 1 4/20, seed 2 6/20
    assert st.loc["appfig2.fraction_important.layer1.cut0.8", "value"] == pytest.approx(0.25)
    r, p = pearson_by_hand(x, y)
    assert st.loc["appfig2.pearson_in_out.layer1.cut0.8", "value"] == pytest.approx(r)
    assert st.loc["appfig2.pearson_in_out.layer1.cut0.8", "p_value"] == pytest.approx(p)
    assert st.loc["appfig2.pearson_in_out.layer1.cut0.8.seed2", "value"] == pytest.approx(-1.0)
    assert st.loc["appfig2.pearson_in_out.layer1.cut0.8.seeds", "value"] == pytest.approx((r - 1.0) / 2)
    # a cutoff no synapse reaches: r undefined (NaN with a reason), never a crash
    none = in_out.assign(cutoff=0.99, important_in=0, important_out=0)
    st99 = sparsity.cutoff_stats(neurons.assign(cutoff=0.99), none, 1).set_index("name")
    assert np.isnan(st99.loc["appfig2.pearson_in_out.layer1.cut0.99", "value"])
    assert "constant input" in st99.loc["appfig2.pearson_in_out.layer1.cut0.99", "detail"]


def test_cutoff_0_9_reproduces_the_published_analysis_rows():
    rng = np.random.default_rng(5)
    P = [
        np.where(
            rng.random((40, 30)) < np.repeat([[0.5]] * 8 + [[0.05]] * 32, 30, axis=1),
            rng.uniform(0.9, 1, (40, 30)),
            0.25,
        ),
        rng.uniform(0.25, 1, (20, 40)),
        rng.uniform(0.25, 1, (10, 20)),
    ]
    probs = {1: P, 2: [m[::-1] for m in P]}
    main = sparsity.sparsity_stats(sparsity.neuron_table(probs, 0.9, 0), sparsity.in_out_table(probs, 0.9), 1)[
        "appfig2"
    ]
    cut = sparsity.cutoff_stats(*sparsity.cutoff_tables(probs, [0.9, 0.8], 0), 1).set_index("name")
    compared = 0
    for _, row in main.iterrows():
        parts = row["name"].split(".")
        if parts[1] not in ("ks", "pearson_in_out"):
            continue
        name = ".".join(parts[:3] + ["cut0.9"] + parts[3:])
        assert cut.loc[name, "value"] == pytest.approx(row["value"]), name
        assert cut.loc[name, "p_value"] == pytest.approx(row["p_value"], nan_ok=True), name
        compared += 1
    assert compared == 3 * 4 + 2 * 4  # 3 KS layers, 2 hidden layers: plain, seed1, seed2, seeds
    # a lower cutoff counts at least as many important synapses
    assert (
        cut.loc["appfig2.fraction_important.layer2.cut0.8", "value"]
        > cut.loc["appfig2.fraction_important.layer2.cut0.9", "value"]
    )


# ----------------------------------------------------------------------------- the claims in config/published.yaml
def _test_row(name, statistic, p):
    return {
        "figure": "appfig2",
        "name": name,
        "kind": "test",
        "value": statistic,
        "sem": None,
        "n": 200,
        "statistic": statistic,
        "p_value": p,
        "test": "t",
        "groups": "",
        "detail": "",
    }


CUTOFF_CLAIMS = [
    f"appfig2.{c}.cut{x}"
    for x in ("0.8", "0.95")
    for c in (
        "ks_layer1_significant",
        "ks_layer2_significant",
        "ks_layer3_not_significant",
        "in_out_correlated.layer1",
        "in_out_correlated.layer2",
    )
]


@pytest.mark.parametrize("cut", ["0.8", "0.95"])
def test_cutoff_claims_hold_and_fail(cut):
    pub = sc.load_published(ROOT / "config" / "published.yaml")
    claims = {c["id"]: c for c in pub["claims"] if c["id"] in CUTOFF_CLAIMS and c["id"].endswith(cut)}
    assert len(claims) == 5
    c = f"cut{cut}"
    holds = pd.DataFrame(
        [
            _test_row(f"appfig2.ks.layer1.{c}", 0.4, 1e-5),
            _test_row(f"appfig2.ks.layer2.{c}", 0.5, 1e-6),
            _test_row(f"appfig2.ks.layer3.{c}", 0.2, 0.41),
            _test_row(f"appfig2.pearson_in_out.layer1.{c}", 0.9, 1e-20),
            _test_row(f"appfig2.pearson_in_out.layer2.{c}", 0.8, 1e-10),
        ]
    )
    # each fails for its own reason: p not small enough (layers 1, 2), significant where it should not be
    # (layer 3), significant but negative (in/out layer 1), positive but not significant (in/out layer 2)
    fails = pd.DataFrame(
        [
            _test_row(f"appfig2.ks.layer1.{c}", 0.1, 0.02),
            _test_row(f"appfig2.ks.layer2.{c}", 0.05, 0.5),
            _test_row(f"appfig2.ks.layer3.{c}", 0.6, 0.001),
            _test_row(f"appfig2.pearson_in_out.layer1.{c}", -0.9, 1e-20),
            _test_row(f"appfig2.pearson_in_out.layer2.{c}", 0.1, 0.2),
        ]
    )
    for cid, item in claims.items():
        assert item["figure"] == "appfig2" and item.get("our_test")
        assert sc.evaluate_claim(item, holds)["verdict"] == sc.REPRODUCED, cid
        assert sc.evaluate_claim(item, fails)["verdict"] == sc.NOT_REPRODUCED, cid
        # the 0.9 row alone does not count for another cutoff
        other = holds.assign(name=holds["name"].str.replace(f".{c}", "", regex=False))
        assert sc.evaluate_claim(item, other)["verdict"] == sc.NOT_RUN, cid
