"""The presynaptic rule at its boundaries, hand-computed, for each of its implementations separately.

``presyn_rule.update`` (the definition, torch) and ``presyn_rule.update_loop_`` (its numba loop) are each
checked against numbers worked out by hand, not against each other: a change made the same way in both
(``>=`` -> ``>`` at g_lim, say) cannot hide behind their agreement. Every number is exact in float32 (powers of two), so the checks use ``==``:

    w <- w - lr * (g * (1 - p)^[modulation] + wd * w)
    p <- clamp(p + (1 - p) * (+p_up if |g| >= g_lim else -p_down), p_min, 1), only where p < p_freeze
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from presyn import cpu_kernels, fused, presyn_rule

G_LIM = 0.125
BELOW = float(np.nextafter(np.float32(G_LIM), np.float32(0.0)))  # the largest float32 below g_lim
BASE = dict(
    lr=0.5,
    p_up=0.25,
    p_down=0.125,
    g_lim=G_LIM,
    p_min=0.25,
    p_freeze=1.0,
    weight_decay=0.0,
    modulation=False,
    learn_p=True,
)


def _torch(w, p, grad, scale, **c):
    return presyn_rule.update(w, p, grad, scale, **c)


def _numba(w, p, grad, scale, **c):
    presyn_rule.update_loop_(w, p, grad, scale, **c)
    return w, p


KERNELS = {"torch": _torch, "numba": _numba}


def step(kernel: str, w, p, g, scale=None, **overrides):
    """(w, p) as Python floats after one step of ``kernel`` on float32 inputs."""
    consts = {**BASE, **overrides}
    w, p, g = (torch.tensor(v, dtype=torch.float32) for v in (w, p, g))
    scale = torch.ones_like(g) if scale is None else torch.tensor(scale, dtype=torch.float32)
    w_new, p_new = KERNELS[kernel](w.clone(), p.clone(), g, scale, **consts)
    return w_new.tolist(), p_new.tolist()


kernels = pytest.mark.parametrize("kernel", sorted(KERNELS))


def test_below_is_a_float32_number_just_under_g_lim():
    assert float(torch.tensor(BELOW, dtype=torch.float32)) < G_LIM


# --------------------------------------------------------------------- |g| at g_lim: the threshold is inclusive
@kernels
def test_gradient_exactly_at_g_lim_raises_p(kernel):
    _, p = step(kernel, w=[0.0], p=[0.5], g=[G_LIM])
    assert p == [0.5 + 0.5 * 0.25]  # 0.625, not 0.5 - 0.5 * 0.125 = 0.4375


@kernels
def test_negative_gradient_exactly_at_g_lim_raises_p(kernel):
    _, p = step(kernel, w=[0.0], p=[0.5], g=[-G_LIM])
    assert p == [0.625]


@kernels
def test_gradient_at_g_lim_through_the_mask_scale(kernel):
    """g = dL/dW_eff * scale: 0.0625 * 2 is exactly g_lim (a synapse sampled with p = 0.5)."""
    _, p = step(kernel, w=[0.0, 0.0], p=[0.5, 0.5], g=[0.0625, 0.0625], scale=[2.0, 1.0])
    assert p == [0.625, 0.4375]  # scaled: at g_lim, rises; unscaled 0.0625 < g_lim, falls


@kernels
def test_gradient_just_below_g_lim_lowers_p(kernel):
    _, p = step(kernel, w=[0.0, 0.0], p=[0.5, 0.5], g=[BELOW, -BELOW])
    assert p == [0.4375, 0.4375]


@kernels
def test_zero_gradient_lowers_p_by_the_remaining_gap(kernel):
    _, p = step(kernel, w=[0.0], p=[0.75], g=[0.0])
    assert p == [0.75 - 0.25 * 0.125]  # 0.71875


@kernels
def test_large_gradient_raises_p_by_the_remaining_gap(kernel):
    _, p = step(kernel, w=[0.0], p=[0.75], g=[4.0])
    assert p == [0.75 + 0.25 * 0.25]  # 0.8125


# --------------------------------------------------------------------------- p at p_freeze
@kernels
def test_p_exactly_at_p_freeze_is_frozen(kernel):
    _, p = step(kernel, w=[0.0, 0.0], p=[0.75, 0.75], g=[4.0, 0.0], p_freeze=0.75)
    assert p == [0.75, 0.75]  # frozen: neither a large nor a small gradient moves it


@kernels
def test_p_at_p_freeze_ignores_a_gradient_at_g_lim(kernel):
    w, p = step(kernel, w=[1.0], p=[0.5], g=[G_LIM], p_freeze=0.5, lr=1.0)
    assert p == [0.5] and w == [1.0 - G_LIM]


@kernels
def test_p_at_a_low_p_freeze_with_small_gradient_is_kept(kernel):
    """p_freeze = p_min: every synapse starts frozen (no decrease to the clamp either)."""
    _, p = step(kernel, w=[0.0, 0.0], p=[0.25, 0.5], g=[0.0, 0.0], p_freeze=0.25)
    assert p == [0.25, 0.5]


@kernels
def test_p_just_below_p_freeze_still_learns(kernel):
    p0 = float(np.nextafter(np.float32(0.75), np.float32(0.0)))  # the largest float32 below p_freeze
    _, p = step(kernel, w=[0.0, 0.0], p=[p0, 0.5], g=[4.0, 0.0], p_freeze=0.75)
    assert p[0] > p0 and p[1] == 0.4375


@kernels
def test_p_above_p_freeze_is_frozen_and_strength_still_learns(kernel):
    w, p = step(kernel, w=[1.0, 1.0], p=[0.875, 1.0], g=[0.0, 4.0], p_freeze=0.75, lr=0.5)
    assert p == [0.875, 1.0]
    assert w == [1.0, 1.0 - 0.5 * 4.0]  # freezing stops p, never w


@kernels
def test_no_freezing_when_p_freeze_is_one(kernel):
    _, p = step(kernel, w=[0.0, 0.0], p=[0.875, 0.5], g=[0.0, 4.0], p_freeze=1.0)
    assert p == [0.875 - 0.125 * 0.125, 0.625]


# --------------------------------------------------------------------------- p at its clamps
@kernels
def test_p_at_p_min_with_small_gradient_stays_at_p_min(kernel):
    _, p = step(kernel, w=[0.0, 0.0], p=[0.25, 0.3125], g=[0.0, 0.0], p_down=0.5)
    # 0.25 - 0.75 * 0.5 = -0.125 -> clamped to p_min; 0.3125 - 0.6875 * 0.5 = -0.03125 -> p_min
    assert p == [0.25, 0.25]


@kernels
def test_p_min_clamp_only_bites_below_p_min(kernel):
    _, p = step(kernel, w=[0.0], p=[0.5], g=[0.0], p_down=0.25, p_min=0.125)
    assert p == [0.5 - 0.5 * 0.25]  # 0.375, above p_min: unclamped


@kernels
def test_p_clamped_at_one(kernel):
    """p_up > 1 overshoots: 0.5 + 0.5 * 1.5 = 1.25 is clamped to 1; p = 1 stays 1."""
    _, p = step(kernel, w=[0.0, 0.0], p=[0.5, 1.0], g=[4.0, 4.0], p_up=1.5)
    assert p == [1.0, 1.0]


@kernels
def test_overshoot_above_one_is_clamped_with_modulation(kernel):
    w, p = step(kernel, w=[0.0], p=[0.75], g=[1.0], p_up=2.0, modulation=True, lr=1.0)
    assert p == [1.0]  # 0.75 + 0.25 * 2 = 1.25 -> 1
    assert w == [-0.25]  # the strength step uses the p before the update: g (1 - 0.75)


@kernels
def test_p_at_one_with_small_gradient_stays_at_one(kernel):
    _, p = step(kernel, w=[0.0], p=[1.0], g=[0.0])
    assert p == [1.0]  # the decrease is (1 - p) p_down = 0


# --------------------------------------------------------------------------- the strength update
@kernels
def test_strength_update_with_modulation_and_decay(kernel):
    w, p = step(kernel, w=[1.0, -2.0], p=[0.5, 0.75], g=[0.125, -0.5], lr=0.5, weight_decay=0.25, modulation=True)
    # w - lr (g (1 - p) + wd w), with the p before this step
    assert w == [1.0 - 0.5 * (0.125 * 0.5 + 0.25 * 1.0), -2.0 - 0.5 * (-0.5 * 0.25 + 0.25 * -2.0)]
    assert p == [0.625, 0.8125]


@kernels
def test_strength_update_without_modulation(kernel):
    w, _ = step(kernel, w=[1.0, -2.0], p=[0.5, 0.75], g=[0.125, -0.5], lr=0.5, weight_decay=0.25)
    assert w == [1.0 - 0.5 * (0.125 + 0.25), -2.0 - 0.5 * (-0.5 - 0.5)]


@kernels
def test_learn_p_false_keeps_p_and_learns_w(kernel):
    w, p = step(kernel, w=[1.0, 1.0], p=[0.5, 0.25], g=[4.0, 0.0], learn_p=False, lr=0.25)
    assert p == [0.5, 0.25]
    assert w == [0.0, 1.0]


@kernels
def test_learn_p_false_ignores_freezing(kernel):
    w, p = step(kernel, w=[1.0], p=[0.5], g=[1.0], learn_p=False, p_freeze=0.75, lr=0.25, modulation=True)
    assert p == [0.5] and w == [1.0 - 0.25 * 0.5]


# --------------------------------------------------------------------------- sampling: mask = [u < p], u = (bits + 32768) / 65536
def _sample_torch(bits, p, w, normalise):
    scale = fused.sample_scale(bits, p, normalise)
    return scale, w * scale


def _sample_numba(bits, p, w, normalise):
    return cpu_kernels.sample(bits, p, w, normalise, torch.empty_like(w), torch.empty_like(w))


SAMPLERS = {"torch": _sample_torch, "numba": _sample_numba}
samplers = pytest.mark.parametrize("sampler", sorted(SAMPLERS))
# u = 0, 0.25 - 1/65536, 0.25, 0.5, 1 - 1/65536
BITS = [-32768, 16384 - 32768 - 1, 16384 - 32768, 0, 32767]


@samplers
def test_mask_is_strictly_u_below_p(sampler):
    """u exactly at p does not transmit: P(mask = 1) = p (k / 65536 < p for k = 0 .. 65536 p - 1)."""
    bits = torch.tensor(BITS, dtype=torch.int16)
    p = torch.full((5,), 0.25)
    w = torch.tensor([1.0, -2.0, 3.0, 4.0, 5.0])
    scale, w_eff = SAMPLERS[sampler](bits, p, w, True)
    assert scale.tolist() == [4.0, 4.0, 0.0, 0.0, 0.0]  # mask / p
    assert w_eff.tolist() == [4.0, -8.0, 0.0, 0.0, 0.0]


@samplers
def test_mask_without_normalisation_and_p_one(sampler):
    bits = torch.tensor(BITS, dtype=torch.int16)
    p = torch.tensor([0.25, 0.25, 0.5, 0.5, 1.0])
    w = torch.tensor([1.0, -2.0, 3.0, 4.0, 5.0])
    scale, w_eff = SAMPLERS[sampler](bits, p, w, False)
    assert scale.tolist() == [1.0, 1.0, 1.0, 0.0, 1.0]  # u = 0.5 at p = 0.5: silent; p = 1 always transmits
    assert w_eff.tolist() == [1.0, -2.0, 3.0, 0.0, 5.0]


@samplers
def test_normalised_scale_is_one_over_p(sampler):
    bits = torch.tensor([-32768, -32768], dtype=torch.int16)  # u = 0: both transmit
    scale, w_eff = SAMPLERS[sampler](bits, torch.tensor([0.5, 0.125]), torch.tensor([3.0, -1.0]), True)
    assert scale.tolist() == [2.0, 8.0] and w_eff.tolist() == [6.0, -8.0]


def test_compiled_kernels_are_made_once_and_cached(monkeypatch, tmp_path):
    """kernels(True) wraps both functions in torch.compile once per process (not called here: no compile)."""
    monkeypatch.setattr(fused, "_COMPILED", {})
    monkeypatch.setattr(presyn_rule, "_COMPILED", {})
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("PRESYN_CACHE", str(tmp_path / "cache"))
    made = []
    monkeypatch.setattr(
        torch, "compile", lambda fn, dynamic=None: made.append((fn, dynamic)) or (lambda *a, **k: fn(*a, **k))
    )
    sample, update = fused.kernels(True)
    assert made == [(fused.sample_scale, False), (presyn_rule.update, False)]
    assert fused.kernels(True) == (sample, update) and len(made) == 2  # cached
    assert os.environ["TORCHINDUCTOR_CACHE_DIR"] == str((tmp_path / "cache").resolve() / "torchinductor")
    assert fused.kernels(False) == (fused.sample_scale, presyn_rule.update)
    bits = torch.tensor(BITS, dtype=torch.int16)
    assert torch.equal(
        sample(bits, torch.full((5,), 0.25), True), fused.sample_scale(bits, torch.full((5,), 0.25), True)
    )
