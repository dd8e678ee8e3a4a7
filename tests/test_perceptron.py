"""The lifelong perceptron (Fig 5b, c): both update rules on hand-computed cases, the test-time vote,
vectorisation over repetitions, the run outputs and the planner."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from presyn import perceptron as pc
from presyn.planning import perceptron as perceptron_plan

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def t(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def test_standard_update_hand_computed():
    w = torch.zeros(1, 3, dtype=torch.float64)
    # w = 0: both outputs are sign(0) = 0, so u = mean((y - 0) x) = mean([x1, -x2])
    u = pc.standard_update(w, t([[[1, -1, 1], [1, 1, -1]]]), t([[1, -1]]))
    assert torch.equal(u, t([[0, -1, 1]])) and torch.equal(w, t([[0, -1, 1]]))
    # x . w = 0 again -> y_hat 0 -> w += y x
    pc.standard_update(w, t([[[1, 1, 1]]]), t([[-1]]))
    assert torch.equal(w, t([[-1, -2, 0]]))
    # x . w = -1 + 2 + 0 = 1 = y: correct, no change
    u = pc.standard_update(w, t([[[1, -1, 1]]]), t([[1]]))
    assert torch.equal(u, torch.zeros(1, 3, dtype=torch.float64)) and torch.equal(w, t([[-1, -2, 0]]))


def test_presyn_update_hand_computed():
    rule = pc.PerceptronRule()  # p_up = p_down = 0.2, g_lim 0.1, p in [0.25, 0.9], freeze at 0.9, modulation
    w = t([[1.0, -1.0, 0.5, 0.0]])
    p = t([[0.25, 0.5, 0.9, 0.25]])
    x = t([[[1, 1, 1, 1], [1, -1, 1, -1]]])
    y = t([[-1, 1]])
    mask = t([[[1, 1, 0, 1], [0, 1, 1, 1]]])
    # pattern 1: x*s = (1, 1, 0, 1), w/p = (4, -2, 0.556, 0): output 2 -> y_hat 1, y - y_hat = -2
    # pattern 2: x*s = (0, -1, 1, -1): output 2 + 0.556 = 2.556 -> y_hat 1 = y, no error
    # u = mean(-2 * (1, 1, 0, 1), 0) = (-1, -1, 0, -1)
    u = pc.presyn_update(w, p, x, y, rule, mask=mask)
    assert torch.allclose(u, t([[-1, -1, 0, -1]]))
    # w += u (1 - p), with p before the step
    assert torch.allclose(w, t([[1 - 0.75, -1 - 0.5, 0.5, -0.75]]))
    # |u| > 0.1 -> p += 0.2 (1 - p); the third synapse (p = 0.9) is frozen
    assert torch.allclose(p, t([[0.25 + 0.75 * 0.2, 0.5 + 0.5 * 0.2, 0.9, 0.25 + 0.75 * 0.2]]))


def test_presyn_update_clips_and_freezes():
    rule = pc.PerceptronRule()
    w = torch.zeros(1, 3, dtype=torch.float64)
    p = t([[0.3, 0.89, 0.95]])
    # one pattern, only synapse 2 transmits; w = 0 -> y_hat 0 -> u = y x s = (0, 1, 0)
    x, y, mask = t([[[1, 1, 1]]]), t([[1]]), t([[[0, 1, 0]]])
    u = pc.presyn_update(w, p, x, y, rule, mask=mask)
    assert torch.equal(u, t([[0, 1, 0]]))
    # synapse 1: small update, 0.3 - 0.7 * 0.2 = 0.16 -> clipped to 0.25; synapse 2: 0.89 + 0.11 * 0.2 = 0.912
    # -> clipped to 0.9 (p_max); synapse 3: p >= 0.9 frozen even though its update is small
    assert torch.allclose(p, t([[0.25, 0.9, 0.95]]))
    # next step, every synapse with a large update: synapse 1 rises, the now frozen synapse 2 stays at 0.9
    pc.presyn_update(w, p, x, t([[-1]]), rule, mask=t([[[1, 1, 1]]]))
    assert torch.allclose(p, t([[0.25 + 0.75 * 0.2, 0.9, 0.95]]))


def test_presyn_update_without_modulation():
    rule = pc.PerceptronRule(modulation=False)
    w, p = torch.zeros(1, 2, dtype=torch.float64), t([[0.25, 0.5]])
    pc.presyn_update(w, p, t([[[1, -1]]]), t([[1]]), rule, mask=t([[[1, 1]]]))
    assert torch.equal(w, t([[1, -1]]))  # u itself, no (1 - p) factor


def test_accuracy_zero_output_and_vote():
    x = t([[[1, 1], [1, -1], [-1, 1]]])
    y = t([[1, 1, -1]])
    w = t([[1.0, 1.0]])
    # outputs 2, 0, 0: the zero outputs count as wrong
    assert pc.accuracy("standard", w, None, x, y).tolist() == [pytest.approx(1 / 3)]
    # p = 1: every sample is the deterministic output; the vote of 10 equal signs is that sign
    p1 = torch.ones(1, 2, dtype=torch.float64)
    assert pc.accuracy("presyn", w, p1, x, y, 10, torch.Generator().manual_seed(0)).tolist() == [pytest.approx(1 / 3)]
    # w = 0: every sampled output is 0 -> tied vote -> wrong
    assert pc.accuracy(
        "presyn", torch.zeros(1, 2, dtype=torch.float64), t([[0.5, 0.5]]), x, y, 10, torch.Generator().manual_seed(0)
    ).tolist() == [0.0]


def test_standard_run_is_vectorised_over_repetitions():
    """R perceptrons at once give exactly what each gives alone (standard rule: deterministic)."""
    tasks = pc.make_tasks(3, 2, 10, 50, torch.Generator().manual_seed(1))
    df_all, st_all = pc.run("standard", tasks, passes=3, batch_size=5)
    for r in range(3):
        one = pc.Tasks(tasks.x[r : r + 1], tasks.y[r : r + 1])
        df_one, st_one = pc.run("standard", one, passes=3, batch_size=5)
        assert torch.equal(st_all["w"][r], st_one["w"][0])
        a = df_all[df_all["repetition"] == r].drop(columns="repetition").reset_index(drop=True)
        b = df_one.drop(columns="repetition").reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)


def test_presyn_run_keeps_p_in_range_and_learns():
    tasks = pc.make_tasks(4, 3, 20, 100, torch.Generator().manual_seed(2))
    df, st = pc.run(
        "presyn",
        tasks,
        passes=5,
        batch_size=5,
        rule=pc.PerceptronRule(),
        eval_samples=5,
        generator=torch.Generator().manual_seed(3),
    )
    assert st["p"].min() >= 0.25 and st["p"].max() <= 0.9
    assert (st["p"] >= 0.9).any()  # some synapses froze
    acc = df[(df["metric"] == "accuracy")]
    # after the first task, task 1 is learned well above chance
    first = acc[(acc["task_trained"] == 1) & (acc["pass"] == 5) & (acc["task"] == "1")]["value"]
    assert len(first) == 4 and first.mean() > 0.8
    # before learning every output is 0: accuracy 0 (ties wrong)
    assert (acc[acc["epoch"] == 0]["value"] == 0).all()
    # task 1 is evaluated after every pass, every task at task ends
    assert set(acc[acc["task"] == "1"]["epoch"]) == set(range(0, 16))
    assert set(acc[acc["task"] == "3"]["epoch"]) == {0, 5, 10, 15}


def test_presynaptic_perceptron_beats_standard_at_paper_size():
    """The paper's protocol (N = 1000, 5 x 100 patterns, 25 passes), 4 repetitions: consolidation helps."""
    tasks = pc.make_tasks(4, 5, 100, 1000, torch.Generator().manual_seed(2019))
    finals = {}
    for kind in ("standard", "presyn"):
        df, _ = pc.run(
            kind, tasks, 25, 5, pc.PerceptronRule(), 10, eval_every=0, generator=torch.Generator().manual_seed(2021)
        )
        acc = df[(df["metric"] == "accuracy") & (df["epoch"] == df["epoch"].max())]
        finals[kind] = acc.groupby("repetition")["value"].mean()
    assert finals["presyn"].mean() > finals["standard"].mean() + 0.01
    assert 0.8 < finals["standard"].mean() < 0.95


