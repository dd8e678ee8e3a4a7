"""Pure metrics: arrays in, numbers out (docs/protocol.md#energy-accuracy-and-information)."""

from __future__ import annotations

import torch


def accuracy(probs: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of items whose (sample-averaged) softmax peaks at the true label."""
    return float((probs.argmax(1) == y).float().mean())


def mutual_information(probs: torch.Tensor, y: torch.Tensor, n_classes: int | None = None) -> float:
    """I(Y; Z) in bits between true label Y and the network's soft output Z.

    P(z|y) is the mean softmax over test items of class y, P(y) the empirical label
    frequency; I = sum_{y,z} P(y, z) log2(P(z|y) / P(z)), with 0 log 0 = 0.
    """
    probs = probs.double()
    n_classes = n_classes or probs.shape[1]
    counts = torch.bincount(y, minlength=n_classes).double()
    sums = torch.zeros(n_classes, probs.shape[1], dtype=torch.float64, device=probs.device)
    sums.index_add_(0, y, probs)
    present = counts > 0
    p_z_given_y = sums[present] / counts[present, None]
    p_y = counts[present] / counts.sum()
    p_yz = p_y[:, None] * p_z_given_y
    p_z = p_yz.sum(0)
    ratio = torch.where(p_yz > 0, p_z_given_y / p_z.clamp_min(1e-300)[None, :], torch.ones_like(p_yz))
    return float((p_yz * torch.log2(ratio)).sum())


@torch.no_grad()
def evaluate(learner, x: torch.Tensor, y: torch.Tensor, n_samples: int) -> dict[str, float]:
    """Test accuracy (softmax averaged over sampled networks), MI and neuronal energy."""
    probs, activity = learner.predict_proba(x, n_samples)
    return {
        "test_accuracy": accuracy(probs, y),
        "mutual_information": mutual_information(probs, y),
        "neuronal_energy": float(activity.mean()),
    }
