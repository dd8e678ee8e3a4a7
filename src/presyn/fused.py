"""Fused per-step kernels of the presynaptic model: sampling and the learning rule in one pass each.

The readable reference is ``learners.presynaptic_update`` (one line per equation). These functions
compute the same maths functionally so that ``torch.compile`` can fuse each into a single loop over
all synapses; without compilation they run eagerly and give the same numbers as the reference.

Random numbers: one 64-bit draw yields four 16-bit uniforms (u = k / 65536), four times fewer
generator calls than float ``torch.rand`` (the generator dominates sampling on CPU). P(mask = 1)
then differs from p by less than 1 / 65536.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import torch


def random_u16(n: int, generator: torch.Generator, device: torch.device, out: torch.Tensor | None = None) -> torch.Tensor:
    """n uniform 16-bit integers (int16 view of ceil(n / 4) random int64)."""
    words = (n + 3) // 4
    if out is None or out.numel() != words:
        out = torch.empty(words, dtype=torch.int64, device=device)
    # All 64 bits random (plain random_() leaves the top bit 0). from = int64 min with to = None is
    # torch's full-range draw: the generator's 64-bit word as is, no modulo. The XOR keeps the numbers of
    # the former random_(-2**63, 2**63 - 1), i.e. word % (2**64 - 1) - 2**63 (equal unless a word is
    # 2**64 - 1, probability 2**-64), ~15% faster on the CPU (tests/test_fused.py).
    out.random_(-(2**63), None, generator=generator)
    out.bitwise_xor_(-(2**63))
    return out.view(torch.int16)[:n]


def sample_scale(bits: torch.Tensor, p_sample: torch.Tensor, normalise: bool) -> torch.Tensor:
    """mask / p (normalise) or mask, with mask = [u < p], u = (bits + 32768) / 65536 in [0, 1)."""
    u = (bits.to(torch.float32) + 32768.0) * (1.0 / 65536.0)
    mask = (u < p_sample).to(p_sample.dtype)
    return mask / p_sample if normalise else mask


def update(
    w: torch.Tensor, p: torch.Tensor, grad_eff: torch.Tensor, scale: torch.Tensor,
    lr: float, p_up: float, p_down: float, g_lim: float, p_min: float, p_freeze: float,
    weight_decay: float, modulation: bool, learn_p: bool,
) -> tuple[torch.Tensor, torch.Tensor]:
    """New (w, p) after one step; g = dL/dW_eff * scale is the gradient wrt the expected strength."""
    g = grad_eff * scale
    step = g * (1.0 - p) if modulation else g
    w_new = w - lr * (step + weight_decay * w)
    if not learn_p:
        return w_new, p
    delta = (g.abs() >= g_lim).to(p.dtype) * (p_up + p_down) - p_down
    p_new = torch.clamp(p + (1.0 - p) * delta, p_min, 1.0)
    if p_freeze < 1.0:
        p_new = torch.where(p < p_freeze, p_new, p)
    return w_new, p_new


_COMPILED: dict[str, Callable] = {}


def kernels(compile: bool) -> tuple[Callable, Callable]:
    """(sample_scale, update), compiled once per process when asked (cache shared across jobs)."""
    if not compile:
        return sample_scale, update
    if not _COMPILED:
        os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(os.environ.get("PRESYN_CACHE", ".cache")).resolve() / "torchinductor"))
        _COMPILED["sample"] = torch.compile(sample_scale, dynamic=False)
        _COMPILED["update"] = torch.compile(update, dynamic=False)
    return _COMPILED["sample"], _COMPILED["update"]
