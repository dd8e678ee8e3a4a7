"""Synapses the float32 rule cannot move: why "no freezing" can equal the full model (Fig 5a, issue 29).

A release probability moves by (1 - p) p_up or -(1 - p) p_down per step. In float32, once 1 - p is small
enough (about 4e-7 for p_up, p_down ~ 0.06) both steps round to zero: p + (1 - p) delta == p, so a saturated
synapse is locked for good without any freezing rule (the authors' code computes the same float32 update).
``locked_by_rounding`` asks the rule itself (``presyn.presyn_rule.update``, bit-identical to the numba kernel)
whether an up-step and a down-step would each leave p unchanged.
"""

from __future__ import annotations

import torch

from presyn import presyn_rule


@torch.no_grad()
def locked_by_rounding(p: torch.Tensor, p_up: float, p_down: float, p_min: float) -> torch.Tensor:
    """Bool per synapse: neither the up- nor the down-step of one update changes p (no freezing applied)."""
    p = p.to(torch.float32).reshape(-1)
    w = torch.zeros_like(p)
    moved = []
    for g in (torch.ones_like(p), torch.zeros_like(p)):  # |g| = 1 >= g_lim: up;  g = 0 < g_lim: down
        _, p_new = presyn_rule.update(
            w,
            p,
            g,
            torch.ones_like(p),
            lr=0.0,
            p_up=p_up,
            p_down=p_down,
            g_lim=1e-3,
            p_min=p_min,
            p_freeze=1.0,
            weight_decay=0.0,
            modulation=False,
            learn_p=True,
        )
        moved.append(p_new != p)
    return ~(moved[0] | moved[1])


def lock_threshold(p_up: float, p_down: float, p_min: float) -> float:
    """The smallest float32 p from which neither step moves (found by bisection over float32 values)."""
    lo, hi = torch.tensor(0.5, dtype=torch.float32), torch.tensor(1.0, dtype=torch.float32)
    while torch.nextafter(lo, hi) < hi:
        mid = ((lo.double() + hi.double()) / 2).float()
        if mid in (lo, hi):
            break
        if bool(locked_by_rounding(mid.reshape(1), p_up, p_down, p_min)[0]):
            hi = mid
        else:
            lo = mid
    return float(hi)
