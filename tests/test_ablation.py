"""Fig 5a ablation: every variant is the presynaptic model with exactly the named mechanism switched
(config -> planner -> factory -> one learner step, checked against the rule written out by hand),
the planner's specs, tuned-parameter files, the random search and the Fig 5 statistics."""

from __future__ import annotations

import copy
import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml

from presyn import presyn_rule
from presyn.data import make_synthetic, save_processed
from presyn.experiments import TRAINERS
from presyn.experiments import ablation as ab
from presyn.factory import build_learner
from presyn.learners import PresynapticRule
from presyn.planning import ablation as abp
from presyn.training import Generators

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
SEC = CONFIG["ablation"]

# What each variant must be, written from docs/protocol.md#fig-5a-ablation (not read from the code under test):
# modulation, freezing threshold, sampling p ("ghost": None = the learned p), normalisation; the ghost's
# divisor as the authors' code has it (ddc.py: mask ~ Bernoulli(0.5), param /= the learned ghost p~) or 0.5.
PERM_TUNED = {
    "full": (0.04460, 0.04022, 0.94792),
    "noFreeze": (0.04523, 0.04379, 1.0),
    "noFreezeNoMod": (0.09202, 0.02955, 1.0),
    "noMod": (0.08535, 0.03559, 0.92273),
    "fixedP": (0.05715, 0.05189, 0.92944),
    "noNorm": (0.09712, 0.02752, 0.91280),
    "fixedPfixedNorm": (0.05715, 0.05189, 0.92944),
}
INTENT = {
    "full": dict(modulation=True, sample_p=None, normalise=True),
    "noFreeze": dict(modulation=True, sample_p=None, normalise=True),
    "noFreezeNoMod": dict(modulation=False, sample_p=None, normalise=True),
    "noMod": dict(modulation=False, sample_p=None, normalise=True),
    "fixedP": dict(modulation=True, sample_p=0.5, normalise=True, divisor="learned"),
    "fixedPfixedNorm": dict(modulation=True, sample_p=0.5, normalise=True, divisor="fixed"),
    "noNorm": dict(modulation=True, sample_p=None, normalise=False),
}
LR, G_LIM, P_MIN = 0.01, 0.001, 0.25


pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------------------- the rule itself
def test_rule_hand_computed():
    """The rule (presyn_rule.update) on four synapses: modulation, release update, clamp and freezing by hand."""
    g = torch.tensor([0.01, 0.0001, 0.01, 0.0001])
    p0 = torch.tensor([0.25, 0.5, 0.95, 0.95])
    base = dict(lr=0.1, p_up=0.1, p_down=0.2, g_lim=0.001, p_min=0.25)

    def apply(**flags):
        return presyn_rule.update(torch.ones(4), p0.clone(), g.clone(), **PresynapticRule(**base, **flags).constants())

    w, p = apply(modulation=True, p_freeze=0.94)
    assert torch.allclose(w, 1 - 0.1 * g * (1 - p0))  # (1 - p) modulation
    # p < p_freeze: 0.25 + 0.75 * 0.1 (|g| >= g_lim), 0.5 - 0.5 * 0.2 (|g| < g_lim); p >= 0.94: frozen
    assert torch.allclose(p, torch.tensor([0.325, 0.4, 0.95, 0.95]))
    w, p = apply(modulation=True, p_freeze=1.0)  # no freezing: the high-p synapses move too
    assert torch.allclose(p, torch.tensor([0.325, 0.4, 0.95 + 0.05 * 0.1, 0.95 - 0.05 * 0.2]))
    w, p = apply(modulation=False, p_freeze=0.94)  # no modulation: plain gradient step, p rule unchanged
    assert torch.allclose(w, 1 - 0.1 * g)
    assert torch.allclose(p, torch.tensor([0.325, 0.4, 0.95, 0.95]))
    w, p = presyn_rule.update(
        torch.ones(1), torch.tensor([0.26]), torch.tensor([0.0]), **PresynapticRule(**base).constants()
    )
    assert p.item() == pytest.approx(0.25)  # 0.26 - 0.74 * 0.2 < p_min -> clamped


