"""The numba CPU loops of the presynaptic step (presyn.cpu_kernels) give bit-identical numbers to the
torch kernels (presyn.fused) they replace, for every switch of the rule, in training and evaluation."""

from __future__ import annotations

import pytest
import torch

from presyn import cpu_kernels, fused
from presyn.factory import build_learner
from presyn.training import Generators

SIZES = [20, 16, 12, 3]
MODELS = {
    "energy": {"kind": "presyn", "lr": 0.5, "p_up": 0.07, "p_down": 0.07, "g_lim": 1e-3, "weight_decay": 0.01},
    "lifelong": {"kind": "presyn", "lr": 0.5, "p_up": 0.052, "p_down": 0.0516, "g_lim": 1e-3, "p_freeze": 0.9353,
                 "modulation": True},
    "fast_freeze": {"kind": "presyn", "lr": 0.5, "p_up": 0.4, "p_down": 0.01, "g_lim": 1e-4, "p_freeze": 0.8, "modulation": True},
    "ghost": {"kind": "presyn", "lr": 0.5, "p_up": 0.1, "p_down": 0.1, "g_lim": 1e-3, "p_freeze": 0.9, "modulation": True,
              "sample_p": 0.5},
    "no_norm": {"kind": "presyn", "lr": 0.5, "p_up": 0.1, "p_down": 0.03, "g_lim": 1e-3, "p_freeze": 0.9, "normalise": False},
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


def test_update_kernel_matches_fused_update_on_edge_values():
    """|g| exactly at g_lim, p at p_min / p_freeze / 1, zero masks: the same branch as the torch kernel."""
    g_lim, p_freeze = 1e-3, 0.9
    p = torch.tensor([0.25, 0.25, 0.9, 0.8999999, 1.0, 0.5, 0.5, 0.3], dtype=torch.float32)
    grad = torch.tensor([1e-3, -1e-3, 5.0, 5.0, 5.0, 0.0, 2e-3, -0.0009999], dtype=torch.float32)
    scale = torch.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 2.0, 1.0], dtype=torch.float32)
    w = torch.linspace(-1, 1, 8)
    consts = dict(lr=0.1, p_up=0.05, p_down=0.04, g_lim=g_lim, p_min=0.25, p_freeze=p_freeze, weight_decay=0.01,
                  modulation=True, learn_p=True)
    w_ref, p_ref = fused.update(w.clone(), p.clone(), grad, scale, **consts)
    w_new, p_new = w.clone(), p.clone()
    cpu_kernels.update_(w_new, p_new, grad, scale, **consts)
    assert torch.equal(w_new, w_ref) and torch.equal(p_new, p_ref)
    assert p_new[2] == 0.9 and p_new[4] == 1.0  # frozen synapses keep their p
    assert p_new[0] > 0.25 and p_new[1] > 0.25  # |g| = g_lim counts as important, either sign
    assert p_new[5] < p[5] and p_new[7] < p[7] and p_new[3] > p[3]  # masked (g = 0) or |g| just below g_lim: p falls; just below p_freeze: still learns
