"""CPU loops for the elementwise hot spots: the presynaptic step (sampling, the learning rule) and BGD.

Why: on the CPU, eager torch runs the ~20 elementwise ops of a step (``presyn.fused``) as ~20 passes
over 200k synapses, which cost twice the step's matmuls; torch.compile of the whole step was slower
here. These numba loops do each half in one pass, with the same float32 operations in the same order
as ``fused.sample_scale`` and ``fused.update``, so their results are bit-identical to the torch
kernels (tests/test_cpu_kernels.py). They update ``w`` and ``p`` in place.

BGD (Zeno et al. 2018) draws K = 10 networks per batch: its theta = mu + sigma * eps and the update
from E[g] and E[g eps] are elementwise over K x 200k numbers, which eager torch ran as ~10 passes (plus
a concatenation of the gradients): one loop each here, ~2x faster per BGD epoch.

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


# ---------------------------------------------------------------------------------------------- BGD
@numba.njit(cache=True, nogil=True, boundscheck=False)
def _bgd_theta(mu, sigma, eps, theta):  # pragma: no cover - compiled
    for k in range(eps.shape[0]):
        for i in range(mu.shape[0]):
            theta[k, i] = mu[i] + sigma[i] * eps[k, i]


@numba.njit(cache=True, nogil=True, boundscheck=False)
def _bgd_update(mu, sigma, g, eps, eta):  # pragma: no cover - compiled
    k_samples = g.shape[0]
    inv_k, eta32, half32, one = F32(1.0 / k_samples), F32(eta), F32(0.5), F32(1.0)
    for i in range(mu.shape[0]):
        e_g, e_ge = F32(0.0), F32(0.0)
        for k in range(k_samples):
            gk = g[k, i]
            e_g += gk
            e_ge += gk * eps[k, i]
        e_g *= inv_k
        e_ge *= inv_k
        si = sigma[i]
        s2 = si * si
        mu[i] -= eta32 * s2 * e_g
        half = si * e_ge * half32
        sigma[i] = si * np.sqrt(one + half * half) - s2 * e_ge * half32


def bgd_theta(mu: torch.Tensor, sigma: torch.Tensor, eps: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """theta = mu + sigma * eps for the K rows of ``eps`` (K, P), into ``out``."""
    _bgd_theta(mu.numpy(), sigma.numpy(), eps.numpy(), out.numpy())
    return out


def bgd_update_(mu: torch.Tensor, sigma: torch.Tensor, grads: list[torch.Tensor], eps: torch.Tensor, eta: float) -> None:
    """In-place ``baselines.bgd_update`` with the gradient given as consecutive column blocks (K, n_j)
    of the (K, P) matrix (the per-layer gradients, so they need not be concatenated)."""
    mu_np, sigma_np, eps_np = mu.numpy(), sigma.numpy(), eps.numpy()
    start = 0
    for g in grads:
        n = g.shape[1]
        _bgd_update(mu_np[start:start + n], sigma_np[start:start + n], g.contiguous().numpy(), eps_np[:, start:start + n], float(eta))
        start += n
    if start != mu.numel():
        raise ValueError(f"gradient blocks cover {start} of {mu.numel()} parameters")
