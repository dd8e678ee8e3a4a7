"""Learning rules behind one interface: ``step(x, y)``, ``predict_proba(x)``, ``state_dict()``.

``PresynapticLearner`` is the paper's model (equations 4-9; docs/protocol.md#presynaptic-learning-rule): strengths follow the
gradient (optionally scaled by 1 - p), release probabilities rise where the gradient is large
and fall where it is small, and freeze once they pass ``p_freeze``. ``DeterministicLearner``
is the plain MLP trained with SGD or Adam (all parameters, biases included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from presyn import cpu_kernels, fused, presyn_rule
from presyn.models import SynapticMLP


class Learner(Protocol):
    """What every method offers to a training loop (energy or lifelong)."""

    net: SynapticMLP

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One minibatch update; returns (mean loss, number correct) as 0-d tensors."""

    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample-averaged softmax (N x C) and mean summed hidden activity per input (N)."""

    def synaptic_energy(self) -> float:
        """Sum of |expected strength| over all weights (metabolic cost of transmission)."""

    def state_dict(self) -> dict: ...


@dataclass
class PresynapticRule:
    """Every switch of the presynaptic model; the ablations are flags here, not copies."""

    lr: float
    p_up: float = 0.07  # release-probability increase when |g| >= g_lim
    p_down: float = 0.07  # decrease when |g| < g_lim
    g_lim: float = 1e-3  # gradient magnitude that counts as "important"
    p_freeze: float = 1.0  # p >= p_freeze never changes again; 1.0 = no freezing
    p_min: float = 0.25  # lower clamp of p
    modulation: bool = False  # scale the strength update by (1 - p): metaplasticity
    learn_p: bool = True  # False: release probabilities stay at their initial value
    sample_p: float | None = None  # "ghost": sample with this p; learned p drives modulation/freezing
    # ghost only: what the sampled mask is divided by. "learned" (the authors' code, default): mask / p~ with
    # p~ the learned ghost probability; "fixed": mask / sample_p (config/README.md, ablation variants)
    ghost_normaliser: str = "learned"
    normalise: bool = True  # effective weight = mask * w / p (True) or mask * w (False)
    weight_decay: float = 0.0

    def constants(self) -> dict:
        """The keyword arguments of the learning rule (``presyn_rule.update`` and its backends)."""
        return {k: getattr(self, k) for k in presyn_rule.CONSTANTS}


GHOST_NORMALISERS = ("learned", "fixed")


def divides_by_learned_p(rule: PresynapticRule) -> bool:
    """Whether the ghost control's sampled mask is divided by the learned p~ (authors' code) instead of sample_p."""
    return rule.sample_p is not None and rule.normalise and rule.ghost_normaliser == "learned"


class PresynapticLearner:
    """The presynaptic model: one Bernoulli mask per forward pass, shared across the batch."""

    def __init__(
        self, net: SynapticMLP, rule: PresynapticRule, mask_generator: torch.Generator, compile: bool = False
    ) -> None:
        self.net = net
        self.rule = rule
        self.gen = mask_generator
        self._grad = torch.empty_like(net.w)
        self._words = torch.empty((net.w.numel() + 3) // 4, dtype=torch.int64, device=net.w.device)
        if rule.ghost_normaliser not in GHOST_NORMALISERS:
            raise ValueError(f"ghost_normaliser {rule.ghost_normaliser!r}; use one of {GHOST_NORMALISERS}")
        self._ghost_p = None if rule.sample_p is None else torch.full_like(net.w, float(rule.sample_p))
        # authors' ghost: mask ~ Bernoulli(sample_p), divided by the learned p~ (not by sample_p)
        self._divide_by_learned = divides_by_learned_p(rule)
        self._sample, self._update = fused.kernels(compile)
        # CPU without torch.compile: one numba loop per half-step (same numbers, ~3x fewer passes)
        self._cpu_loops = net.w.device.type == "cpu" and not compile
        self._scale = torch.empty_like(net.w)
        self._w_eff = torch.empty_like(net.w)
        self._consts = rule.constants()

    def sampling_p(self) -> torch.Tensor:
        return self.net.p if self._ghost_p is None else self._ghost_p

    def sample_scale(self) -> torch.Tensor:
        """mask / p (normalised) or mask: the factor turning w_bar into effective weights."""
        if self._divide_by_learned:
            return self._sample(self._draw_bits(), self.sampling_p(), False).div_(self.net.p)
        return self._sample(self._draw_bits(), self.sampling_p(), self.rule.normalise)

    def _draw_bits(self) -> torch.Tensor:
        """One 16-bit uniform per synapse from the mask generator (fused.random_u16)."""
        return fused.random_u16(self.net.w.numel(), self.gen, self.net.w.device, out=self._words)

    def sample_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, effective weights w_bar * scale) of one sampled network."""
        if not self._cpu_loops:
            scale = self.sample_scale()
            return scale, self.net.w * scale
        if self._divide_by_learned:  # mask from the kernel, then / p~ and w_bar * scale as in the kernel
            cpu_kernels.sample(self._draw_bits(), self.sampling_p(), self.net.w, False, self._scale, self._w_eff)
            self._scale.div_(self.net.p)
            return self._scale, torch.mul(self.net.w, self._scale, out=self._w_eff)
        return cpu_kernels.sample(
            self._draw_bits(), self.sampling_p(), self.net.w, self.rule.normalise, self._scale, self._w_eff
        )

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scale, w_eff = self.sample_weights()
        fwd = self.net.forward(x, w_eff)
        loss, _ = self.net.backward(fwd, y, w_eff, self._grad)
        # dL/dw_bar = dL/dW_eff * mask / p, then eqs. 4-9 (presyn_rule.update, or its numba loop)
        if self._cpu_loops:
            presyn_rule.update_loop_(self.net.w, self.net.p, self._grad, scale, **self._consts)
        else:
            self.net.w, self.net.p = self._update(self.net.w, self.net.p, self._grad, scale, **self._consts)
        correct = (fwd.logits.argmax(1) == y).sum()
        return loss.detach(), correct

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        probs = torch.zeros(x.shape[0], self.net.sizes[-1], device=x.device)
        activity = torch.zeros(x.shape[0], device=x.device)
        for _ in range(n_samples):
            logits, act = self.net.hidden_activity(x, self.sample_weights()[1])
            probs += torch.softmax(logits, 1)
            activity += act
        return probs / n_samples, activity / n_samples

    def synaptic_energy(self) -> float:
        if self.rule.normalise:
            return float(self.net.w.abs().sum())
        return float((self.net.p * self.net.w.abs()).sum())

    def state_dict(self) -> dict:
        return self.net.state_dict()


