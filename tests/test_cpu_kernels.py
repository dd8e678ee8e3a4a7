"""The numba CPU loops of the presynaptic step (presyn.cpu_kernels: sampling; presyn_rule.update_loop_: the
rule) give bit-identical numbers to the torch kernels (presyn.fused.sample_scale, presyn_rule.update) they
replace, for every switch of the rule, in training and evaluation."""

from __future__ import annotations

import pytest
import torch

from presyn import cpu_kernels, presyn_rule
from presyn.factory import build_learner
from presyn.training import Generators

SIZES = [20, 16, 12, 3]
MODELS = {
    "energy": {"kind": "presyn", "lr": 0.5, "p_up": 0.07, "p_down": 0.07, "g_lim": 1e-3, "weight_decay": 0.01},
    "lifelong": {
        "kind": "presyn",
        "lr": 0.5,
        "p_up": 0.052,
        "p_down": 0.0516,
        "g_lim": 1e-3,
        "p_freeze": 0.9353,
        "modulation": True,
    },
    "fast_freeze": {
        "kind": "presyn",
        "lr": 0.5,
        "p_up": 0.4,
        "p_down": 0.01,
        "g_lim": 1e-4,
        "p_freeze": 0.8,
        "modulation": True,
    },
    "ghost": {
        "kind": "presyn",
        "lr": 0.5,
        "p_up": 0.1,
        "p_down": 0.1,
        "g_lim": 1e-3,
        "p_freeze": 0.9,
        "modulation": True,
        "sample_p": 0.5,
    },
    "no_norm": {
        "kind": "presyn",
        "lr": 0.5,
        "p_up": 0.1,
        "p_down": 0.03,
        "g_lim": 1e-3,
        "p_freeze": 0.9,
        "normalise": False,
    },
    "uniform_init": {"kind": "presyn", "lr": 0.5, "p_init": "uniform", "weight_decay": 0.05},
    "fixedp": {"kind": "fixedp", "lr": 0.5, "p": 0.4, "weight_decay": 0.01},
}


def train(model: dict, loops: bool, steps: int = 40):
    torch.manual_seed(0)
    gens = Generators.from_seed(7, torch.device("cpu"))
    learner = build_learner(model, SIZES, gens, torch.device("cpu"))
    assert learner._cpu_loops  # numba is installed: the default CPU path
    learner._cpu_loops = loops
    x = torch.randn(steps, 25, SIZES[0], generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, SIZES[-1], (steps, 25), generator=torch.Generator().manual_seed(2))
    losses = [learner.step(x[i], y[i])[0] for i in range(steps)]
    probs, activity = learner.predict_proba(x[0], 5)
    return learner.net.w.clone(), learner.net.p.clone(), torch.stack(losses), probs, activity


@pytest.mark.parametrize("name", sorted(MODELS))
def test_numba_step_is_bit_identical_to_torch_kernels(name):
    loops = train(MODELS[name], loops=True)
    reference = train(MODELS[name], loops=False)
    for a, b in zip(loops, reference):
        assert torch.equal(a, b)
    w, p = loops[:2]
    if MODELS[name]["kind"] == "presyn" and MODELS[name].get("p_init") != "uniform":
        assert p.unique().numel() > 2  # the rule moved p by different amounts: the case is not trivial


