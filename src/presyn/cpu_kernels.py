"""CPU loops for the elementwise hot spots: the presynaptic sampling step and BGD (the learning rule's loop
lives beside its definition, ``presyn_rule.update_loop_``).

Why: on the CPU, eager torch runs the ~20 elementwise ops of a step (``presyn.fused``) as ~20 passes
over 200k synapses, which cost twice the step's matmuls; torch.compile of the whole step was slower
here. The sampling loop does it in one pass, with the same float32 operations in the same order as
``fused.sample_scale``, so its results are bit-identical to the torch kernel (tests/test_cpu_kernels.py).

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


def sample(
    bits: torch.Tensor,
    p_sample: torch.Tensor,
    w: torch.Tensor,
    normalise: bool,
    scale_out: torch.Tensor,
    w_eff_out: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fill ``scale_out`` (mask / p, or mask) and ``w_eff_out`` (= w * scale); returns both."""
    _sample(bits.numpy(), p_sample.numpy(), w.numpy(), bool(normalise), scale_out.numpy(), w_eff_out.numpy())
    return scale_out, w_eff_out


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


def bgd_update_(
    mu: torch.Tensor, sigma: torch.Tensor, grads: list[torch.Tensor], eps: torch.Tensor, eta: float
) -> None:
    """In-place ``baselines.bgd_update`` with the gradient given as consecutive column blocks (K, n_j)
    of the (K, P) matrix (the per-layer gradients, so they need not be concatenated)."""
    mu_np, sigma_np, eps_np = mu.numpy(), sigma.numpy(), eps.numpy()
    start = 0
    for g in grads:
        n = g.shape[1]
        _bgd_update(
            mu_np[start : start + n],
            sigma_np[start : start + n],
            g.contiguous().numpy(),
            eps_np[:, start : start + n],
            float(eta),
        )
        start += n
    if start != mu.numel():
        raise ValueError(f"gradient blocks cover {start} of {mu.numel()} parameters")