# ------------------------------------------------------------ config -> learner, one step by hand
def variant_learner(variant: str, sizes=(6, 5, 3), seed: int = 0):
    model = abp.model_block(SEC, "perm_mnist", variant)
    learner = build_learner(
        model, list(sizes), Generators.from_seed(seed, torch.device("cpu")), torch.device("cpu"), P_MIN
    )
    return model, learner


def expected_gradient(w_bar: torch.Tensor, net, scale: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """dL/dw_bar by autograd for effective weights w_bar * scale (the net's fixed biases)."""
    w = w_bar.detach().clone().requires_grad_(True)
    h = x
    layers = net.views(w * scale)
    for i, (W, b) in enumerate(zip(layers, net.biases)):
        h = h @ W.t() + b
        if i < len(layers) - 1:
            h = torch.relu(h)
    (g,) = torch.autograd.grad(F.cross_entropy(h, y), w)
    return g


@pytest.mark.parametrize("variant", list(INTENT))
def test_variant_step_matches_hand_rule(variant):
    intent = INTENT[variant]
    p_up, p_down, p_freeze = PERM_TUNED[variant]
    model, learner = variant_learner(variant)
    net = learner.net
    n = net.w.numel()
    # release probabilities spread over [0.25, 0.99]: some above every variant's freezing threshold
    net.p.copy_(torch.linspace(0.25, 0.99, n)[torch.randperm(n, generator=torch.Generator().manual_seed(1))])
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(8, 6, generator=gen), torch.randint(0, 3, (8,), generator=gen)
    w0, p0 = net.w.clone(), net.p.clone()

    scales = []
    original = learner.sample_weights

    def recording():
        s, w_eff = original()
        scales.append(s.clone())
        return s, w_eff

    learner.sample_weights = recording
    learner.step(x, y)
    (scale,) = scales

    # sampling: mask / p_sample (normalised) or mask (no normalisation); ghost samples with 0.5
    mask = (scale != 0).to(scale.dtype)
    p_sample = torch.full_like(p0, intent["sample_p"]) if intent["sample_p"] else p0
    divisor = p0 if intent.get("divisor") == "learned" else p_sample
    assert torch.allclose(scale, mask / divisor if intent["normalise"] else mask)

    # strength: w - lr * g * (1 - p)^modulation, p = the learned p (also for the ghost variant)
    g = expected_gradient(w0, net, scale, x, y)
    step = g * (1 - p0) if intent["modulation"] else g
    assert torch.allclose(net.w, w0 - LR * step, rtol=1e-5, atol=1e-7)

    # release: learned p moves by (1 - p)(+p_up | -p_down), clamped, unless p >= p_freeze
    delta = torch.where(g.abs() >= G_LIM, torch.tensor(p_up), torch.tensor(-p_down))
    p_new = (p0 + (1 - p0) * delta).clamp(P_MIN, 1.0)
    if p_freeze < 1.0:
        p_new = torch.where(p0 < p_freeze, p_new, p0)
    assert torch.allclose(net.p, p_new, atol=1e-6)

    high = p0 >= 0.94792
    if p_freeze < 1.0:
        assert torch.equal(net.p[p0 >= p_freeze], p0[p0 >= p_freeze])  # frozen synapses never change
    else:
        assert (net.p[high] != p0[high]).all()  # without freezing even p >= 0.95 keeps moving


def test_ghost_samples_half_but_learns_p():
    """fixedP: every synapse transmits with probability 0.5 whatever its learned p; the learned p still moves."""
    _, ghost = variant_learner("fixedP", sizes=(784, 200, 10))
    _, full = variant_learner("full", sizes=(784, 200, 10))
    s = ghost.sample_weights()[0]
    assert set(torch.unique(s).tolist()) == {0.0, 2.0}
    assert (s != 0).float().mean().item() == pytest.approx(0.5, abs=0.01)
    assert (full.sample_weights()[0] != 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    p0 = ghost.net.p.clone()
    gen = torch.Generator().manual_seed(0)
    ghost.step(torch.randn(32, 784, generator=gen), torch.randint(0, 10, (32,), generator=gen))
    assert not torch.equal(ghost.net.p, p0)


def _three_synapse_ghost(normaliser: str):
    """The learner on a [1, 3] network: 3 synapses, 1 input, 3 outputs (arithmetic one can check by hand)."""
    from presyn.learners import PresynapticLearner, PresynapticRule
    from presyn.models import SynapticMLP

    gens = Generators.from_seed(0, torch.device("cpu"))
    net = SynapticMLP([1, 3], gens.init, torch.device("cpu"), p_min=P_MIN, p_init=0.5)
    net.w.copy_(torch.tensor([0.4, -0.2, 0.8]))
    net.p.copy_(torch.tensor([0.5, 0.8, 0.25]))  # learned ghost p~ (the authors' buffer, started at 0.5)
    rule = PresynapticRule(
        lr=0.1,
        p_up=0.05,
        p_down=0.1,
        g_lim=0.05,
        p_freeze=0.9,
        modulation=True,
        sample_p=0.5,
        ghost_normaliser=normaliser,
    )
    return PresynapticLearner(net, rule, gens.masks), net


@pytest.mark.parametrize("cpu_loops", [True, False], ids=["numba", "torch"])
@pytest.mark.parametrize("normaliser", ["learned", "fixed"])
def test_ghost_forward_and_update_hand_computed(normaliser, cpu_loops):
    """The ghost control on 3 synapses, by hand. Authors' code (ddc.py): mask ~ Bernoulli(0.5) whatever p~,
    effective weight mask * w / p~ with p~ the learned ghost probability; 'fixed': mask * w / 0.5."""
    learner, net = _three_synapse_ghost(normaliser)
    learner._cpu_loops = cpu_loops  # both kernels: numba loops (CPU default) and the torch functions (GPU, compiled)
    bits = torch.tensor([-32768, 100, -100], dtype=torch.int16)  # u = 0, 0.5015, 0.4985 -> mask 1, 0, 1 at p = 0.5
    learner._draw_bits = lambda: bits
    scale, w_eff = learner.sample_weights()
    divisor = torch.tensor([0.5, 0.8, 0.25]) if normaliser == "learned" else torch.tensor([0.5, 0.5, 0.5])
    expect_scale = torch.tensor([1.0, 0.0, 1.0]) / divisor
    assert torch.equal(scale, expect_scale)  # learned: [2, 0, 4]; fixed: [2, 0, 2]
    assert torch.equal(w_eff, torch.tensor([0.4, -0.2, 0.8]) * expect_scale)

    # one step on x = 1, label 0 of the 3 outputs: dL/dW_eff = softmax(W_eff * 1 + b) - onehot
    learner.sample_weights = lambda: (scale, w_eff)
    b = net.biases[0].clone()
    probs = torch.softmax(w_eff + b, 0)
    g_eff = probs - torch.tensor([1.0, 0.0, 0.0])
    g = g_eff * expect_scale  # gradient wrt w_bar
    w0, p0 = torch.tensor([0.4, -0.2, 0.8]), torch.tensor([0.5, 0.8, 0.25])
    learner.step(torch.ones(1, 1), torch.tensor([0]))
    assert torch.allclose(net.w, w0 - 0.1 * g * (1 - p0), atol=1e-7)  # modulation by the learned p~
    delta = torch.where(g.abs() >= 0.05, torch.tensor(0.05), torch.tensor(-0.1))
    assert torch.allclose(net.p, (p0 + (1 - p0) * delta).clamp(P_MIN, 1.0), atol=1e-7)


def test_ghost_normaliser_authors_default_and_checked():
    """The rule's default is the authors' ghost (divide by the learned p~); the config's fixedP says so and starts
    p~ at 0.5; an unknown normaliser is refused by name."""
    from presyn.learners import PresynapticLearner, PresynapticRule

    assert PresynapticRule(lr=0.1).ghost_normaliser == "learned"
    model = abp.model_block(SEC, "split_mnist", "fixedP")
    assert (model["sample_p"], model["p_init"], model.get("ghost_normaliser", "learned")) == (0.5, 0.5, "learned")
    _, ghost = variant_learner("fixedP")
    assert torch.all(ghost.net.p == 0.5)
    _, variant = variant_learner("fixedPfixedNorm")
    assert torch.all(variant.net.p == P_MIN)
    net = variant.net
    with pytest.raises(ValueError, match="ghost_normaliser 'sometimes'"):
        PresynapticLearner(net, PresynapticRule(lr=0.1, sample_p=0.5, ghost_normaliser="sometimes"), torch.Generator())


def test_no_normalisation_init_and_energy():
    """noNorm: weights start at the default init / p_min, effective weight mask * w, energy sum p |w|."""
    _, nonorm = variant_learner("noNorm", seed=3)
    _, full = variant_learner("full", seed=3)
    assert torch.allclose(nonorm.net.w, full.net.w / P_MIN)
    assert set(torch.unique(nonorm.sample_weights()[0]).tolist()) <= {0.0, 1.0}
    nonorm.net.p.fill_(0.5)
    assert nonorm.synaptic_energy() == pytest.approx(float((0.5 * nonorm.net.w.abs()).sum()), rel=1e-6)
    assert full.synaptic_energy() == pytest.approx(float(full.net.w.abs().sum()), rel=1e-6)


# ----------------------------------------------------------------------------------- the planner
def test_plan_runs_full_config():
    runs = abp.plan_runs(CONFIG)
    assert len(runs) == 2 * 7 * 3  # benchmarks x variants x seeds
    assert {r["experiment"] for r in runs} == {"ablation"}
    assert {r["method"] for r in runs} == {f"ablation-{v}" for v in INTENT}
    assert importlib.import_module(TRAINERS["ablation"]).train  # the lifelong trainer
    by = {(r["benchmark"], r["variant"]): r for r in runs if r["seed"] == 2019}
    full = by[("split_mnist", "full")]["model"]
    assert full == {
        "kind": "presyn",
        "g_lim": 0.001,
        "p_init": "min",
        "lr": 0.001,
        "p_up": 0.05835,
        "p_down": 0.06247,
        "p_freeze": 0.94453,
        "modulation": True,
    }
    assert by[("perm_mnist", "full")]["model"]["lr"] == 0.01
    assert by[("perm_mnist", "noFreeze")]["model"]["p_freeze"] == 1.0
    assert by[("perm_mnist", "fixedP")]["model"]["sample_p"] == 0.5
    assert by[("perm_mnist", "noNorm")]["model"]["normalise"] is False
    assert by[("split_mnist", "noMod")]["model"]["modulation"] is False
    spec = by[("perm_mnist", "full")]
    assert (spec["n_tasks"], spec["epochs_per_task"], spec["holdout"], spec["joint"]) == (10, 10, 0, False)
    assert by[("split_mnist", "full")]["n_tasks"] == 5


def test_variant_flags_win_and_tuned_file(tmp_path):
    sec = copy.deepcopy(SEC)
    result = tmp_path / "full.yaml"
    result.write_text(yaml.safe_dump({"best": {"p_up": 0.011, "p_down": 0.022, "p_freeze": 0.93}, "trials": []}))
    sec["tuned"]["perm_mnist"]["full"] = str(result)
    sec["tuned"]["perm_mnist"]["noFreeze"] = {"p_up": 0.05, "p_down": 0.05, "p_freeze": 0.91}
    assert abp.model_block(sec, "perm_mnist", "full")["p_up"] == 0.011
    assert abp.model_block(sec, "perm_mnist", "noFreeze")["p_freeze"] == 1.0  # the variant's flag wins
    sec["tuned"]["perm_mnist"]["full"] = str(tmp_path / "missing.yaml")
    with pytest.raises(FileNotFoundError, match="random search"):
        abp.model_block(sec, "perm_mnist", "full")
    config = {**CONFIG, "ablation": {**SEC, "run_variants": ["full", "fixedP"]}}
    assert {r["variant"] for r in abp.plan_runs(config)} == {"full", "fixedP"}
    with pytest.raises(ValueError, match="unknown variants"):
        abp.plan_runs({**CONFIG, "ablation": {**SEC, "run_variants": ["nope"]}})


# ------------------------------------------------------------------------------ the random search
def test_draw_trial_ranges_and_fixed_flags():
    search = SEC["search"]
    trials = [abp.draw_trial(search, SEC["variants"]["full"], i) for i in range(200)]
    assert trials[7] == abp.draw_trial(search, SEC["variants"]["full"], 7)  # a pure function of (seed, index)
    arr = np.array([[t[k] for k in abp.SEARCHED] for t in trials])
    assert (arr[:, :2] >= 0.01).all() and (arr[:, :2] <= 0.1).all()
    assert (arr[:, 2] >= 0.9).all() and (arr[:, 2] <= 0.96).all()
    assert len(np.unique(arr[:, 0])) == 200
    assert all(abp.draw_trial(search, SEC["variants"]["noFreeze"], i)["p_freeze"] == 1.0 for i in range(5))


def test_best_trial_picks_highest_score():
    trials = [
        {
            "benchmark": "perm_mnist",
            "variant": "full",
            "trial": i,
            "params": {"p_up": 0.01 * (i + 1), "p_down": 0.02, "p_freeze": 0.93},
            "score": s,
            "early_stopped": s < 0.2,
        }
        for i, s in enumerate([0.5, 0.9, 0.1, 0.7])
    ]
    best = ab.best_trial(trials)
    assert best["best"] == {"p_up": 0.02, "p_down": 0.02, "p_freeze": 0.93}
    assert best["best_trial"] == 1 and best["n_early_stopped"] == 1
    assert [t["trial"] for t in best["trials"]] == [1, 3, 0, 2]


@pytest.fixture
def tiny_config(tmp_path):
    arrays = make_synthetic(600, 200, n_classes=10, seed=0)
    save_processed(arrays, tmp_path / "mnist.npz", {"synthetic": True})
    config = copy.deepcopy(CONFIG)
    config["data"]["subset"] = None
    config["ablation"].update(n_tasks={"split": 2, "perm": 2}, epochs_per_task=1)
    config["ablation"]["search"].update(holdout=100)
    return config, str(tmp_path / "mnist.npz")


def test_search_trial_early_stop_and_score(tiny_config):
    config, data = tiny_config
    config["ablation"]["search"]["early_stop_task1"] = 1.01  # nothing reaches it: stop after task 1
    spec = abp.search_spec(config, "split_mnist", "fixedP", 3)
    assert spec["holdout"] == 100 and spec["model"]["sample_p"] == 0.5
    assert spec["model"]["p_up"] == abp.draw_trial(config["ablation"]["search"], SEC["variants"]["fixedP"], 3)["p_up"]
    stopped = ab.search_trial(spec, data)
    assert stopped["early_stopped"] and len(stopped["task_accuracies"]) == 1
    assert stopped["score"] == pytest.approx(stopped["task1_accuracy"] / 2)
    config["ablation"]["search"]["early_stop_task1"] = 0.0
    done = ab.search_trial(abp.search_spec(config, "split_mnist", "fixedP", 3), data)
    assert not done["early_stopped"] and len(done["task_accuracies"]) == 2
    assert done["score"] == pytest.approx(np.mean(done["task_accuracies"]))
    assert done["task1_accuracy"] == stopped["task1_accuracy"]  # same trial, same seed: same first task


# ------------------------------------------------------------------------------------ Fig 5 stats
def test_fig5_stats_names_and_signs():
    from presyn.analysis.fig5 import fig5_stats

    rows = []
    for b, drop in (("perm_mnist", 0.056), ("split_mnist", 0.014)):
        for seed, jitter in zip((1, 2, 3), (-0.004, 0.0, 0.004)):
            rows.append({"benchmark": b, "variant": "full", "seed": seed, "mean_accuracy": 0.86 + jitter})
            rows.append({"benchmark": b, "variant": "fixedP", "seed": seed, "mean_accuracy": 0.86 - drop + jitter})
    st = fig5_stats(pd.DataFrame(rows), None).set_index("name")
    t = st.loc["fig5.ablation_ttest.perm_mnist.fixedP_vs_full"]
    assert t["value"] == pytest.approx(0.056) and t["statistic"] > 0 and t["n"] == 6
    assert st.loc["fig5.ablation.split_mnist.full", "value"] == pytest.approx(0.86)
    assert st.loc["fig5.ablation.split_mnist.fixedP", "n"] == 3
    assert "fig5.ablation_ttest.split_mnist.full_vs_full" not in st.index
