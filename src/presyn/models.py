"""The stochastic-synapse MLP: expected strengths w_bar, release probabilities p, fixed biases.

Weights and release probabilities live in one flat tensor each per network, with per-layer views, so that
sampling masks and the learning rule are single fused ops over every synapse (docs/protocol.md#network).
S networks of one architecture are one model: ``w`` and ``p`` are (S, P), biases (S, out), and the layers
run as ``torch.baddbmm`` / ``torch.bmm`` over (S, B, in) (S = 1 is a single run; on the CPU at one thread
bmm over S is bit-identical to mm per network, benchmarks/bmm_equivalence.py). A model is built unstacked
from its init generator (flat (P,) tensors; the same code runs it as S = 1); ``SynapticMLP.stack`` makes S of
them one stacked model (the learners' ``stack``). Forward and backward are written by hand for the ReLU MLP:
no autograd graph per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class Forward:
    """What one forward pass leaves behind for the backward pass (stacked: (S, B, ·))."""

    activations: list[torch.Tensor]  # inputs to each layer (x, h1, h2, ...)
    logits: torch.Tensor


def init_network(
    sizes: list[int], generator: torch.Generator, p_min: float, p_init: float | str, weight_scale: float
) -> tuple[torch.Tensor, list[torch.Tensor], torch.Tensor]:
    """One network's (w, biases, p) on the CPU from its own init generator.

    PyTorch's default nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for W and b, drawn on the CPU
    generator so that CPU and GPU runs start from the same numbers; then p (``"uniform"``: U(p_min, 1)).
    """
    w_parts, b_parts = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(n_in)
        w_parts.append((torch.rand(n_out * n_in, generator=generator) * 2 - 1) * bound)
        b_parts.append((torch.rand(n_out, generator=generator) * 2 - 1) * bound)
    w = torch.cat(w_parts) * weight_scale
    if p_init == "min":
        p = torch.full((w.numel(),), float(p_min))
    elif p_init == "uniform":
        p = p_min + (1 - p_min) * torch.rand(w.numel(), generator=generator)
    else:
        p = torch.full((w.numel(),), float(p_init))
    return w, b_parts, p


class SynapticMLP:
    """MLPs whose every weight is a stochastic synapse (w_bar, p); biases are plain tensors.

    ``sizes`` e.g. [784, 200, 200, 10]. ``generator``: the init generator (stacked networks: ``stack`` of
    networks built alone, ``over`` existing tensors). ``p_init``: a number, "min" (= p_min)
    or "uniform" (U(p_min, 1), Appendix 1-fig 1d). ``weight_scale`` multiplies the default init (the
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
        device = torch.device(device)
        w, biases, p = init_network(list(sizes), generator, p_min, p_init, weight_scale)
        self._bind(sizes, w.to(device), p.to(device), [b.to(device) for b in biases], p_min)

    def _bind(
        self, sizes: list[int], w: torch.Tensor, p: torch.Tensor, biases: list[torch.Tensor], p_min: float
    ) -> None:
        """The model's layout (layer shapes, synapses per layer) over its tensors."""
        self.sizes = list(sizes)
        self.device = w.device
        self.shapes = [(n_out, n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
        self.numels = [o * i for o, i in self.shapes]
        self.w, self.p, self.biases, self.p_min = w, p, biases, p_min

    @classmethod
    def over(
        cls, sizes: list[int], w: torch.Tensor, p: torch.Tensor, biases: list[torch.Tensor], p_min: float = 0.25
    ) -> SynapticMLP:
        """A model over existing tensors (no init draws): w, p (S, P) or (P,), biases (S, out) or (out,)."""
        net = cls.__new__(cls)
        net._bind(sizes, w, p, biases, p_min)
        return net

    @classmethod
    def stack(cls, nets: list[SynapticMLP]) -> SynapticMLP:
        """S networks of one architecture as one stacked model over copies of their tensors ((S, P), (S, out))."""
        return cls.over(
            nets[0].sizes,
            torch.stack([n.w for n in nets]),
            torch.stack([n.p for n in nets]),
            [torch.stack(bs) for bs in zip(*(n.biases for n in nets))],
            nets[0].p_min,
        )

    def unstack(self, nets: list[SynapticMLP]) -> None:
        """Copy network s of this stacked model into ``nets[s]`` (the inverse of ``stack``)."""
        for s, net in enumerate(nets):
            net.w.copy_(self.w[s])
            net.p.copy_(self.p[s])
            for b, stacked in zip(net.biases, self.biases):
                b.copy_(stacked[s])

    @property
    def stacked(self) -> bool:
        """Whether this model holds S networks ((S, P) tensors) rather than one flat network."""
        return self.w.dim() == 2

    @property
    def n_networks(self) -> int:
        """S (1 for an unstacked network)."""
        return self.w.shape[0] if self.stacked else 1

    # ----------------------------------------------------------------- views
    def views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer (..., out, in) views of a (..., P) per-synapse tensor."""
        lead = flat.shape[:-1]
        return [v.view(*lead, *shape) for v, shape in zip(torch.split(flat, self.numels, dim=-1), self.shapes)]

    @property
    def weights(self) -> list[torch.Tensor]:
        return self.views(self.w)

    @property
    def release_probs(self) -> list[torch.Tensor]:
        return self.views(self.p)

    # ----------------------------------------------------------------- passes
    def _stack(self, x: torch.Tensor, w_eff: torch.Tensor) -> tuple[torch.Tensor, list, list]:
        """(x (S, B, in), per-layer (S, out, in) weights, (S, 1, out) biases); unstacked tensors as S = 1."""
        biases = self.biases if w_eff.dim() == 2 else [b.unsqueeze(0) for b in self.biases]
        w_eff = w_eff if w_eff.dim() == 2 else w_eff.unsqueeze(0)
        if x.dim() == 2:  # one batch for every network
            x = x.unsqueeze(0).expand(w_eff.shape[0], *x.shape)
        return x, self.views(w_eff), [b.unsqueeze(1) for b in biases]

    def forward(self, x: torch.Tensor, w_eff: torch.Tensor) -> Forward:
        """Forward with effective weights ``w_eff`` ((S, P), or (P,) unstacked); keeps activations for backward.

        ``x``: (S, B, in), or (B, in) shared by all networks. Unstacked: activations and logits (B, ·).
        """
        h, layers, biases = self._stack(x, w_eff)
        acts = [h]
        for i, (W, b) in enumerate(zip(layers, biases)):
            h = torch.baddbmm(b, h, W.transpose(1, 2))
            if i < len(layers) - 1:
                h = torch.relu(h)
                acts.append(h)
        if w_eff.dim() == 1:
            return Forward([a[0] for a in acts], h[0])
        return Forward(acts, h)

    def backward(
        self, fwd: Forward, y: torch.Tensor, w_eff: torch.Tensor, grad_w: torch.Tensor
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Mean cross-entropy gradients wrt the effective weights (into ``grad_w``, shaped as ``w_eff``) and biases.

        Returns (loss per network (S,), bias gradients (S, out)); unstacked: a 0-d loss and (out,) gradients.
        ``grad_w`` is filled in place.
        """
        flat = w_eff.dim() == 1
        logits = fwd.logits.unsqueeze(0) if flat else fwd.logits
        acts = [a.unsqueeze(0) for a in fwd.activations] if flat else fwd.activations
        y = y.unsqueeze(0) if y.dim() == 1 else y
        if y.shape[0] != logits.shape[0]:
            y = y.expand(logits.shape[0], -1)
        n = logits.shape[1]
        log_probs = torch.log_softmax(logits, dim=2)
        # per network as nll_loss sums it (the train_loss of a run does not depend on S)
        loss = torch.stack([F.nll_loss(lp, t) for lp, t in zip(log_probs, y)])
        d = log_probs.exp()
        d.scatter_add_(2, y.unsqueeze(2), torch.full_like(y, -1.0, dtype=d.dtype).unsqueeze(2))
        d.div_(n)
        layers = self.views(w_eff.unsqueeze(0) if flat else w_eff)
        grad_views = self.views(grad_w.unsqueeze(0) if flat else grad_w)
        grad_b = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            grad_views[i].copy_(torch.bmm(d.transpose(1, 2), acts[i]))
            grad_b[i] = d.sum(1)
            if i > 0:
                d = torch.ops.aten.threshold_backward(torch.bmm(d, layers[i]), acts[i], 0.0)
        if flat:
            return loss[0], [g[0] for g in grad_b]
        return loss, grad_b

    def hidden_activity(self, x: torch.Tensor, w_eff: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits and, per input, the summed hidden ReLU activity (neuronal energy); per network when stacked."""
        fwd = self.forward(x, w_eff)
        activity = sum(a.sum(-1) for a in fwd.activations[1:])
        return fwd.logits, activity

    def state_dict(self, network: int | None = None) -> dict:
        """Per-layer tensors of one network (``network`` of a stack, or the unstacked network)."""
        rows = (lambda t: t) if network is None else (lambda t: t[network])
        return {
            "sizes": self.sizes,
            "w_bar": [rows(W).detach().cpu().clone() for W in self.weights],
            "p": [rows(P).detach().cpu().clone() for P in self.release_probs],
            "biases": [rows(b).detach().cpu().clone() for b in self.biases],
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
