"""Lifelong learning: task streams, BGD, EWC, the planner, and one end-to-end quick run (Fig 4, App. fig 3, App. table 1)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
import yaml

from conftest import ROOT
from presyn.baselines import BGDLearner, EWCLearner, bgd_update, empirical_fisher, flat_params, unflatten
from presyn.data import Dataset
from presyn.models import SynapticMLP
from presyn.planning.lifelong import plan_runs
from presyn.tasks import SPLIT_PAIRS, continuous_share, make_stream, permutations


def tiny_data(n_train=400, n_test=100, d=16, seed=0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    return Dataset(
        torch.randn(n_train, d, generator=g),
        torch.randint(0, 10, (n_train,), generator=g),
        torch.randn(n_test, d, generator=g),
        torch.randint(0, 10, (n_test,), generator=g),
    )


# ------------------------------------------------------------------------------------------- task streams
def test_split_tasks_rows_labels_and_sizes():
    data = tiny_data()
    stream = make_stream("split_mnist", data, seed=1)
    assert stream.n_tasks == 5 and stream.n_outputs == 2 and stream.perms is None
    for t, (a, b) in enumerate(SPLIT_PAIRS):
        rows = stream.train_rows[t]
        digits = data.y_train[rows]
        assert set(digits.tolist()) <= {a, b}
        assert len(rows) == int(((data.y_train == a) | (data.y_train == b)).sum())
        x, y = stream.test_set(t)
        assert len(y) == int(((data.y_test == a) | (data.y_test == b)).sum())
        assert torch.equal(y, data.y_test[stream.test_rows[t]] % 2)  # label = class % 2: even 0, odd 1
        assert torch.equal(x, data.x_test[stream.test_rows[t]])
        xb, yb = next(stream.task_batches(t, 7, torch.Generator().manual_seed(0)))
        assert xb.shape == (7, 16) and set(yb.tolist()) <= {0, 1}
    # every split item appears in exactly one task
    assert sum(len(r) for r in stream.train_rows) == len(data.y_train)


def test_permutations_are_seeded_and_applied_per_task():
    data = tiny_data()
    a, b = permutations(10, 16, seed=3), permutations(10, 16, seed=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, permutations(10, 16, seed=4))
    assert all(torch.equal(torch.sort(p).values, torch.arange(16)) for p in a)
    assert len({tuple(p.tolist()) for p in a}) == 10  # every task permuted differently (all 10 permuted)
    stream = make_stream("perm_mnist", data, seed=3)
    assert stream.n_tasks == 10 and stream.n_outputs == 10
    for t in (0, 7):
        x, y = stream.test_set(t)
        assert torch.equal(x, data.x_test[:, a[t]]) and torch.equal(y, data.y_test)
    # mixed-task batch (one gather) equals per-row permutation
    rows = torch.tensor([0, 5, 9])
    tasks = torch.tensor([2, 0, 9])
    xb, yb = stream.train_batch(rows, tasks)
    for i in range(3):
        assert torch.equal(xb[i], data.x_train[rows[i], a[tasks[i]]])
    assert torch.equal(yb, data.y_train[rows])


def test_continuous_share_schedule():
    n = 4
    u = torch.tensor([0.0, 0.05, 0.5, 0.9375, 1.0, 1.0625, 1.5, 3.5, 3.99])
    s = continuous_share(u, n)
    assert torch.allclose(s.sum(1), torch.ones(len(u), dtype=torch.float64))
    assert s[0, 0] == 1 and s[1, 0] == 1  # first task: no in-transition
    assert s[2, 0] == 1  # middle of a task: pure
    assert torch.allclose(s[3, :2], torch.tensor([0.75, 0.25], dtype=torch.float64))  # half-way through the out-ramp
    assert torch.allclose(s[4, :2], torch.tensor([0.5, 0.5], dtype=torch.float64))  # at the boundary: half / half
    assert torch.allclose(s[5, :2], torch.tensor([0.25, 0.75], dtype=torch.float64))  # half-way through the in-ramp
    assert s[7, 3] == 1 and s[8, 3] == 1  # last task: no out-transition
    # a middle task blends over 25% of its duration (1/8 in, 1/8 out)
    grid = 1 + (torch.arange(8000, dtype=torch.float64) + 0.5) / 8000
    mixed = (continuous_share(grid, n)[:, 1] < 1).double().mean()
    assert abs(float(mixed) - 0.25) < 1e-3


def test_continuous_batches_follow_the_mixture():
    n, d = 4000, 16
    # every image is 0..15, so a permuted image IS its task's permutation: each sample's task is readable
    data = Dataset(
        torch.arange(d, dtype=torch.float32).repeat(n, 1),
        torch.zeros(n, dtype=torch.long),
        torch.zeros(10, d),
        torch.zeros(10, dtype=torch.long),
    )
    stream = make_stream("cont_perm_mnist", data, seed=0, n_tasks=3)
    assert stream.continuous
    perms = stream.perms.float()

    def tasks_of(batches):
        xs = torch.cat([x for x, _ in batches])
        match = (xs[:, None, :] == perms[None]).all(-1)
        assert (match.sum(1) == 1).all()
        return match.float().argmax(1)

    gen = torch.Generator().manual_seed(0)
    first = tasks_of(stream.continuous_batches(0, 0, 4, 500, gen))
    assert len(first) == n and (first == 0).all()  # start of the stream: task 0 only
    late = tasks_of(stream.continuous_batches(0, 3, 4, 500, gen))
    # last quarter of task 0: its last eighth blends towards task 1 (share 0 -> 0.5): 12.5% task-1 samples expected
    frac = float((late == 1).float().mean())
    assert 0.09 < frac < 0.16 and not (late == 2).any()
    early1 = tasks_of(stream.continuous_batches(1, 0, 4, 500, gen))
    assert 0.09 < float((early1 == 0).float().mean()) < 0.16 and not (early1 == 2).any()
    last = tasks_of(stream.continuous_batches(2, 3, 4, 500, gen))
    assert (last == 2).all()  # end of the stream: no out-transition


def test_joint_batches_cover_every_task_once():
    data = tiny_data()
    stream = make_stream("perm_mnist", data, seed=0, n_tasks=3)
    seen = sum(len(y) for _, y in stream.joint_batches(64, torch.Generator().manual_seed(0)))
    assert seen == 3 * len(data.y_train)
    split = make_stream("split_mnist", data, seed=0)
    ys = torch.cat([y for _, y in split.joint_batches(64, torch.Generator().manual_seed(0))])
    assert len(ys) == len(data.y_train) and set(ys.tolist()) <= {0, 1}


# ------------------------------------------------------------------------------------------- BGD
def test_bgd_update_hand_computed():
    mu, sigma = torch.tensor([0.5, -1.0]), torch.tensor([0.1, 0.2])
    g = torch.tensor([[1.0, 0.0], [3.0, 2.0]])  # K = 2 samples
    eps = torch.tensor([[1.0, 0.5], [-1.0, 0.5]])
    bgd_update(mu, sigma, g, eps, eta=1.0)
    # E[g] = (2, 1); E[g eps] = ((1 - 3) / 2, (0 + 1) / 2) = (-1, 0.5)
    assert torch.allclose(mu, torch.tensor([0.5 - 0.01 * 2, -1.0 - 0.04 * 1]))
    s0 = 0.1 * math.sqrt(1 + (0.1 * -1 / 2) ** 2) - 0.01 * -1 / 2
    s1 = 0.2 * math.sqrt(1 + (0.2 * 0.5 / 2) ** 2) - 0.04 * 0.5 / 2
    assert torch.allclose(sigma, torch.tensor([s0, s1]))


def test_bgd_batched_gradients_match_autograd():
    torch.manual_seed(0)
    net = SynapticMLP([6, 5, 4, 3], torch.Generator().manual_seed(1), p_init=1.0)
    learner = BGDLearner(net, std_init=0.1, eta=1.0, mc_samples=3, generator=torch.Generator().manual_seed(2))
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    theta, _ = learner.sample(3)
    g, loss, _ = learner.gradients(x, y, theta)
    for k in range(3):
        th = theta[k].clone().requires_grad_(True)
        ws, bs = unflatten(net, th)
        h = x
        for i, (W, b) in enumerate(zip(ws, bs)):
            h = h @ W.t() + b
            if i < len(ws) - 1:
                h = torch.relu(h)
        torch.nn.functional.cross_entropy(h, y, reduction="sum").backward()  # g of the SUMMED batch loss
        assert torch.allclose(g[k], th.grad, atol=1e-5)
    # mu lives in the net (state_dict holds the means); a step moves mu and sigma
    before = flat_params(net).clone()
    learner.step(x, y)
    assert not torch.equal(before, flat_params(net)) and torch.equal(flat_params(net), learner.mu)
    assert not torch.equal(learner.sigma, torch.full_like(learner.sigma, 0.1))


def test_bgd_sample_accuracy_is_the_mean_of_sampled_networks_accuracies():
    """BGD's test (docs/protocol.md#bgd): n networks drawn from N(mu, sigma^2), each one's accuracy, then the mean
    (not the accuracy of the averaged softmax)."""
    net = SynapticMLP([6, 5, 4, 3], torch.Generator().manual_seed(1), p_init=1.0)
    learner = BGDLearner(net, std_init=1.0, eta=1.0, mc_samples=3, generator=torch.Generator().manual_seed(2))
    gen = torch.Generator().manual_seed(3)
    x, y = torch.randn(40, 6, generator=gen), torch.randint(0, 3, (40,), generator=gen)
    state = learner.gen.get_state()
    acc = learner.sample_accuracy(x, y, 10)
    learner.gen.set_state(state)  # the same draws, by hand
    eps = torch.randn((10, learner.mu.numel()), generator=learner.gen)
    accs, probs = [], []
    for k in range(10):
        ws, bs = unflatten(net, learner.mu + learner.sigma * eps[k])
        h = x
        for i, (W, b) in enumerate(zip(ws, bs)):
            h = h @ W.t() + b
            if i < len(ws) - 1:
                h = torch.relu(h)
        accs.append(float((h.argmax(1) == y).float().mean()))
        probs.append(torch.softmax(h, 1))
    assert len(set(accs)) > 1  # the sampled networks differ
    assert acc == pytest.approx(sum(accs) / 10, abs=1e-6)
    assert acc != pytest.approx(float((torch.stack(probs).mean(0).argmax(1) == y).float().mean()), abs=1e-6)


# ------------------------------------------------------------------------------------------- EWC
def _ewc(lam=3.0):
    net = SynapticMLP([6, 5, 3], torch.Generator().manual_seed(0), p_init=1.0)
    return EWCLearner(net, "sgd", lr=0.1, ewc_lambda=lam)


def test_empirical_fisher_matches_batch1_loop():
    learner = _ewc()
    x, y = (
        torch.randn(20, 6, generator=torch.Generator().manual_seed(1)),
        torch.randint(0, 3, (20,), generator=torch.Generator().manual_seed(2)),
    )
    fisher = empirical_fisher(learner.net, x, y, chunk=7)
    theta = flat_params(learner.net)
    direct = torch.zeros_like(theta)
    for i in range(20):
        th = theta.clone().requires_grad_(True)
        ws, bs = unflatten(learner.net, th)
        h = torch.relu(x[i] @ ws[0].t() + bs[0]) @ ws[1].t() + bs[1]
        torch.log_softmax(h, -1)[y[i]].backward()
        direct += th.grad.square()
    assert torch.allclose(fisher, direct / 20, atol=1e-6)


def test_ewc_penalty_and_gradient_against_direct_computation():
    learner = _ewc(lam=2.5)
    gen = torch.Generator().manual_seed(3)
    xs = [torch.randn(15, 6, generator=gen) for _ in range(2)]
    ys = [torch.randint(0, 3, (15,), generator=gen) for _ in range(2)]
    anchors, fishers = [], []
    for x, y in zip(xs, ys):
        for _ in range(3):
            learner.step(x, y)
        anchors.append(flat_params(learner.net).clone())
        fishers.append(empirical_fisher(learner.net, x, y))
        learner.end_task(x, y)
    theta = flat_params(learner.net) + 0.05
    direct = 2.5 * sum((f * (theta - a) ** 2).sum() for f, a in zip(fishers, anchors))
    assert torch.allclose(learner.penalty(theta), direct)
    th = theta.clone().requires_grad_(True)
    (2.5 * sum((f * (th - a) ** 2).sum() for f, a in zip(fishers, anchors))).backward()
    assert torch.allclose(learner.penalty_grad(theta), th.grad, atol=1e-6)
    # a step = CE gradient + penalty gradient (plain SGD, lr 0.1)
    x, y = torch.randn(10, 6, generator=gen), torch.randint(0, 3, (10,), generator=gen)
    before = flat_params(learner.net).clone()
    th = before.clone().requires_grad_(True)
    ws, bs = unflatten(learner.net, th)
    logits = torch.relu(x @ ws[0].t() + bs[0]) @ ws[1].t() + bs[1]
    (
        torch.nn.functional.cross_entropy(logits, y)
        + 2.5 * sum((f * (th - a) ** 2).sum() for f, a in zip(fishers, anchors))
    ).backward()
    learner.step(x, y)
    assert torch.allclose(flat_params(learner.net), before - 0.1 * th.grad, atol=1e-6)


# ------------------------------------------------------------------------------------------- planner
def test_planner_protocol():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    runs = plan_runs(config)
    main = [s for s in runs if not s.get("search") and not s.get("diagnostic")]
    search = [s for s in runs if s.get("search")]
    methods = {"presyn", "no_consolidation", "bgd", "ewc", "joint"}
    assert {s["method"] for s in main} == methods
    assert len(main) == 5 * 4 * 3 + 3  # + continuous permuted MNIST (presyn)
    by = {(s["method"], s["benchmark"], s["seed"]): s for s in main}
    assert by[("presyn", "split_mnist", 2019)]["model"]["lr"] == 0.001
    assert by[("presyn", "perm_mnist", 2019)]["model"]["lr"] == 0.01
    assert by[("presyn", "perm_mnist", 2019)]["model"]["modulation"] is True
    assert by[("presyn", "cont_perm_mnist", 2019)]["n_tasks"] == 10
    assert (
        by[("bgd", "split_mnist", 2019)]["batch_size"] == 128
        and by[("bgd", "split_mnist", 2019)]["model"]["mc_samples"] == 10
    )
    assert by[("bgd", "perm_fashion", 2019)]["model"]["eta"] == 0.1
    assert by[("no_consolidation", "split_mnist", 2019)]["model"] == {
        "kind": "deterministic",
        "optimizer": "adam",
        "lr": 1e-6,
    }
    assert by[("joint", "perm_mnist", 2019)]["joint"] is True
    assert by[("presyn", "split_mnist", 2019)]["n_tasks"] == 5
    assert by[("bgd", "perm_mnist", 2019)]["model"]["init"] == "fork"  # the fork's initial means (issue 18)
    assert all(s["holdout"] > 0 and s["eval_every"] == 0 and s["method"].startswith("ewcsearch-") for s in search)
    grid = config["lifelong"]["ewc_search"]["grid"]
    n_points = sum(
        len(grid["ewc_lambda"]) * len(grid["fisher"]) * (len(grid["reset_optimizer"]) if opt == "adam" else 1)
        for opt, _ in grid["optimizer_lr"]
    )
    assert n_points == 112 and len(search) == 2 * n_points * len(config["lifelong"]["benchmarks"])
    screen = [s for s in search if s["search"]["stage"] == "screen" and s["benchmark"] == "perm_mnist"]
    assert {s["epochs_per_task"] for s in screen} == {3} and {s["n_tasks"] for s in screen} == {3}
    assert not any(s["model"]["reset_optimizer"] and s["model"]["optimizer"] == "sgd" for s in search)
    evidence = {s["method"]: s for s in runs if s.get("diagnostic") == "bgd_evidence"}
    assert (
        evidence["bgd-fork-init-raw"]["dataset"]["std"] == 1.0
        and evidence["bgd-pytorch-init"]["model"]["init"] == "pytorch"
    )
    assert evidence["bgd-fork-init-padded32"]["dataset"]["pad"] == 2


# ------------------------------------------------------------------------------------------- end to end
@pytest.mark.e2e
def test_quick_config_builds_lifelong_figures(workdir):
    # quick config, restricted to the two benchmarks the figures draw (App. table 1 then has two columns + continuous)
    overlay = workdir.overlay("lifelong_test", {"lifelong": {"benchmarks": ["split_mnist", "perm_mnist"]}})
    workdir.snakemake(
        "figures/fig4.pdf",
        "figures/appfig3.pdf",
        "figures/apptable1.md",
        "results/lifelong/ewc_search.csv",
        configfiles=("config/quick.yaml", str(overlay)),
    )
    wd = workdir.path
    for name in ("fig4", "appfig3"):
        assert (wd / f"figures/{name}.pdf").stat().st_size > 1000 and (wd / f"figures/{name}.png").exists()
    # a run no figure plots per epoch: every task after the last epoch only, presynaptic summaries, final mean
    m = pd.read_parquet(wd / "results/runs/lifelong/presyn/perm_mnist/seed2019/metrics.parquet")
    acc = m[m["metric"] == "test_accuracy"]
    assert set(acc["task"]) == {"1", "2", "3"} and set(acc["epoch"]) == {3}  # quick: 3 tasks x 1 epoch
    # a Fig 4b run: task 1 after every epoch (quick: 5 tasks x 1 epoch), every task after the last
    curve = pd.read_parquet(wd / "results/runs/lifelong/presyn/split_mnist/seed2019/metrics.parquet")
    curve = curve[curve["metric"] == "test_accuracy"]
    assert curve.groupby("epoch")["task"].apply(set).to_dict() == {
        1: {"1"},
        2: {"1"},
        3: {"1"},
        4: {"1"},
        5: {"1", "2", "3", "4", "5"},
    }
    assert {"mean_p", "fraction_frozen", "current_task"} <= set(m["metric"])
    final = m[m["metric"] == "mean_accuracy"]["value"].iloc[0]
    assert final == pytest.approx(acc[acc["epoch"] == 3]["value"].mean())
    table = pd.read_csv(wd / "figures/apptable1.csv")
    assert set(table["method"]) == {"presyn", "no_consolidation", "bgd", "ewc", "joint"}
    assert set(table["benchmark"]) == {"split_mnist", "perm_mnist", "cont_perm_mnist"}
    assert (table["n"] == 2).all() and table["mean_accuracy_percent"].between(0, 100).all()
    row = table[(table["method"] == "presyn") & (table["benchmark"] == "split_mnist")].iloc[0]
    assert row["published"] == pytest.approx(82.90)
    assert list(table.columns) == ["method", "benchmark", "mean_accuracy_percent", "sem_percent", "n", "published"]
    md = (wd / "figures/apptable1.md").read_text()
    assert "QUICK" in md and "82.90 ± 0.01" in md
    stats = pd.read_csv(wd / "results/stats/fig4.csv")
    names = set(stats["name"])
    assert {
        "fig4.ttest.split_mnist.presyn_vs_no_consolidation",
        "fig4.task1_final.presyn",
        "fig4.final_mean_accuracy.split_mnist.joint",
        "fig4.task1_accuracy.presyn.e5",
    } <= names
    ap = pd.read_csv(wd / "results/stats/apptable1.csv")
    assert "apptable1.cont_perm_mnist.presyn" in set(ap["name"])
    a3 = set(pd.read_csv(wd / "results/stats/appfig3.csv")["name"])
    assert {"appfig3.fraction_frozen.last", "appfig3.mean_p.e3", "appfig3.final_accuracy.ewc.task5"} <= a3
    # the two-stage EWC search: every quick grid point screened, the top one confirmed, one choice per benchmark
    search = pd.read_csv(wd / "results/lifelong/ewc_search.csv")
    screen = search[search["stage"] == "screen"]
    assert set(screen["ewc_lambda"]) == {1.0, 100.0} and set(screen["fisher"]) == {"empirical", "exact"}
    assert screen.groupby("benchmark").size().eq(4).all()
    confirm = search[search["stage"] == "confirm"]
    assert confirm.groupby("benchmark").size().eq(1).all()  # quick: confirm_top 1
    assert search.groupby("benchmark")["chosen"].sum().eq(1).all() and not screen["chosen"].any()
    assert "| perm_mnist |" in (wd / "results/lifelong/ewc_search.md").read_text()
    # figures/all does not include the search
    assert not (wd / "figures/all").exists() or "ewc_search" not in (wd / "figures/all").read_text()


@pytest.mark.parametrize(
    "curve_tasks, expected_mid, task_end_eval",
    [([1], {"1"}, False), ([1, 3], {"1", "3"}, False), (None, {"1", "2", "3"}, False), ([1], {"1"}, True)],
)
def test_curve_tasks_limit_per_epoch_evaluation(tmp_path, curve_tasks, expected_mid, task_end_eval):
    """Between task ends only the curve tasks are evaluated; every task after the last epoch, and at
    every task end when task_end_eval is on."""
    import copy

    from presyn import planning
    from presyn.configs import deep_merge
    from presyn.data import make_synthetic, save_processed
    from presyn.experiments import run

    data = tmp_path / "mnist.npz"
    save_processed(make_synthetic(300, 60, seed=0), data, {"synthetic": True})
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    deep_merge(cfg, yaml.safe_load((ROOT / "config" / "quick.yaml").read_text()))
    deep_merge(
        cfg,
        {
            "lifelong": {
                "epochs_per_task": 2,
                "n_tasks": {"split": 3, "perm": 3},
                "curve_tasks": curve_tasks,
                "task_end_eval": task_end_eval,
                "curve_benchmarks": None,
            }
        },
    )
    spec = copy.deepcopy(
        next(
            s
            for s in planning.all_runs(cfg, ["lifelong"]).values()
            if s["method"] == "no_consolidation" and s["benchmark"] == "perm_mnist"
        )
    )
    spec["dataset"]["subset"] = None
    assert spec["curve_tasks"] == curve_tasks
    run(spec, {"data": str(data)}, tmp_path / "run", "cpu")
    df = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    acc = df[df["metric"] == "test_accuracy"]
    tasks_at = acc.groupby("epoch")["task"].apply(set).to_dict()
    end = {"1", "2", "3"} if task_end_eval else expected_mid
    assert tasks_at == {1: expected_mid, 2: end, 3: expected_mid, 4: end, 5: expected_mid, 6: {"1", "2", "3"}}
    seen = df[df["metric"] == "seen_tasks_accuracy"]
    assert sorted(seen["epoch"]) == ([2, 4, 6] if task_end_eval else [6])
    assert df[df["metric"] == "mean_accuracy"]["epoch"].tolist() == [6]


def test_curve_tasks_out_of_range_is_a_clear_error():
    from presyn.experiments.lifelong import curve_task_indices

    assert curve_task_indices({"curve_tasks": [2, 1, 2]}, 5) == [0, 1]
    with pytest.raises(ValueError, match=r"curve_tasks \[7\] outside 1..5"):
        curve_task_indices({"curve_tasks": [1, 7]}, 5)


def test_only_the_runs_fig4b_plots_evaluate_every_epoch():
    """Fig 4b plots presyn and no_consolidation on Split MNIST per epoch: only those runs evaluate between
    task ends; every other run (other methods, benchmarks, the continuous stream) after the last epoch only."""
    from presyn import planning
    from presyn.configs import deep_merge, load_config

    runs = planning.all_runs(load_config(ROOT / "config" / "config.yaml"), ["lifelong"])
    curve = {(s["method"], s["benchmark"]) for s in runs.values() if s["eval_every"]}
    assert curve == {("presyn", "split_mnist"), ("no_consolidation", "split_mnist")}
    assert {s["eval_every"] for s in runs.values() if (s["method"], s["benchmark"]) in curve} == {1}
    every = planning.all_runs(
        deep_merge(
            load_config(ROOT / "config" / "config.yaml"),
            {"lifelong": {"curve_benchmarks": None, "curve_methods": ["bgd"]}},
        ),
        ["lifelong"],
    )
    assert {s["benchmark"] for s in every.values() if s["eval_every"]} == {
        "split_mnist",
        "split_fashion",
        "perm_mnist",
        "perm_fashion",
    }
    assert {s["method"] for s in every.values() if s["eval_every"]} == {"bgd"}


# ------------------------------------------------------------------------------------------- issue 18: BGD as the fork, EWC search
def test_bgd_first_step_hand_computed_on_the_smallest_softmax_net():
    """784-... is too big to do by hand: a 1-input, 2-class net (2 weights + 2 biases, all BGD parameters),
    K = 2 samples, one input. Summed-loss gradient; mu and sigma both updated with the OLD sigma."""
    net = SynapticMLP([1, 2], torch.Generator().manual_seed(0), p_init=1.0)
    mu0 = flat_params(net).clone().double()  # (W0, W1, b0, b1)
    gen = torch.Generator().manual_seed(5)
    learner = BGDLearner(net, std_init=0.3, eta=1.0, mc_samples=2, generator=gen)
    eps = torch.randn((2, 4), generator=torch.Generator().manual_seed(5)).double()  # what the step draws
    x, y = torch.tensor([[2.0]]), torch.tensor([1])
    sigma0 = 0.3
    grads = []
    for k in range(2):
        w0, w1, b0, b1 = (mu0 + sigma0 * eps[k]).tolist()
        z0, z1 = w0 * 2.0 + b0, w1 * 2.0 + b1
        p0 = math.exp(z0) / (math.exp(z0) + math.exp(z1))
        d0, d1 = p0, (1 - p0) - 1.0  # dL/dz for the true class 1 (batch of one: summed = mean)
        grads.append([d0 * 2.0, d1 * 2.0, d0, d1])
    g = torch.tensor(grads, dtype=torch.float64)
    e_g, e_ge = g.mean(0), (g * eps).mean(0)
    mu1 = mu0 - sigma0**2 * e_g
    sigma1 = sigma0 * torch.sqrt(1 + (sigma0 * e_ge / 2) ** 2) - sigma0**2 * e_ge / 2
    learner.step(x, y)
    assert torch.allclose(learner.mu.double(), mu1, atol=1e-6)
    assert torch.allclose(learner.sigma.double(), sigma1, atol=1e-6)
    # the other order (sigma first, then mu with the new sigma) would differ measurably here
    assert not torch.allclose(mu0 - sigma1**2 * e_g, mu1, atol=1e-4)


def test_fork_initialisation_statistics_on_the_full_network():
    from presyn.baselines import fork_init_

    sizes = [784, 200, 200, 10]
    net = SynapticMLP(sizes, torch.Generator().manual_seed(2019), p_init=1.0)
    fork_init_(net, torch.Generator().manual_seed(2019))
    for W, (fan_out, fan_in) in zip(net.weights, net.shapes):
        target = math.sqrt(2.0 / (fan_in + fan_out))
        assert abs(float(W.std()) / target - 1) < 0.05 and abs(float(W.mean())) < 0.05 * target
    # biases N(0, sqrt(2)/sqrt(1 + fan_out)): pooled over seeds so that each layer has >= 2000 draws
    pooled = [[] for _ in net.shapes]
    for seed in range(200):
        n = SynapticMLP(sizes, torch.Generator().manual_seed(seed), p_init=1.0)
        fork_init_(n, torch.Generator().manual_seed(seed))
        for i, b in enumerate(n.biases):
            pooled[i].append(b)
    for biases, (fan_out, _) in zip(pooled, net.shapes):
        b = torch.cat(biases)
        assert abs(float(b.std()) / (math.sqrt(2.0) / math.sqrt(1 + fan_out)) - 1) < 0.05
    # the default differs: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the first layer has std 0.0206, not 0.0446
    default = SynapticMLP(sizes, torch.Generator().manual_seed(2019), p_init=1.0)
    assert float(default.weights[0].std()) < 0.6 * math.sqrt(2.0 / (784 + 200))


def test_exact_fisher_two_class_hand_computed():
    from presyn.baselines import exact_fisher

    net = SynapticMLP([1, 2], torch.Generator().manual_seed(3), p_init=1.0)
    x = torch.tensor([[0.5], [-1.5], [2.0]])
    (w0, w1), (b0, b1) = net.weights[0][:, 0].tolist(), net.biases[0].tolist()
    fw, fb = [0.0, 0.0], [0.0, 0.0]
    for (xi,) in x.tolist():
        z0, z1 = w0 * xi + b0, w1 * xi + b1
        p0 = math.exp(z0) / (math.exp(z0) + math.exp(z1))
        p1 = 1 - p0
        # sum_c p_c (d log p_c / d z_j)^2 = p0 (1 - p0)^2 + p1 p0^2 = p0 p1 for both logits
        for j in range(2):
            fb[j] += p0 * p1 / 3
            fw[j] += xi**2 * p0 * p1 / 3
    fisher = exact_fisher(net, x)
    assert torch.allclose(fisher, torch.tensor([*fw, *fb]), atol=1e-6)
    # the empirical Fisher with one label differs from it
    assert not torch.allclose(empirical_fisher(net, x, torch.tensor([0, 0, 0])), fisher, atol=1e-3)


def test_fishers_match_per_example_autograd_through_two_relu_layers():
    """The matmul form (delta^2)^T a^2 against squared per-example autograd gradients, on a net with two
    hidden ReLU layers (so the back-propagation through both masks is exercised), in uneven chunks."""
    from presyn.baselines import exact_fisher

    net = SynapticMLP([5, 4, 3, 3], torch.Generator().manual_seed(4), p_init=1.0)
    gen = torch.Generator().manual_seed(5)
    x, y = torch.randn(11, 5, generator=gen), torch.randint(0, 3, (11,), generator=gen)
    theta = flat_params(net)
    emp, exact = torch.zeros_like(theta), torch.zeros_like(theta)
    for i in range(11):
        for c in range(3):
            th = theta.clone().requires_grad_(True)
            ws, bs = unflatten(net, th)
            h = torch.relu(torch.relu(x[i] @ ws[0].t() + bs[0]) @ ws[1].t() + bs[1]) @ ws[2].t() + bs[2]
            logp = torch.log_softmax(h, -1)
            logp[c].backward()
            exact += logp[c].exp().detach() * th.grad.square()
            if c == int(y[i]):
                emp += th.grad.square()
    assert torch.allclose(exact_fisher(net, x, chunk=4), exact / 11, atol=1e-7)
    assert torch.allclose(empirical_fisher(net, x, y, chunk=4), emp / 11, atol=1e-7)


def test_ewc_optimizer_reset_at_task_boundary():
    net = SynapticMLP([6, 5, 3], torch.Generator().manual_seed(0), p_init=1.0)
    learner = EWCLearner(net, "adam", lr=0.01, ewc_lambda=1.0, reset_optimizer=True)
    x, y = (
        torch.randn(12, 6, generator=torch.Generator().manual_seed(1)),
        torch.randint(0, 3, (12,), generator=torch.Generator().manual_seed(2)),
    )
    learner.step(x, y)
    old = learner.optimizer
    assert old.state  # Adam moments exist
    learner.end_task(x, y)
    assert learner.optimizer is not old and not learner.optimizer.state
    keep = EWCLearner(
        SynapticMLP([6, 5, 3], torch.Generator().manual_seed(0), p_init=1.0), "adam", lr=0.01, ewc_lambda=1.0
    )
    keep.step(x, y)
    opt = keep.optimizer
    keep.end_task(x, y)
    assert keep.optimizer is opt and opt.state


def test_ewc_search_never_reads_the_test_split(tmp_path, monkeypatch):
    """A search run (holdout > 0) trained in-process with np.load patched so that reading a test array fails."""
    import numpy as np

    from conftest import write_tiny_dataset
    from presyn.experiments import lifelong as ll

    data = tmp_path / "mnist.npz"
    write_tiny_dataset(data, n_train=400, n_test=100)
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    config["lifelong"]["ewc_search"]["grid"] = {
        "optimizer_lr": [["adam", 1e-3]],
        "ewc_lambda": [10],
        "fisher": ["exact"],
        "reset_optimizer": [True],
    }
    config["lifelong"]["ewc_search"]["holdout"] = 100
    config["lifelong"]["ewc_search"]["screen"] = {"epochs_per_task": 1, "n_tasks": {"split": 2, "perm": 2}}
    spec = next(
        s
        for s in plan_runs(config)
        if s.get("search") and s["benchmark"] == "split_mnist" and s["search"]["stage"] == "screen"
    )
    real_load = np.load

    class NoTest:
        def __init__(self, z):
            self.z = z

        def __enter__(self):
            return self

        def __exit__(self, *a):
            self.z.close()

        def __getitem__(self, key):
            assert key not in ("x_test", "y_test"), f"the search read {key}"
            return self.z[key]

    monkeypatch.setattr(np, "load", lambda *a, **k: NoTest(real_load(*a, **k)))
    ll.train(spec, {"data": str(data)}, tmp_path / "run", torch.device("cpu"))
    monkeypatch.setattr(np, "load", real_load)
    m = pd.read_parquet(tmp_path / "run" / "metrics.parquet")
    assert np.isfinite(m.loc[m.metric == "mean_accuracy", "value"]).all() and (m.metric == "diverged").any()
    # and the patch bites: a figure run (holdout 0) reads the test split and is refused
    monkeypatch.setattr(np, "load", lambda *a, **k: NoTest(real_load(*a, **k)))
    figure_spec = next(
        s for s in plan_runs(config) if not s.get("search") and s["method"] == "ewc" and s["benchmark"] == "split_mnist"
    )
    with pytest.raises(AssertionError, match="the search read x_test"):
        ll.train(figure_spec, {"data": str(data)}, tmp_path / "run2", torch.device("cpu"))


def test_ewc_search_choice_ties_to_the_smaller_lambda_then_empirical_then_no_reset():
    from presyn.experiments.ewc_search import choose, scores_table, top_points

    def row(stage, index, lam, fisher, reset, score, bench="split_mnist"):
        return {
            "benchmark": bench,
            "stage": stage,
            "seed": 2019,
            "grid_index": index,
            "optimizer": "adam",
            "lr": 1e-3,
            "ewc_lambda": lam,
            "fisher": fisher,
            "reset_optimizer": reset,
            "score": score,
            "diverged": score != score,
        }

    rows = [
        row("screen", 0, 100.0, "exact", False, 0.70),
        row("screen", 1, 10.0, "exact", True, 0.70),
        row("screen", 2, 10.0, "empirical", True, 0.70),
        row("screen", 3, 10.0, "empirical", False, 0.70),
        row("screen", 4, 1.0, "empirical", False, float("nan")),
        row("screen", 5, 1000.0, "empirical", False, 0.60),
    ]
    screen = scores_table(rows)
    top = top_points(screen, 3)
    assert list(top["grid_index"]) == [
        3,
        2,
        1,
    ]  # equal scores: smaller lambda, then empirical, then no reset; NaN never
    confirm = scores_table(
        [
            row("confirm", 3, 10.0, "empirical", False, 0.81),
            row("confirm", 1, 10.0, "exact", True, 0.83),
            row("confirm", 2, 10.0, "empirical", True, 0.83),
        ]
    )
    assert int(choose(confirm)["grid_index"].iloc[0]) == 2  # 0.83 tie: empirical before exact
