"""The presynaptic learning rule (docs/protocol.md#presynaptic-learning-rule) on hand-computed cases."""

import pytest
import torch

from presyn.learners import PresynapticRule, presynaptic_update


def run_rule(w, p, g, **kw):
    w, p, g = (torch.tensor(v, dtype=torch.float64) for v in (w, p, g))
    presynaptic_update(w, p, g, PresynapticRule(**kw))
    return w.tolist(), p.tolist()


def test_update_hand_computed_with_modulation_freezing_and_decay():
    w, p = run_rule(
        w=[1.0, -2.0, 0.5, 0.3], p=[0.25, 0.5, 0.95, 1.0], g=[0.01, 1e-4, 0.02, -5e-4],
        lr=0.1, p_up=0.1, p_down=0.05, g_lim=1e-3, p_freeze=0.9, modulation=True, weight_decay=0.01,
    )
    # step = g (1 - p) + wd w ; w -= lr step
    assert w == pytest.approx([1 - 0.1 * (0.01 * 0.75 + 0.01), -2 - 0.1 * (1e-4 * 0.5 - 0.02),
                               0.5 - 0.1 * (0.02 * 0.05 + 0.005), 0.3 - 0.1 * (0.0 + 0.003)])
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
def test_fused_update_equals_reference_rule(modulation, p_freeze, learn_p):
    from presyn import fused

    gen = torch.Generator().manual_seed(0)
    n = 1000
    w = torch.randn(n, generator=gen, dtype=torch.float64)
    p = 0.25 + 0.75 * torch.rand(n, generator=gen, dtype=torch.float64)
    grad = torch.randn(n, generator=gen, dtype=torch.float64) * 1e-3
    scale = torch.rand(n, generator=gen, dtype=torch.float64) * 4
    rule = PresynapticRule(lr=0.05, p_up=0.07, p_down=0.05, g_lim=1e-3, p_freeze=p_freeze, modulation=modulation,
                           learn_p=learn_p, weight_decay=0.01)
    w_new, p_new = fused.update(w, p, grad, scale, lr=0.05, p_up=0.07, p_down=0.05, g_lim=1e-3, p_min=0.25,
                                p_freeze=p_freeze, weight_decay=0.01, modulation=modulation, learn_p=learn_p)
    w_ref, p_ref = w.clone(), p.clone()
    presynaptic_update(w_ref, p_ref, grad * scale, rule)
    torch.testing.assert_close(w_new, w_ref, rtol=1e-12, atol=1e-15)
    torch.testing.assert_close(p_new, p_ref, rtol=1e-12, atol=1e-15)
