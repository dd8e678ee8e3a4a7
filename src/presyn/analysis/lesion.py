"""Lesion experiment (Fig 2b; docs/protocol.md#fig-2b-lesion).

Remove (zero) a growing fraction of all synapses of the trained network, either lowest release
probability first (ties broken by a tiny random jitter) or in random order; the network is restored
before each step, and the test accuracy is that of the softmax averaged over sampled networks.

The authors' protocol draws one random order per seed (order ``random``); with three seeds that curve
is dominated by the order drawn. Beside it (issue 29), ``random_mean`` averages the accuracy over
``random_orders`` independent random orders of the same trained network (evaluation only).
"""

from __future__ import annotations

import pandas as pd
import torch

from presyn.learners import PresynapticLearner, PresynapticRule
from presyn.metrics import accuracy
from presyn.models import SynapticMLP

ORDERS = ("lowp_first", "random")
RANDOM_MEAN = "random_mean"
RANDOM_MEAN_SEED_OFFSET = 1000  # order r of the averaged baseline uses generator seed + 1000 + r


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
    net = SynapticMLP(
        state["sizes"], torch.Generator().manual_seed(0), device, p_min=float(min(P.min() for P in state["p"]))
    )
    net.load_state_dict(state)
    return net


@torch.no_grad()
def lesion_curve(
    state: dict,
    x: torch.Tensor,
    y: torch.Tensor,
    fractions: list[float],
    n_samples: int,
    seed: int,
    orders: tuple[str, ...] = ORDERS,
    jitter: float = 1e-9,
    random_orders: int = 0,
) -> pd.DataFrame:
    """Accuracy after each lesion fraction and order: columns order, fraction, n_removed, accuracy.

    The order generator is seeded with ``seed`` (one order per curve: step k removes a superset of
    step k-1); the sampling generator is re-seeded with ``seed`` before every evaluation, so every
    point sees the same release masks on its surviving synapses. ``random_orders`` > 0 adds rows of order
    ``random_mean``: the accuracy averaged over that many further random orders (column ``n_orders``).
    """
    net = network(state, x.device)
    w0 = net.w.clone()
    learner = PresynapticLearner(net, PresynapticRule(lr=0.0), torch.Generator(device=x.device))

    def curve(order: torch.Tensor) -> list[float]:
        """Accuracy at every fraction removed in ``order``; the same release masks at every point; w restored."""
        accs = []
        for f in fractions:
            net.w.copy_(lesioned(w0, order, f))
            learner.gen.manual_seed(seed)
            probs, _ = learner.predict_proba(x, n_samples)
            accs.append(accuracy(probs, y))
        net.w.copy_(w0)
        return accs

    removed = [int(round(f * w0.numel())) for f in fractions]
    rows = []
    for i, order_name in enumerate(orders):
        accs = curve(lesion_order(net.p, order_name, torch.Generator(device=x.device).manual_seed(seed + i), jitter))
        rows += [
            {"order": order_name, "fraction": float(f), "n_removed": k, "accuracy": a}
            for f, k, a in zip(fractions, removed, accs)
        ]
    if random_orders > 0:
        acc = torch.zeros(len(fractions), dtype=torch.float64)
        for r in range(random_orders):
            gen = torch.Generator(device=x.device).manual_seed(seed + RANDOM_MEAN_SEED_OFFSET + r)
            acc += torch.tensor(curve(lesion_order(net.p, "random", gen)), dtype=torch.float64)
        rows += [
            {
                "order": RANDOM_MEAN,
                "fraction": float(f),
                "n_removed": k,
                "accuracy": float(acc[j] / random_orders),
                "n_orders": random_orders,
            }
            for j, (f, k) in enumerate(zip(fractions, removed))
        ]
    return pd.DataFrame(rows)


def area_between(curve_a: pd.Series, curve_b: pd.Series, lo: float = 0.1, hi: float = 0.9) -> float:
    """Area between two accuracy curves (indexed by removed fraction) from ``lo`` to ``hi`` (trapezoid rule):
    one number per seed for a test over the whole lesion curve."""
    diff = (curve_a - curve_b).sort_index()
    diff = diff[(diff.index >= lo - 1e-12) & (diff.index <= hi + 1e-12)]
    x, d = diff.index.to_numpy(float), diff.to_numpy(float)
    return float(((d[1:] + d[:-1]) / 2 * (x[1:] - x[:-1])).sum())