class DeterministicLearner:
    """Plain MLP (no masks), every parameter trained by SGD or Adam with weight decay."""

    def __init__(self, net: SynapticMLP, optimizer: str = "sgd", lr: float = 0.08, weight_decay: float = 0.0) -> None:
        self.net = net
        net.p.fill_(1.0)
        self.params = [net.w, *net.biases]
        for t in self.params:
            t.requires_grad_(False)
        self._grad = torch.empty_like(net.w)
        opt_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}.get(optimizer)
        if opt_cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; use 'sgd' or 'adam'")
        self._opt = (opt_cls, {"lr": lr, "weight_decay": weight_decay})
        self.optimizer = self.make_optimizer()

    def make_optimizer(self) -> torch.optim.Optimizer:
        """A fresh optimiser over the parameters (EWC may reset it at task boundaries)."""
        opt_cls, kwargs = self._opt
        return opt_cls(self.params, **kwargs)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fwd = self.net.forward(x, self.net.w)
        loss, grad_b = self.net.backward(fwd, y, self.net.w, self._grad)
        self.net.w.grad = self._grad
        for b, gb in zip(self.net.biases, grad_b):
            b.grad = gb
        self.optimizer.step()
        return loss.detach(), (fwd.logits.argmax(1) == y).sum()

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        logits, act = self.net.hidden_activity(x, self.net.w)
        return torch.softmax(logits, 1), act

    def synaptic_energy(self) -> float:
        return float(self.net.w.abs().sum())

    def state_dict(self) -> dict:
        return self.net.state_dict()