def test_train_writes_run_and_plan(tmp_path):
    config = {
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
        },
    }
    runs = perceptron_plan.plan_runs(config)
    assert set(runs) == {"perceptron/standard/random/seed7", "perceptron/presyn/random/seed7"}
    spec = runs["perceptron/presyn/random/seed7"]
    pc.train(spec, {}, tmp_path / "run")
    for name in ("metrics.parquet", "state.pt", "provenance.json"):
        assert (tmp_path / "run" / name).exists()
    m = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    assert {
        "experiment",
        "method",
        "benchmark",
        "seed",
        "repetition",
        "epoch",
        "task",
        "metric",
        "value",
        "config_hash",
    } <= set(m)
    assert set(m["repetition"]) == {0, 1} and (m["experiment"] == "perceptron").all()
    state = torch.load(tmp_path / "run" / "state.pt")
    assert state["w"].shape == (2, 20) and state["p"].shape == (2, 20)
    # both methods of one seed see the same patterns
    a = pc.make_tasks(2, 2, 10, 20, torch.Generator().manual_seed(7))
    b = pc.make_tasks(2, 2, 10, 20, torch.Generator().manual_seed(7))
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    with pytest.raises(ValueError, match="multiple of batch_size"):
        perceptron_plan.plan_runs({**config, "perceptron": {**config["perceptron"], "n_patterns": 12}})
