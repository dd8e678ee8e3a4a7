"""CPU kernels of the presynaptic step: sampling and the learning rule, one loop over all synapses each.

Why: on the CPU, eager torch runs the ~20 elementwise ops of a step (``presyn.fused``) as ~20 passes
over 200k synapses, which cost twice the step's matmuls; torch.compile of the whole step was slower
here. These numba loops do each half in one pass, with the same float32 operations in the same order
as ``fused.sample_scale`` and ``fused.update``, so their results are bit-identical to the torch
kernels (tests/test_cpu_kernels.py). They update ``w`` and ``p`` in place.

Compiled once per machine (numba ``cache=True`` writes next to this file, or to NUMBA_CACHE_DIR).
"""

from __future__ import annotations

import numba
import numpy as np
import torch

F32 = np.float32


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _sample(bits, p, w, normalise, scale_out, w_eff_out):  # pragma: no cover - compiled
    half, step = F32(32768.0), F32(1.0 / 65536.0)
    one, zero = F32(1.0), F32(0.0)
    for i in range(bits.shape[0]):
        u = (F32(bits[i]) + half) * step
        pi = p[i]
        m = one if u < pi else zero
        s = m / pi if normalise else m
        scale_out[i] = s
        w_eff_out[i] = w[i] * s


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _update(w, p, grad, scale, lr, p_up, p_down, g_lim, p_min, p_freeze, weight_decay, modulation, learn_p):  # pragma: no cover
    lr, wd = F32(lr), F32(weight_decay)
    up_plus_down, down = F32(p_up + p_down), F32(p_down)
    g_lim32, p_min32, freeze32 = F32(g_lim), F32(p_min), F32(p_freeze)
    one, zero = F32(1.0), F32(0.0)
    freezing = p_freeze < 1.0
    for i in range(w.shape[0]):
        g = grad[i] * scale[i]
        pi = p[i]
        st = g * (one - pi) if modulation else g
        wi = w[i]
        w[i] = wi - lr * (st + wd * wi)
        if learn_p and not (freezing and not pi < freeze32):
            delta = (one if abs(g) >= g_lim32 else zero) * up_plus_down - down
            q = pi + (one - pi) * delta
            p[i] = min(max(q, p_min32), one)


def sample(bits: torch.Tensor, p_sample: torch.Tensor, w: torch.Tensor, normalise: bool,
           scale_out: torch.Tensor, w_eff_out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill ``scale_out`` (mask / p, or mask) and ``w_eff_out`` (= w * scale); returns both."""
    _sample(bits.numpy(), p_sample.numpy(), w.numpy(), bool(normalise), scale_out.numpy(), w_eff_out.numpy())
    return scale_out, w_eff_out


def update_(w: torch.Tensor, p: torch.Tensor, grad_eff: torch.Tensor, scale: torch.Tensor, *, lr: float, p_up: float,
            p_down: float, g_lim: float, p_min: float, p_freeze: float, weight_decay: float, modulation: bool,
            learn_p: bool) -> None:
    """In-place ``fused.update``: the strength and release-probability rule with the p before this step."""
    _update(w.numpy(), p.numpy(), grad_eff.numpy(), scale.numpy(), float(lr), float(p_up), float(p_down), float(g_lim),
            float(p_min), float(p_freeze), float(weight_decay), bool(modulation), bool(learn_p))
