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
        """One minibatch update; returns (mean loss, number correct): 0-d tensors, (S,) on a stacked net."""

    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample-averaged softmax (N x C) and mean summed hidden activity per input (N); stacked: (S, N, ·)."""

    def synaptic_energy(self) -> float:
        """Sum of |expected strength| over all weights (metabolic cost of transmission); a list when stacked."""

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


def _as_list(x, kind) -> list:
    return [x] if isinstance(x, kind) else list(x)


class PresynapticLearner:
    """The presynaptic model: one Bernoulli mask per forward pass, shared across the batch.

    On a stacked net (S networks) ``rule`` and ``mask_generator`` are one per network (or one for all); each
    network draws its masks from its own generator in the order of a run alone, and networks with equal rule
    constants share one update call. ``step`` and the metrics then give one number per network.
    """

    def __init__(
        self,
        net: SynapticMLP,
        rule: PresynapticRule | list[PresynapticRule],
        mask_generator: torch.Generator | list[torch.Generator],
        compile: bool = False,
    ) -> None:
        self.net = net
        rules = _as_list(rule, PresynapticRule)
        gens = _as_list(mask_generator, torch.Generator)
        S = net.n_networks
        rules = rules * S if len(rules) == 1 else rules
        gens = gens * S if len(gens) == 1 and S == 1 else gens
        if len(rules) != S or len(gens) != S:
            raise ValueError(f"{S} networks need {S} rules and mask generators, got {len(rules)} and {len(gens)}")
        self.rules, self.gens = rules, gens
        self.rule, self.gen = rules[0], gens[0]
        for r in rules:
            if r.ghost_normaliser not in GHOST_NORMALISERS:
                raise ValueError(f"ghost_normaliser {r.ghost_normaliser!r}; use one of {GHOST_NORMALISERS}")
        # networks may sample differently (ghost p and its normaliser, normalisation): one sampling call per network
        sampling = {(r.sample_p, r.normalise, r.ghost_normaliser) for r in rules}
        self._alike = len(sampling) == 1
        self._grad = torch.empty_like(net.w)
        n = net.w.shape[-1]
        self._words = torch.empty((*net.w.shape[:-1], (n + 3) // 4), dtype=torch.int64, device=net.w.device)
        self._bits = torch.empty(net.w.shape, dtype=torch.int16, device=net.w.device)
        # the ghost's sampling probability: one tensor when the networks sample alike, else one per network
        ghost = self._alike and rules[0].sample_p is not None
        self._ghost_p = torch.full_like(net.w, float(rules[0].sample_p)) if ghost else None
        if not self._alike:  # each network's own sampling probability (its ghost p, else its learned p)
            self._row_ghost = [
                None if r.sample_p is None else torch.full_like(net.w[s], r.sample_p) for s, r in enumerate(rules)
            ]
        self._compile = compile
        self._sample, self._update = fused.kernels(compile)
        # CPU without torch.compile: one numba loop per half-step (same numbers, ~3x fewer passes)
        self._cpu_loops = net.w.device.type == "cpu" and not compile
        self._scale = torch.empty_like(net.w)
        self._w_eff = torch.empty_like(net.w)
        self._consts = rules[0].constants()
        # networks with equal rule constants share one update call: [(constants, rows or None for all)]
        groups: dict[tuple, list[int]] = {}
        for s, r in enumerate(rules):
            groups.setdefault(tuple(sorted(r.constants().items())), []).append(s)
        self._rule_groups = [(dict(k), None if len(groups) == 1 else v) for k, v in groups.items()]

    @classmethod
    def stack(cls, learners: list[PresynapticLearner]) -> PresynapticLearner:
        """One learner over S stacked copies of unstacked learners' tensors, with their rules and mask generators
        (the generators are shared: masks are drawn as each learner alone would draw them); ``unstack`` copies back."""
        net = SynapticMLP.stack([l.net for l in learners])
        out = cls(net, [l.rule for l in learners], [l.gen for l in learners], compile=learners[0]._compile)
        out._cpu_loops = all(l._cpu_loops for l in learners)
        return out

    def unstack(self, learners: list) -> None:
        """Copy network s of this stacked learner into ``learners[s]`` (the inverse of ``stack``)."""
        self.net.unstack([l.net for l in learners])

    def sampling_p(self) -> torch.Tensor:
        return self.net.p if self._ghost_p is None else self._ghost_p

    def _draw_bits(self) -> torch.Tensor:
        """One 16-bit uniform per synapse, each network's from its own mask generator (fused.random_u16)."""
        n, device = self.net.w.shape[-1], self.net.w.device
        if not self.net.stacked:
            return fused.random_u16(n, self.gen, device, out=self._words)
        for s, gen in enumerate(self.gens):
            self._bits[s] = fused.random_u16(n, gen, device, out=self._words[s])
        return self._bits

    def sample_weights(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, effective weights w_bar * scale) of one sampled network per network: the whole stack in one
        sampling call when the networks sample alike, else one call per network."""
        bits = self._draw_bits()
        if self._alike:
            self._sample_into(bits, self.sampling_p(), self.net.w, self.net.p, self.rule, self._scale, self._w_eff)
            return self._scale, self._w_eff
        for s, (rule, ghost) in enumerate(zip(self.rules, self._row_ghost)):
            p_sample = self.net.p[s] if ghost is None else ghost
            self._sample_into(bits[s], p_sample, self.net.w[s], self.net.p[s], rule, self._scale[s], self._w_eff[s])
        return self._scale, self._w_eff

    def _sample_into(
        self,
        bits: torch.Tensor,
        p_sample: torch.Tensor,
        w: torch.Tensor,
        p_learned: torch.Tensor,
        rule: PresynapticRule,
        scale_out: torch.Tensor,
        w_eff_out: torch.Tensor,
    ) -> None:
        """mask / p, mask (no normalisation) or, for the authors' ghost, mask ~ Bernoulli(sample_p) / learned p~,
        into ``scale_out``, and w_bar * scale into ``w_eff_out`` (numba loop on the CPU, else the torch kernel)."""
        by_learned = divides_by_learned_p(rule)
        normalise = rule.normalise and not by_learned
        if self._cpu_loops:
            flat = [t.view(-1) for t in (p_sample, w, scale_out, w_eff_out)]
            cpu_kernels.sample(bits.reshape(-1), *flat[:2], normalise, *flat[2:])
            if not by_learned:
                return
            scale_out.div_(p_learned)
        else:
            scale = self._sample(bits, p_sample, normalise)
            scale_out.copy_(scale.div_(p_learned) if by_learned else scale)
        torch.mul(w, scale_out, out=w_eff_out)

    def _apply_rule(self, scale: torch.Tensor) -> None:
        """eqs. 4-9 (presyn_rule.update, or its numba loop) on every network, one call per group of equal rules."""
        net = self.net
        for consts, rows in self._rule_groups:
            if self._cpu_loops:
                if rows is None:
                    presyn_rule.update_loop_(net.w, net.p, self._grad, scale, **consts)
                else:
                    for s in rows:
                        presyn_rule.update_loop_(net.w[s], net.p[s], self._grad[s], scale[s], **consts)
            elif rows is None:
                net.w, net.p = self._update(net.w, net.p, self._grad, scale, **consts)
            else:
                idx = torch.tensor(rows, device=net.w.device)
                w, p = self._update(net.w[idx], net.p[idx], self._grad[idx], scale[idx], **consts)
                net.w, net.p = net.w.index_copy(0, idx, w), net.p.index_copy(0, idx, p)

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One minibatch update; stacked: x (S, B, in), y (S, B) and (loss, correct) per network."""
        scale, w_eff = self.sample_weights()
        fwd = self.net.forward(x, w_eff)
        loss, _ = self.net.backward(fwd, y, w_eff, self._grad)
        # dL/dw_bar = dL/dW_eff * mask / p, then eqs. 4-9
        self._apply_rule(scale)
        correct = (fwd.logits.argmax(-1) == y).sum(-1)
        return loss.detach(), correct

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample-averaged softmax and mean hidden activity; stacked: (S, N, C) and (S, N)."""
        lead = self.net.w.shape[:-1]
        probs = torch.zeros(*lead, x.shape[0], self.net.sizes[-1], device=x.device)
        activity = torch.zeros(*lead, x.shape[0], device=x.device)
        for _ in range(n_samples):
            logits, act = self.net.hidden_activity(x, self.sample_weights()[1])
            probs += torch.softmax(logits, -1)
            activity += act
        return probs / n_samples, activity / n_samples

    def synaptic_energy(self) -> float | list[float]:
        """Per network when stacked (each network's sum on its own row, as a run alone sums it)."""
        n = self.net.w.shape[-1]
        rows = zip(self.rules, self.net.w.view(-1, n), self.net.p.view(-1, n))
        energy = [self._energy(r, w, p) for r, w, p in rows]
        return energy if self.net.stacked else energy[0]

    @staticmethod
    def _energy(rule: PresynapticRule, w: torch.Tensor, p: torch.Tensor) -> float:
        if rule.normalise:
            return float(w.abs().sum())
        return float((p * w.abs()).sum())

    def state_dict(self, network: int | None = None) -> dict:
        return self.net.state_dict(network)


class DeterministicLearner:
    """Plain MLP (no masks), every parameter trained by SGD or Adam with weight decay.

    On a stacked net the optimiser (torch.optim) runs on the stacked tensors when all networks share lr and
    weight decay (elementwise: each network's numbers are those of a run alone), else with one parameter
    group of row views per network. ``lr`` / ``weight_decay`` may be one per network.
    """

    def __init__(
        self,
        net: SynapticMLP,
        optimizer: str = "sgd",
        lr: float | list[float] = 0.08,
        weight_decay: float | list[float] = 0.0,
    ) -> None:
        self.net = net
        net.p.fill_(1.0)
        self.params = [net.w, *net.biases]
        for t in self.params:
            t.requires_grad_(False)
        self._grad = torch.empty_like(net.w)
        opt_cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}.get(optimizer)
        if opt_cls is None:
            raise ValueError(f"unknown optimizer {optimizer!r}; use 'sgd' or 'adam'")
        S = net.n_networks
        lrs = _as_list(lr, (int, float)) * (S if isinstance(lr, (int, float)) else 1)
        wds = _as_list(weight_decay, (int, float)) * (S if isinstance(weight_decay, (int, float)) else 1)
        if len(lrs) != S or len(wds) != S:
            raise ValueError(f"{S} networks need {S} learning rates and weight decays")
        self._per_network = net.stacked and len(set(zip(lrs, wds))) > 1
        # per-network parameter groups: row views of the stacks (kept, their .grad is set every step)
        self._rows = [[t[s] for t in self.params] for s in range(S)] if self._per_network else None
        self._opt = (opt_cls, {"lr": lrs[0], "weight_decay": wds[0]}, list(zip(lrs, wds)))
        self._opt_name = optimizer
        self.optimizer = self.make_optimizer()

    @classmethod
    def stack(cls, learners: list[DeterministicLearner]) -> DeterministicLearner:
        """One learner over S stacked copies of unstacked learners' tensors and optimiser states (``unstack``
        copies back); each network's lr / weight decay as in its learner."""
        out = cls._stacked(learners)
        out.load_network_states([l.network_state() for l in learners])
        return out

    @classmethod
    def _stacked(cls, learners: list[DeterministicLearner]) -> DeterministicLearner:
        out = cls.__new__(cls)
        DeterministicLearner.__init__(
            out,
            SynapticMLP.stack([l.net for l in learners]),
            learners[0]._opt_name,
            [l._opt[1]["lr"] for l in learners],
            [l._opt[1]["weight_decay"] for l in learners],
        )
        return out

    def _state_keys(self, network: int | None) -> list[tuple[torch.Tensor, int | None]]:
        """(optimiser state key, row of its tensors or None) of every parameter of one network."""
        if network is None:
            return [(t, None) for t in self.params]
        if self._per_network:
            return [(t, None) for t in self._rows[network]]
        return [(t, network) for t in self.params]

    def network_state(self, network: int | None = None) -> list[dict]:
        """The optimiser state of one network's parameters (weights, then biases; {} before its first step)."""
        out = []
        for key, row in self._state_keys(network):
            st = self.optimizer.state.get(key) or {}
            out.append({k: v if row is None or v.dim() == 0 else v[row] for k, v in st.items()})
        return out

    def load_network_states(self, states: list[list[dict]]) -> None:
        """Set the optimiser state of every network (``network_state`` of each, in order)."""
        if not self.net.stacked:
            states = states[0]
            for key, st in zip(self.params, states):
                self._load_param_state(key, st)
            return
        if self._per_network:
            for rows, sts in zip(self._rows, states):
                for key, st in zip(rows, sts):
                    self._load_param_state(key, st)
            return
        for i, key in enumerate(self.params):
            per_net = [sts[i] for sts in states]
            if not any(per_net):
                continue
            steps = {float(st["step"]) for st in per_net}
            if len(steps) != 1 or not all(per_net):
                raise ValueError(f"stacked networks share one optimiser step count, found {sorted(steps)}")
            stacked = {k: torch.stack([st[k] for st in per_net]) for k in per_net[0] if k != "step"}
            self.optimizer.state[key] = {"step": per_net[0]["step"].clone(), **stacked}

    def _load_param_state(self, key: torch.Tensor, st: dict) -> None:
        if not st:
            self.optimizer.state.pop(key, None)
            return
        dst = self.optimizer.state[key]
        for k, v in st.items():
            if k in dst:
                dst[k].copy_(v)
            else:
                dst[k] = v.clone()

    def unstack(self, learners: list) -> None:
        """Copy network s of this stacked learner (weights, biases, optimiser state) into ``learners[s]``."""
        self.net.unstack([l.net for l in learners])
        for s, l in enumerate(learners):
            l.load_network_states([self.network_state(s)])

    def make_optimizer(self) -> torch.optim.Optimizer:
        """A fresh optimiser over the parameters (EWC may reset it at task boundaries)."""
        opt_cls, kwargs, per_net = self._opt
        if not self._per_network:
            return opt_cls(self.params, **kwargs)
        return opt_cls([{"params": rows, "lr": lr, "weight_decay": wd} for rows, (lr, wd) in zip(self._rows, per_net)])

    def _set_grads(self, grads: list[torch.Tensor]) -> None:
        if not self._per_network:
            for t, g in zip(self.params, grads):
                t.grad = g
            return
        for s, rows in enumerate(self._rows):
            for t, g in zip(rows, grads):
                t.grad = g[s]

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        fwd = self.net.forward(x, self.net.w)
        loss, grad_b = self.net.backward(fwd, y, self.net.w, self._grad)
        grad_b = self._add_penalty(grad_b)
        self._set_grads([self._grad, *grad_b])
        self.optimizer.step()
        return loss.detach(), (fwd.logits.argmax(-1) == y).sum(-1)

    def _add_penalty(self, grad_b: list[torch.Tensor]) -> list[torch.Tensor]:
        """Gradient of a loss term beyond the cross-entropy (none here; EWC's penalty), added in place to the
        weight gradient; returns the bias gradients."""
        return grad_b

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        logits, act = self.net.hidden_activity(x, self.net.w)
        return torch.softmax(logits, -1), act

    def synaptic_energy(self) -> float | list[float]:
        """Per network when stacked."""
        energy = [float(w.abs().sum()) for w in self.net.w.view(-1, self.net.w.shape[-1])]
        return energy if self.net.stacked else energy[0]

    def state_dict(self, network: int | None = None) -> dict:
        return self.net.state_dict(network)
