"""Empirical diagonal Fisher information of the trained network (Fig 2d; docs/protocol.md#fig-2d-fisher-information).

All release probabilities are set to 1 (the network with weights w_bar), and
F_i = mean over test examples of (d log f(y_true | x) / d w_i)^2, from per-example gradients
computed with torch.func (vmap over grad), in chunks of examples to bound memory.
"""

from __future__ import annotations

import torch
from torch.func import grad, vmap


def log_likelihood(
    weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """log softmax(net(x))[y] of one example (x: (n_in,), y: scalar) for the ReLU MLP with all p = 1."""
    h = x
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = W @ h + b
        if i < len(weights) - 1:
            h = torch.relu(h)
    return torch.log_softmax(h, dim=-1).gather(-1, y.reshape(1)).squeeze(-1)


_per_example_grad = vmap(grad(log_likelihood), in_dims=(None, None, 0, 0))


def per_example_grads(
    weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> list[torch.Tensor]:
    """Per-example gradients of the true-label log-likelihood wrt every weight matrix: list of (N, out, in)."""
    return _per_example_grad(list(weights), list(biases), x, y)


@torch.no_grad()
def empirical_fisher(
    weights: list[torch.Tensor], biases: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor, chunk: int = 500
) -> list[torch.Tensor]:
    """Diagonal empirical Fisher per weight matrix (same shapes as ``weights``), mean over the N examples."""
    weights = [w.detach().float() for w in weights]
    biases = [b.detach().float() for b in biases]
    total = [torch.zeros_like(w) for w in weights]
    for start in range(0, x.shape[0], chunk):
        grads = per_example_grads(weights, biases, x[start : start + chunk], y[start : start + chunk])
        for acc, g in zip(total, grads):
            acc.add_(g.square().sum(0))
    return [acc / x.shape[0] for acc in total]
