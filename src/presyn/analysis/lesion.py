"""Lesion experiment (Fig 2b; SPEC §3 "Lesion").

Remove (zero) a growing fraction of all synapses of the trained network, either lowest release
probability first (ties broken by a tiny random jitter) or in random order; the network is restored
before each step, and the test accuracy is that of the softmax averaged over sampled networks.
"""

from __future__ import annotations

import pandas as pd
import torch

from presyn.learners import PresynapticLearner, PresynapticRule
from presyn.metrics import accuracy
from presyn.models import SynapticMLP

ORDERS = ("lowp_first", "random")


def lesion_order(p: torch.Tensor, order: str, generator: torch.Generator, jitter: float = 1e-9) -> torch.Tensor:
    """Indices of the flat synapses in the order they are removed.

    ``lowp_first``: ascending p, equal p's in random order (argsort of p + U(0, jitter); the
    jitter, 1e-9 by default, is below the float32 spacing of p in [0.25, 1] (>= 3e-8),
    so it reorders equal p's only).
    ``random``: a uniformly random permutation, independent of p.
    """
    p = p.reshape(-1).double()
    if order == "lowp_first":
        noise = torch.rand(p.shape, generator=generator, dtype=torch.float64, device=p.device) * jitter
        return torch.argsort(p + noise, stable=True)
    if order == "random":
        return torch.randperm(p.numel(), generator=generator, device=p.device)
    raise ValueError(f"unknown lesion order {order!r}; use one of {ORDERS}")


def lesioned(w: torch.Tensor, order: torch.Tensor, fraction: float) -> torch.Tensor:
    """A copy of the flat weights with the first round(fraction * n) synapses of ``order`` set to 0."""
    k = int(round(fraction * w.numel()))
    out = w.clone()
    out[order[:k]] = 0.0
    return out


def network(state: dict, device: torch.device | str = "cpu") -> SynapticMLP:
    """The trained SynapticMLP of a run's state.pt (w_bar, p, biases)."""
    net = SynapticMLP(state["sizes"], torch.Generator().manual_seed(0), device, p_min=float(min(P.min() for P in state["p"])))
    net.load_state_dict(state)
    return net


@torch.no_grad()
def lesion_curve(state: dict, x: torch.Tensor, y: torch.Tensor, fractions: list[float], n_samples: int, seed: int,
                 orders: tuple[str, ...] = ORDERS, jitter: float = 1e-9) -> pd.DataFrame:
    """Accuracy after each lesion fraction and order: columns order, fraction, n_removed, accuracy.

    The order generator is seeded with ``seed`` (one order per curve: step k removes a superset of
    step k-1); the sampling generator is re-seeded with ``seed`` before every evaluation, so every
    point sees the same release masks on its surviving synapses.
    """
    net = network(state, x.device)
    w0 = net.w.clone()
    learner = PresynapticLearner(net, PresynapticRule(lr=0.0), torch.Generator(device=x.device))
    rows = []
    for i, order_name in enumerate(orders):
        order = lesion_order(net.p, order_name, torch.Generator(device=x.device).manual_seed(seed + i), jitter)
        for f in fractions:
            net.w.copy_(lesioned(w0, order, f))
            learner.gen.manual_seed(seed)
            probs, _ = learner.predict_proba(x, n_samples)
            rows.append({"order": order_name, "fraction": float(f), "n_removed": int(round(f * w0.numel())),
                         "accuracy": accuracy(probs, y)})
        net.w.copy_(w0)  # restore
    return pd.DataFrame(rows)