def test_update_loop_matches_torch_rule_on_edge_values():
    """|g| exactly at g_lim, p at p_min / p_freeze / 1, zero masks: the same branch as the torch kernel."""
    g_lim, p_freeze = 1e-3, 0.9
    p = torch.tensor([0.25, 0.25, 0.9, 0.8999999, 1.0, 0.5, 0.5, 0.3], dtype=torch.float32)
    grad = torch.tensor([1e-3, -1e-3, 5.0, 5.0, 5.0, 0.0, 2e-3, -0.0009999], dtype=torch.float32)
    scale = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 1.0], dtype=torch.float32)
    w = torch.linspace(-1, 1, 8)
    consts = dict(
        lr=0.1,
        p_up=0.05,
        p_down=0.04,
        g_lim=g_lim,
        p_min=0.25,
        p_freeze=p_freeze,
        weight_decay=0.01,
        modulation=True,
        learn_p=True,
    )
    w_ref, p_ref = presyn_rule.update(w.clone(), p.clone(), grad, scale, **consts)
    w_new, p_new = w.clone(), p.clone()
    presyn_rule.update_loop_(w_new, p_new, grad, scale, **consts)
    assert torch.equal(w_new, w_ref) and torch.equal(p_new, p_ref)
    assert p_new[2] == 0.9 and p_new[4] == 1.0  # frozen synapses keep their p
    assert p_new[0] > 0.25 and p_new[1] > 0.25  # |g| = g_lim counts as important, either sign
    assert (
        p_new[5] < p[5] and p_new[7] < p[7] and p_new[3] > p[3]
    )  # masked (g = 0) or |g| just below g_lim: p falls; just below p_freeze: still learns


# ------------------------------------------------------------------------------------------- BGD
def test_bgd_loops_match_torch_bgd_update():
    """The fused BGD sample and update agree with baselines.bgd_update (float32 rounding only)."""
    from presyn.baselines import bgd_update

    gen = torch.Generator().manual_seed(3)
    k, sizes = 4, [7, 5, 3]  # the gradient in three column blocks
    mu, sigma = torch.randn(15, generator=gen), torch.rand(15, generator=gen) * 0.1 + 0.01
    eps, g = torch.randn(k, 15, generator=gen), torch.randn(k, 15, generator=gen) * 10
    theta = cpu_kernels.bgd_theta(mu, sigma, eps, torch.empty(k, 15))
    assert torch.equal(theta, mu + sigma * eps)
    mu_ref, sigma_ref = mu.clone(), sigma.clone()
    bgd_update(mu_ref, sigma_ref, g, eps, eta=0.7)
    blocks = list(torch.split(g, sizes, dim=1))
    before = mu.clone()
    cpu_kernels.bgd_update_(mu, sigma, blocks, eps, eta=0.7)
    assert torch.allclose(mu, mu_ref, rtol=1e-6, atol=1e-7) and torch.allclose(sigma, sigma_ref, rtol=1e-6, atol=1e-8)
    assert not torch.allclose(mu, before)
    with pytest.raises(ValueError, match="cover 12 of 15"):
        cpu_kernels.bgd_update_(mu, sigma, blocks[:2], eps, eta=0.7)


def test_bgd_learner_step_matches_the_torch_arithmetic():
    """Ten BGD steps of the learner (loops) and of the same maths in torch end at the same mu and sigma."""
    from presyn import baselines
    from presyn.models import SynapticMLP

    x = torch.randn(10, 16, 12, generator=torch.Generator().manual_seed(4))
    y = torch.randint(0, 3, (10, 16), generator=torch.Generator().manual_seed(5))

    def learner():
        net = SynapticMLP([12, 8, 6, 3], torch.Generator().manual_seed(1), p_init=1.0)
        return baselines.BGDLearner(
            net, std_init=0.05, eta=1.0, mc_samples=5, generator=torch.Generator().manual_seed(2)
        )

    fast, slow = learner(), learner()
    for i in range(10):
        fast.step(x[i], y[i])
        eps = torch.randn((slow.k, slow.mu.numel()), generator=slow.gen)
        g, _, _ = slow.gradients(x[i], y[i], slow.mu + slow.sigma * eps)
        baselines.bgd_update(slow.mu, slow.sigma, g, eps, slow.eta)
    assert torch.allclose(fast.mu, slow.mu, rtol=1e-5, atol=1e-6) and torch.allclose(
        fast.sigma, slow.sigma, rtol=1e-5, atol=1e-7
    )
    assert not torch.allclose(
        fast.sigma, torch.full_like(fast.sigma, 0.05)
    )  # sigma moved: the comparison is not trivial
