"""The presynaptic learning rule (docs/protocol.md#presynaptic-learning-rule) on hand-computed cases."""

import pytest
import torch

from presyn import presyn_rule
from presyn.learners import PresynapticRule


def run_rule(w, p, g, **kw):
    w, p, g = (torch.tensor(v, dtype=torch.float64) for v in (w, p, g))
    w, p = presyn_rule.update(w, p, g, **PresynapticRule(**kw).constants())
    return w.tolist(), p.tolist()


def test_update_hand_computed_with_modulation_freezing_and_decay():
    w, p = run_rule(
        w=[1.0, -2.0, 0.5, 0.3],
        p=[0.25, 0.5, 0.95, 1.0],
        g=[0.01, 1e-4, 0.02, -5e-4],
        lr=0.1,
        p_up=0.1,
        p_down=0.05,
        g_lim=1e-3,
        p_freeze=0.9,
        modulation=True,
        weight_decay=0.01,
    )
    # step = g (1 - p) + wd w ; w -= lr step
    assert w == pytest.approx(
        [
            1 - 0.1 * (0.01 * 0.75 + 0.01),
            -2 - 0.1 * (1e-4 * 0.5 - 0.02),
            0.5 - 0.1 * (0.02 * 0.05 + 0.005),
            0.3 - 0.1 * (0.0 + 0.003),
        ]
    )
    # large gradient: p + (1 - p) p_up ; small: p - (1 - p) p_down ; p >= p_freeze: unchanged
    assert p == pytest.approx([0.25 + 0.75 * 0.1, 0.5 - 0.5 * 0.05, 0.95, 1.0])


def test_no_modulation_uses_plain_gradient():
    w, _ = run_rule(w=[1.0], p=[0.5], g=[0.2], lr=0.5, modulation=False)
    assert w == pytest.approx([1.0 - 0.5 * 0.2])


def test_release_probability_clamped_at_p_min_and_rises_by_the_remaining_gap():
    # p - (1 - p) p_down below p_min is clamped; p + (1 - p) p_up never exceeds 1, so no upper clamp shows
    _, p = run_rule(w=[0.0, 0.0], p=[0.25, 0.99], g=[0.0, 1.0], lr=0.1, p_up=0.5, p_down=0.5, p_min=0.25)
    assert p == pytest.approx([0.25, 0.99 + 0.01 * 0.5])


def test_threshold_is_inclusive_and_no_freeze_means_all_plastic():
    _, p = run_rule(w=[0.0, 0.0], p=[0.5, 0.95], g=[1e-3, 0.0], lr=0.1, p_up=0.1, p_down=0.1, g_lim=1e-3, p_freeze=1.0)
    assert p == pytest.approx([0.5 + 0.5 * 0.1, 0.95 - 0.05 * 0.1])


def test_learn_p_false_keeps_release_probabilities():
    w, p = run_rule(w=[1.0], p=[0.4], g=[0.3], lr=0.1, learn_p=False)
    assert p == pytest.approx([0.4]) and w == pytest.approx([0.97])


@pytest.mark.parametrize("modulation,p_freeze,learn_p", [(True, 0.9, True), (False, 1.0, True), (False, 1.0, False)])
def test_rule_is_elementwise_over_any_leading_dimensions(modulation, p_freeze, learn_p):
    """(S, P) stacked networks or (R, N) perceptrons: each row is the rule on that row alone, bit for bit; the
    numba loop (float32, in place) equals the torch definition on the same (S, P) tensors; scale multiplies g."""
    gen = torch.Generator().manual_seed(0)
    shape = (3, 1000)
    w = torch.randn(shape, generator=gen)
    p = 0.25 + 0.75 * torch.rand(shape, generator=gen)
    grad = torch.randn(shape, generator=gen) * 1e-3
    scale = torch.rand(shape, generator=gen) * 4
    consts = PresynapticRule(
        lr=0.05,
        p_up=0.07,
        p_down=0.05,
        g_lim=1e-3,
        p_freeze=p_freeze,
        modulation=modulation,
        learn_p=learn_p,
        weight_decay=0.01,
    ).constants()
    w_new, p_new = presyn_rule.update(w, p, grad, scale, **consts)
    for s in range(shape[0]):
        w_row, p_row = presyn_rule.update(w[s], p[s], grad[s] * scale[s], **consts)
        assert torch.equal(w_row, w_new[s]) and torch.equal(p_row, p_new[s])
    w_loop, p_loop = w.clone(), p.clone()
    presyn_rule.update_loop_(w_loop, p_loop, grad, scale, **consts)
    assert torch.equal(w_loop, w_new) and torch.equal(p_loop, p_new)
    assert learn_p or torch.equal(p_new, p)


def test_upper_clamp_p_max():
    """p_max (the perceptron's 0.9) clips the rise; 1.0 is the network's default."""
    w, p, g = (
        torch.zeros(2, dtype=torch.float64),
        torch.tensor([0.8, 0.5], dtype=torch.float64),
        torch.ones(2, dtype=torch.float64),
    )
    consts = dict(
        lr=0.1,
        p_up=0.5,
        p_down=0.5,
        g_lim=0.1,
        p_min=0.25,
        p_freeze=1.0,
        weight_decay=0.0,
        modulation=False,
        learn_p=True,
    )
    _, p_max = presyn_rule.update(w, p, g, p_max=0.7, **consts)
    _, p_one = presyn_rule.update(w, p, g, **consts)
    assert p_max.tolist() == [0.7, 0.7] and p_one.tolist() == pytest.approx([0.9, 0.75])
    w32, p32 = w.float(), p.float()
    presyn_rule.update_loop_(w32, p32, g.float(), torch.ones(2), p_max=0.7, **consts)
    assert p32.tolist() == pytest.approx([0.7, 0.7])


def test_numba_loop_refuses_what_it_cannot_update_in_place():
    x = torch.zeros(4, dtype=torch.float64)
    consts = PresynapticRule(lr=0.1).constants()
    with pytest.raises(ValueError, match="float32"):
        presyn_rule.update_loop_(x, x.clone(), x.clone(), x.clone(), **consts)
    y = torch.zeros(4, 2).t()
    with pytest.raises(ValueError, match="non-contiguous"):
        presyn_rule.update_loop_(y, y.clone(), y.clone(), y.clone(), **consts)
