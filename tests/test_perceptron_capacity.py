"""The perceptron near capacity (issue 21, 1c): the planner adds runs without moving the Fig 5 runs, the table
and statistics on hand-made run files, and the claim of config/published.yaml where it holds and where it fails."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from presyn import scorecard as sc
from presyn.analysis.capacity import capacity_stats, capacity_table
from presyn.configs import load_config
from presyn.planning import perceptron as pc  # the perceptron's planner

ROOT = Path(__file__).resolve().parents[1]

CONFIG = {
    "seeds": [1, 2],
    "perceptron": {
        "seeds": [7],
        "repetitions": 2,
        "n_inputs": 20,
        "n_tasks": 2,
        "n_patterns": 10,
        "passes": 2,
        "batch_size": 5,
        "eval_samples": 3,
        "methods": {"standard": {"kind": "standard"}, "presyn": {"kind": "presyn", "p_up": 0.2, "g_lim": 0.1}},
        "capacity": {"n_patterns": [40, 10, 20]},
    },
}


def _without_capacity(config):
    out = copy.deepcopy(config)
    out["perceptron"].pop("capacity")
    return out


def test_capacity_runs_leave_the_fig5_runs_and_hashes_unchanged():
    fig5 = pc.plan_runs(_without_capacity(CONFIG))
    assert pc.plan_runs(CONFIG) == fig5  # the capacity block never reaches the Fig 5 runs
    series = pc.capacity_series(CONFIG)
    assert set(series) == set(fig5) | {
        f"perceptron/{m}_patterns{n}/random/seed7" for m in ("standard", "presyn") for n in (20, 40)
    }
    for key, spec in fig5.items():  # at perceptron.n_patterns the series is the Fig 5 run itself
        assert series[key]["spec"] == spec and series[key]["n_patterns"] == 10
    for n in (20, 40):
        # a capacity run is the Fig 5 run at n patterns, under its own method name: same hash as such a run
        at_n = pc.plan_runs(_without_capacity({**CONFIG, "perceptron": {**CONFIG["perceptron"], "n_patterns": n}}))
        for method in ("standard", "presyn"):
            entry = series[f"perceptron/{method}_patterns{n}/random/seed7"]
            ref = at_n[f"perceptron/{method}/random/seed7"]
            assert entry["method"] == method and entry["n_patterns"] == n
            assert entry["spec"]["method"] == f"{method}_patterns{n}" and entry["spec"]["n_patterns"] == n
            assert (
                entry["spec"]["config_hash"]
                == ref["config_hash"]
                != fig5[f"perceptron/{method}/random/seed7"]["config_hash"]
            )
            assert {k: v for k, v in entry["spec"].items() if k != "method"} == {
                k: v for k, v in ref.items() if k != "method"
            }
    assert pc.plan_capacity_runs(CONFIG) == {k: e["spec"] for k, e in series.items()}
    # switched off (or the perceptron off): no capacity runs
    off = copy.deepcopy(CONFIG)
    off["perceptron"]["capacity"]["enabled"] = False
    assert pc.capacity_series(off) == {} and pc.plan_runs(off) == fig5
    off["perceptron"].update(enabled=False, capacity={"n_patterns": [10, 20]})
    assert pc.capacity_series(off) == {}
    bad = copy.deepcopy(CONFIG)
    bad["perceptron"]["capacity"]["n_patterns"] = [10, 12]
    with pytest.raises(ValueError, match="12 patterns per task is not a multiple of batch_size"):
        pc.capacity_series(bad)


@pytest.mark.parametrize("overlay", [(), ("config/quick.yaml",)])
def test_project_configs_reuse_or_add_capacity_runs(overlay):
    cfg = load_config(ROOT / "config" / "config.yaml", *(ROOT / o for o in overlay))
    fig5 = pc.plan_runs(cfg)
    assert fig5 == pc.plan_runs(_without_capacity(cfg))
    series = pc.capacity_series(cfg)
    sec = cfg["perceptron"]
    new = {k for k in series if k not in fig5}
    reused = sec["n_patterns"] in sec["capacity"]["n_patterns"]
    n_new = len(sec["capacity"]["n_patterns"]) - reused
    assert len(new) == n_new * len(sec["methods"]) * len(sec["seeds"])
    # every load n_tasks x P / 2N of the quick config is one of the full config's (0.25, 0.3125, ..., 0.5, 1)
    loads = sorted(sec["n_tasks"] * n / (2 * sec["n_inputs"]) for n in sec["capacity"]["n_patterns"])
    full = load_config(ROOT / "config" / "config.yaml")["perceptron"]
    full_loads = sorted(full["n_tasks"] * n / (2 * full["n_inputs"]) for n in full["capacity"]["n_patterns"])
    assert {0.25, 0.5, 1.0} <= set(loads) <= set(full_loads)
    assert full_loads == [0.25, 0.3125, 0.375, 0.4375, 0.5, 1.0]


def _metrics(method, n_patterns, finals, earlier=0.5):
    """Tidy rows of one hand-made perceptron run: per repetition, every task's accuracy after the last pass
    (epoch 4) and a different value at an earlier epoch (which must be ignored)."""
    rows = []
    for r, accs in enumerate(finals):
        for t, a in enumerate(accs, start=1):
            rows += [
                {"epoch": 2, "repetition": r, "task": str(t), "metric": "accuracy", "value": earlier},
                {"epoch": 4, "repetition": r, "task": str(t), "metric": "accuracy", "value": a},
            ]
        rows.append({"epoch": 4, "repetition": r, "task": "all", "metric": "mean_p", "value": 0.3})
    df = pd.DataFrame(rows)
    df.insert(0, "seed", 7)
    df.insert(0, "benchmark", "random")
    df.insert(0, "method", method)
    df.insert(0, "experiment", "perceptron")
    df["task_trained"], df["pass"], df["config_hash"] = 2, 2, f"h-{method}"
    return df


# per repetition (3), the two tasks' final accuracies
FINALS = {
    ("standard", 10): [[0.8, 0.9], [0.7, 0.9], [0.9, 0.9]],  # means 0.85, 0.80, 0.90
    ("presyn", 10): [[0.9, 1.0], [0.9, 0.9], [1.0, 0.9]],  # 0.95, 0.90, 0.95 -> gaps 0.10, 0.10, 0.05
    ("standard", 40): [[0.6, 0.7], [0.6, 0.6], [0.7, 0.7]],  # 0.65, 0.60, 0.70
    ("presyn", 40): [[0.6, 0.8], [0.6, 0.6], [0.6, 0.7]],
}  # 0.70, 0.60, 0.65 -> gaps 0.05, 0.00, -0.05


def test_capacity_table_and_stats_by_hand(tmp_path):
    config = copy.deepcopy(CONFIG)
    config["perceptron"].update(repetitions=3, capacity={"n_patterns": [10, 40]})
    series = pc.capacity_series(config)
    paths = []
    for _key, entry in series.items():
        p = tmp_path / f"{entry['spec']['method']}.parquet"
        _metrics(
            entry["spec"]["method"], entry["n_patterns"], FINALS[(entry["method"], entry["n_patterns"])]
        ).to_parquet(p)
        paths.append(str(p))
    table = capacity_table(paths, series)
    assert len(table) == 4 * 3
    row = table[(table["run_method"] == "presyn_patterns40") & (table["repetition"] == 0)].iloc[0]
    assert row["method"] == "presyn" and row["kind"] == "presyn" and row["n_patterns"] == 40
    assert row["load"] == pytest.approx(2 * 40 / (2 * 20)) and row["mean_accuracy"] == pytest.approx(0.70)
    assert row["task1"] == pytest.approx(0.6)

    st = capacity_stats(table).set_index("name")
    assert set(st["figure"]) == {"perceptron_capacity"}
    assert st.loc["perceptron_capacity.final.standard.patterns10", "value"] == pytest.approx(0.85)
    assert st.loc["perceptron_capacity.final.presyn.patterns40", "value"] == pytest.approx(0.65)
    assert st.loc["perceptron_capacity.final.presyn.patterns40", "sem"] == pytest.approx(0.05 / math.sqrt(3))  # sd 0.05
    g10, g40 = np.array([0.10, 0.10, 0.05]), np.array([0.05, 0.00, -0.05])
    assert st.loc["perceptron_capacity.gap.patterns10", "value"] == pytest.approx(g10.mean())
    assert st.loc["perceptron_capacity.gap.patterns10", "sem"] == pytest.approx(g10.std(ddof=1) / math.sqrt(3))
    assert st.loc["perceptron_capacity.gap.patterns40", "value"] == pytest.approx(0.0, abs=1e-12)
    assert st.loc["perceptron_capacity.gap.smallest", "value"] == st.loc["perceptron_capacity.gap.patterns10", "value"]
    assert st.loc["perceptron_capacity.gap.largest", "value"] == st.loc["perceptron_capacity.gap.patterns40", "value"]
    assert "n_patterns=40" in st.loc["perceptron_capacity.gap.largest", "groups"]
    paired = sps.ttest_rel([0.95, 0.90, 0.95], [0.85, 0.80, 0.90])
    assert st.loc["perceptron_capacity.gap_ttest.patterns10", "statistic"] == pytest.approx(paired.statistic)
    change = sps.ttest_ind(g40, g10)
    assert st.loc["perceptron_capacity.gap_change", "value"] == pytest.approx(g40.mean() - g10.mean())
    assert st.loc["perceptron_capacity.gap_change", "statistic"] == pytest.approx(change.statistic)
    assert st.loc["perceptron_capacity.gap_change", "p_value"] == pytest.approx(change.pvalue)


def _summary(name, value):
    return {
        "figure": "perceptron_capacity",
        "name": name,
        "kind": "summary",
        "value": value,
        "sem": 0.003,
        "n": 10,
        "statistic": None,
        "p_value": None,
        "test": "mean +- SEM",
        "groups": "",
        "detail": "",
    }


@pytest.mark.parametrize(
    "smallest, largest, verdict",
    [
        (0.03, 0.01, sc.REPRODUCED),  # the gap shrinks
        (0.03, -0.01, sc.REPRODUCED),  # ... to a smaller gap of the other sign: still more similar
        (0.03, 0.04, sc.NOT_REPRODUCED),  # the gap grows
        (
            0.024,
            -0.043,
            sc.NOT_REPRODUCED,
        ),  # flips and grows in size: less similar (a plain gap(400) < gap(100) would pass)
        (-0.01, -0.005, sc.NOT_REPRODUCED),  # no benefit to start with
    ],
)
def test_gap_shrinks_claim(smallest, largest, verdict):
    pub = sc.load_published(ROOT / "config" / "published.yaml")
    item = next(c for c in pub["claims"] if c["id"] == "perceptron_capacity.gap_shrinks")
    assert item["figure"] == "perceptron_capacity" and item.get("our_test")
    table = pd.DataFrame(
        [_summary("perceptron_capacity.gap.smallest", smallest), _summary("perceptron_capacity.gap.largest", largest)]
    )
    assert sc.evaluate_claim(item, table)["verdict"] == verdict
