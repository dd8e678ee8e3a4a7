"""presyn.fused.random_u16: the mask generator's 16-bit uniforms, and that a faster draw kept their numbers."""

from __future__ import annotations

import torch

from presyn import fused


def test_random_u16_keeps_the_former_numbers_and_generator_state():
    """Same words as random_(-2**63, 2**63 - 1), the draw every run before 2026-12-01 used, and the
    generator left in the same state (the next draws agree too)."""
    n = 10_003  # not a multiple of 4: the last word is partly used
    new_gen, old_gen = torch.Generator().manual_seed(2019), torch.Generator().manual_seed(2019)
    for _ in range(3):
        bits = fused.random_u16(n, new_gen, torch.device("cpu"))
        words = torch.empty((n + 3) // 4, dtype=torch.int64).random_(-(2**63), 2**63 - 1, generator=old_gen)
        assert bits.shape == (n,) and bits.dtype == torch.int16
        assert torch.equal(bits, words.view(torch.int16)[:n])


def test_random_u16_every_bit_is_random():
    """All four 16-bit lanes of a word have their top bit set half the time (plain random_() would leave
    the top lane's top bit 0: masks with P(u < p) off by up to a half)."""
    bits = fused.random_u16(400_000, torch.Generator().manual_seed(0), torch.device("cpu")).view(-1, 4)
    top_set = (bits < 0).float().mean(0)
    assert torch.all((top_set - 0.5).abs() < 0.01), top_set
    u = (bits.float() + 32768.0) / 65536.0
    assert abs(float(u.mean()) - 0.5) < 0.005


def test_random_u16_reuses_the_buffer_it_is_given():
    out = torch.empty(3, dtype=torch.int64)
    bits = fused.random_u16(10, torch.Generator().manual_seed(1), torch.device("cpu"), out=out)
    assert bits.data_ptr() == out.data_ptr()
