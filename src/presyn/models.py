"""The stochastic-synapse MLP: expected strengths w_bar, release probabilities p, fixed biases.

Weights and release probabilities live in one flat tensor each, with per-layer views, so that
sampling masks and the learning rule are single fused ops over every synapse (docs/protocol.md#network).
Forward and backward are written by hand for the ReLU MLP: no autograd graph per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Forward:
    """What one forward pass leaves behind for the backward pass."""

    activations: list[torch.Tensor]  # inputs to each layer (x, h1, h2, ...)
    logits: torch.Tensor


class SynapticMLP:
    """MLP whose every weight is a stochastic synapse (w_bar, p); biases are plain tensors.

    ``sizes`` e.g. [784, 200, 200, 10]. ``p_init``: a number, "min" (= p_min) or "uniform"
    (U(p_min, 1), Appendix 1-fig 1d). ``weight_scale`` multiplies the default init (the
    "no normalisation" ablation starts with weights / p_min).
    """

    def __init__(
        self,
        sizes: list[int],
        generator: torch.Generator,
        device: torch.device | str = "cpu",
        p_min: float = 0.25,
        p_init: float | str = "min",
        weight_scale: float = 1.0,
    ) -> None:
        self.sizes = list(sizes)
        self.device = torch.device(device)
        self.shapes = [(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.numels = [o * i for o, i in self.shapes]
        total = sum(self.numels)
        # PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b,
        # drawn on the CPU generator so that CPU and GPU runs start from the same numbers.
        w_parts, b_parts = [], []
        for n_out, n_in in self.shapes:
            bound = 1.0 / math.sqrt(n_in)
            w_parts.append((torch.rand(n_out * n_in, generator=generator) * 2 - 1) * bound)
            b_parts.append((torch.rand(n_out, generator=generator) * 2 - 1) * bound)
        self.w = (torch.cat(w_parts) * weight_scale).to(self.device)
        self.biases = [b.to(self.device) for b in b_parts]
        if p_init == "min":
            self.p = torch.full((total,), float(p_min), device=self.device)
        elif p_init == "uniform":
            self.p = (p_min + (1 - p_min) * torch.rand(total, generator=generator)).to(self.device)
        else:
            self.p = torch.full((total,), float(p_init), device=self.device)
        self.p_min = p_min

    # ----------------------------------------------------------------- views
    def views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer (out, in) views of a flat per-synapse tensor."""
        return [v.view(shape) for v, shape in zip(torch.split(flat, self.numels), self.shapes)]

    @property
    def weights(self) -> list[torch.Tensor]:
        return self.views(self.w)

    @property
    def release_probs(self) -> list[torch.Tensor]:
        return self.views(self.p)

    # ----------------------------------------------------------------- passes
    def forward(self, x: torch.Tensor, w_eff: torch.Tensor) -> Forward:
        """Forward with effective weights ``w_eff`` (flat); keeps activations for backward."""
        acts = [x]
        h = x
        layers = self.views(w_eff)
        for i, (W, b) in enumerate(zip(layers, self.biases)):
            h = torch.addmm(b, h, W.t())
            if i < len(layers) - 1:
                h = torch.relu(h)
                acts.append(h)
        return Forward(acts, h)

    def backward(
        self, fwd: Forward, y: torch.Tensor, w_eff: torch.Tensor, grad_w: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Mean cross-entropy gradients wrt the effective weights (into flat ``grad_w``) and biases.

        Returns (loss, bias gradients). ``grad_w`` is filled in place.
        """
        logits = fwd.logits
        n = logits.shape[0]
        log_probs = torch.log_softmax(logits, dim=1)
        loss = F.nll_loss(log_probs, y)
        d = log_probs.exp()
        d[torch.arange(n, device=d.device), y] -= 1.0
        d.div_(n)
        layers = self.views(w_eff)
        grad_views = self.views(grad_w)
        grad_b = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            torch.mm(d.t(), fwd.activations[i], out=grad_views[i])
            grad_b[i] = d.sum(0)
            if i > 0:
                d = torch.ops.aten.threshold_backward(d @ layers[i], fwd.activations[i], 0.0)
        return loss, grad_b

    def hidden_activity(self, x: torch.Tensor, w_eff: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and, per input, the summed hidden ReLU activity (neuronal energy)."""
        fwd = self.forward(x, w_eff)
        activity = sum(a.sum(1) for a in fwd.activations[1:])
        return fwd.logits, activity

    def state_dict(self) -> dict:
        return {
            "sizes": self.sizes,
            "w_bar": [W.detach().cpu().clone() for W in self.weights],
            "p": [P.detach().cpu().clone() for P in self.release_probs],
            "biases": [b.detach().cpu().clone() for b in self.biases],
        }

    def load_state_dict(self, state: dict) -> None:
        self.w.copy_(torch.cat([W.reshape(-1) for W in state["w_bar"]]).to(self.device))
        self.p.copy_(torch.cat([P.reshape(-1) for P in state["p"]]).to(self.device))
        for b, src in zip(self.biases, state["biases"]):
            b.copy_(src.to(self.device))


def bernoulli_mask(p: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Float {0, 1} mask with P(1) = p (to 1/65536), one draw per synapse: the model's sampling."""
    from presyn.fused import random_u16, sample_scale

    return sample_scale(random_u16(p.numel(), generator, p.device).view(p.shape), p, normalise=False)
