"""Per-step sampling kernel of the presynaptic model (the mask as mask / p), and the pair of per-step kernels
(sampling, the learning rule ``presyn_rule.update``) optionally under ``torch.compile``, which fuses each
into a single loop over all synapses; without compilation they run eagerly with the same numbers.

Random numbers: one 64-bit draw yields four 16-bit uniforms (u = k / 65536), four times fewer
generator calls than float ``torch.rand`` (the generator dominates sampling on CPU). P(mask = 1)
then differs from p by less than 1 / 65536.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from presyn import presyn_rule


def random_u16(
    n: int, generator: torch.Generator, device: torch.device, out: torch.Tensor | None = None
) -> torch.Tensor:
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


_COMPILED: dict[str, Callable] = {}


def kernels(compile: bool) -> tuple[Callable, Callable]:
    """(sample_scale, presyn_rule.update), compiled once per process when asked (cache shared across jobs)."""
    if not compile:
        return sample_scale, presyn_rule.update
    if not _COMPILED:
        presyn_rule.compile_cache_dir()
        _COMPILED["sample"] = torch.compile(sample_scale, dynamic=False)
    return _COMPILED["sample"], presyn_rule.compiled()
