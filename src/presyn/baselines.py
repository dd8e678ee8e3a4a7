"""Lifelong-learning baselines behind the ``Learner`` protocol: BGD and EWC (docs/protocol.md#bgd, #ewc).

``BGDLearner`` — Bayesian Gradient Descent (Zeno et al. 2018). Every parameter (weights and biases) is a
Gaussian N(mu, sigma^2). Per batch, K networks theta_k = mu + sigma * eps_k are sampled and run together
(stacked weights, ``torch.bmm``; hand-written backward), g_k = d(summed batch loss)/d theta at theta_k, and

    mu    <- mu - eta * sigma^2 * E[g]
    sigma <- sigma * sqrt(1 + (sigma * E[g eps] / 2)^2) - sigma^2 * E[g eps] / 2

(expectations over the K samples, both with the sigma before the step). Test accuracy is the mean of the
accuracies of ``n`` sampled networks (``sample_accuracy``).

``EWCLearner`` — Elastic Weight Consolidation (Kirkpatrick et al. 2017) on the deterministic MLP. At the end
of each task (``end_task``, the only learner that receives a task boundary) the empirical diagonal Fisher
F = mean over examples of (d log p(y|x) / d theta)^2 is computed (the square of a per-example gradient
delta a^T is delta^2 (a^2)^T, so the sum over examples is one matmul per layer; ``exact_fisher`` weights the
C classes by p(c|x) instead of using the label) and stored with the parameters theta*. The training loss is the
mean cross-entropy plus lambda * sum_tasks sum_i F_i (theta_i - theta*_i)^2; its gradient
2 * lambda * (sum_t F_t * theta - sum_t F_t * theta*_t) is formed from two running sums, so the cost of a
step does not grow with the number of past tasks.
"""

from __future__ import annotations

import math

import torch

from presyn import cpu_kernels
from presyn.learners import DeterministicLearner
from presyn.models import SynapticMLP


# ------------------------------------------------------------------ flat parameter helpers
def flat_params(net: SynapticMLP) -> torch.Tensor:
    """Weights then biases of ``net`` as one flat vector (a copy); (S, ·) for a stacked net."""
    return torch.cat([net.w, *net.biases], dim=-1)


def unflatten(net: SynapticMLP, theta: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Split a flat (..., P) parameter tensor into per-layer weights (..., out, in) and biases (..., out)."""
    lead = theta.shape[:-1]
    sizes = list(net.numels) + [b.numel() for b in net.biases]
    parts = torch.split(theta, sizes, dim=-1)
    n = len(net.numels)
    weights = [p.reshape(*lead, *shape) for p, shape in zip(parts[:n], net.shapes)]
    return weights, list(parts[n:])


def _fisher_from_logit_grads(net: SynapticMLP, x: torch.Tensor, logit_grads, chunk: int) -> torch.Tensor:
    """Sum over examples of squared per-example gradients, without forming any per-example gradient.

    For a layer z = W a + b the per-example gradient of a scalar is delta a^T, so its square is
    delta^2 (a^2)^T: the sum over examples is one matmul, (delta^2)^T @ a^2. ``logit_grads(logits, rows)`` gives, per
    example, the gradients wrt the logits of the scalars whose squares are summed, as (B, R, C) with
    weights (B, R) (empirical Fisher: R = 1, the label's log-likelihood, weight 1; exact Fisher: R = C classes,
    weights p(c|x)); they are back-propagated through the ReLU layers together. ``rows`` is the chunk's slice
    of ``x``. The forward pass is ``net.forward``. Per chunk the work is a forward pass and R backward passes."""
    weights = net.views(net.w)
    sums_w = [torch.zeros_like(W) for W in weights]
    sums_b = [torch.zeros_like(b) for b in net.biases]
    for start in range(0, x.shape[0], chunk):
        fwd = net.forward(x[start : start + chunk], net.w)
        delta, row_weight = logit_grads(fwd.logits, slice(start, start + chunk))  # (B, R, C), (B, R)
        for layer in range(len(weights) - 1, -1, -1):
            sq = torch.einsum("br,bro->bo", row_weight, delta.square())  # sum over rows of weight * delta^2
            sums_w[layer] += sq.t() @ fwd.activations[layer].square()
            sums_b[layer] += sq.sum(0)
            if layer:  # ReLU'(z) = 1 where relu(z) > 0
                delta = (delta @ weights[layer]) * (fwd.activations[layer] > 0).unsqueeze(1)
    return torch.cat([*[s.reshape(-1) for s in sums_w], *sums_b]) / x.shape[0]


def empirical_fisher(net: SynapticMLP, x: torch.Tensor, y: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """Diagonal empirical Fisher at the current parameters: mean over examples of the squared per-example
    gradient of log p(y|x) wrt every parameter (flat, weights then biases)."""

    def label_grad(z: torch.Tensor, rows: slice):
        g = torch.nn.functional.one_hot(y[rows], z.shape[1]).to(z.dtype) - torch.softmax(z, -1)  # d log p(y) / dz
        return g.unsqueeze(1), torch.ones(z.shape[0], 1, dtype=z.dtype, device=z.device)

    return _fisher_from_logit_grads(net, x, label_grad, chunk)


def exact_fisher(net: SynapticMLP, x: torch.Tensor, chunk: int = 1024) -> torch.Tensor:
    """Diagonal Fisher at the current parameters with the expectation over the model's own predictive
    distribution taken exactly: mean over examples of sum_c p(c|x) (d log p(c|x) / d theta)^2 (no labels)."""

    def class_grads(z: torch.Tensor, rows: slice):
        p = torch.softmax(z, -1)
        g = torch.eye(z.shape[1], dtype=z.dtype, device=z.device).unsqueeze(0) - p.unsqueeze(1)  # (B, c, C)
        return g, p

    return _fisher_from_logit_grads(net, x, class_grads, chunk)


FISHERS = {"empirical": lambda net, x, y: empirical_fisher(net, x, y), "exact": lambda net, x, y: exact_fisher(net, x)}


def fork_init_(net: SynapticMLP, generator: torch.Generator) -> None:
    """Initial BGD means as the authors' BGD fork sets them (nn_utils/init_utils.py, main.py defaults):
    every weight matrix ``xavier_normal_`` (std sqrt(2 / (fan_in + fan_out))), every bias
    N(0, sqrt(2) / sqrt(1 + fan_out)); drawn on the run's init generator, weights first, then biases."""
    parts = [torch.randn(o * i, generator=generator) * math.sqrt(2.0 / (i + o)) for o, i in net.shapes]
    net.w.copy_(torch.cat(parts).to(net.w.device))
    for b, (o, _) in zip(net.biases, net.shapes):
        b.copy_((torch.randn(o, generator=generator) * (math.sqrt(2.0) / math.sqrt(1 + o))).to(b.device))


# ------------------------------------------------------------------ BGD
def bgd_update(mu: torch.Tensor, sigma: torch.Tensor, g: torch.Tensor, eps: torch.Tensor, eta: float) -> None:
    """One BGD step in place; ``g`` and ``eps`` are (..., K, P): the K Monte Carlo samples of this batch, with
    ``mu``, ``sigma`` (..., P) (a leading network dimension for the stacked trainer)."""
    e_g = g.mean(-2)
    e_ge = (g * eps).mean(-2)
    s2 = sigma.square()
    mu.sub_(eta * s2 * e_g)
    half = sigma * e_ge / 2
    sigma.copy_(sigma * torch.sqrt(1 + half.square()) - s2 * e_ge / 2)


class BGDLearner:
    """Bayesian Gradient Descent with K Monte Carlo samples per batch, vectorised over samples."""

    def __init__(
        self, net: SynapticMLP, std_init: float, eta: float, mc_samples: int, generator: torch.Generator
    ) -> None:
        self.net = net
        net.p.fill_(1.0)
        self.eta, self.k, self.gen = float(eta), int(mc_samples), generator
        self.mu = flat_params(net)
        # net.w and net.biases become views of mu: the model's state_dict holds the means
        n_w = net.w.numel()
        net.w = self.mu[:n_w]
        net.biases = unflatten(net, self.mu)[1]
        self.sigma = torch.full_like(self.mu, float(std_init))
        self.gens, self.etas = [generator], [self.eta]
        self._cpu_loops = self.mu.device.type == "cpu"  # numba kernels (cpu_kernels.bgd_theta / bgd_update_)

    @classmethod
    def stack(cls, learners: list[BGDLearner]) -> BGDLearner:
        """S unstacked learners as one: means and deviations (S, P), each network's K samples drawn from its own
        generator, the S * K sampled networks run as one bmm (``unstack`` copies mu and sigma back)."""
        ks = {l.k for l in learners}
        if len(ks) != 1:
            raise ValueError(f"stacked BGD networks need one number of Monte Carlo samples, found {sorted(ks)}")
        out = cls.__new__(cls)
        out.net, out.k, out.eta, out.gen = learners[0].net, ks.pop(), learners[0].eta, learners[0].gen  # net: shapes
        out.mu = torch.stack([l.mu for l in learners])
        out.sigma = torch.stack([l.sigma for l in learners])
        out.gens, out.etas = [l.gen for l in learners], [l.eta for l in learners]
        out._cpu_loops = all(l._cpu_loops for l in learners)
        return out

    def unstack(self, learners: list[BGDLearner]) -> None:
        for s, l in enumerate(learners):
            l.mu.copy_(self.mu[s])
            l.sigma.copy_(self.sigma[s])

    def sample(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """(theta, eps), (K, P); stacked (S, K, P), each network's eps from its own generator."""
        P, dev = self.mu.shape[-1], self.mu.device
        if self.mu.dim() == 1:
            eps = torch.randn((k, P), generator=self.gen, device=dev)
            if self._cpu_loops:
                return cpu_kernels.bgd_theta(self.mu, self.sigma, eps, torch.empty_like(eps)), eps
            return self.mu + self.sigma * eps, eps
        eps = torch.stack([torch.randn((k, P), generator=g, device=dev) for g in self.gens])
        if self._cpu_loops:
            theta = torch.empty_like(eps)
            for s in range(len(self.gens)):
                cpu_kernels.bgd_theta(self.mu[s], self.sigma[s], eps[s], theta[s])
            return theta, eps
        return self.mu.unsqueeze(1) + self.sigma.unsqueeze(1) * eps, eps

    def forward(self, x: torch.Tensor, theta: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """K networks at once: x (B, in) shared, theta (K, P); returns layer inputs and logits (K, B, C).
        Stacked: x (S, B, in), theta (S, K, P): the S * K networks as one (S * K, B, ·) bmm."""
        if theta.dim() == 3:
            S, K, P = theta.shape
            theta = theta.view(S * K, P)
            h = x.unsqueeze(1).expand(S, K, *x.shape[1:]).reshape(S * K, *x.shape[1:])
        else:
            h = x.expand(theta.shape[0], *x.shape)
        weights, biases = unflatten(self.net, theta)
        acts = [h]
        for i, (W, b) in enumerate(zip(weights, biases)):
            h = torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))
            if i < len(weights) - 1:
                h = torch.relu(h)
                acts.append(h)
        return acts, h

    def gradients(
        self, x: torch.Tensor, y: torch.Tensor, theta: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Gradient of the summed batch cross-entropy for each of the K networks (K, P); mean loss; logits."""
        parts, loss, logits = self.gradient_blocks(x, y, theta)
        return torch.cat(parts, dim=1), loss, logits

    def gradient_blocks(
        self, x: torch.Tensor, y: torch.Tensor, theta: torch.Tensor
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """As ``gradients``, the (K, P) gradient as its column blocks in flat order (weights, then biases)."""
        acts, logits = self.forward(x, theta)
        k, n, c = logits.shape
        log_probs = torch.log_softmax(logits, -1)
        if theta.dim() == 3:  # stacked: y (S, B) per network, its K samples' rows; mean loss per network
            S = theta.shape[0]
            yk = y.unsqueeze(1).expand(S, k // S, n).reshape(k, n)
            loss = -log_probs.gather(2, yk.unsqueeze(2)).view(S, -1).mean(1)
        else:
            yk = y.expand(k, n)
            loss = -log_probs.gather(2, yk.unsqueeze(2)).mean()
        d = log_probs.exp()
        d.scatter_add_(2, yk.unsqueeze(2), torch.full((k, n, 1), -1.0, device=d.device))
        weights, _ = unflatten(self.net, theta.reshape(k, -1))
        gw, gb = [None] * len(weights), [None] * len(weights)
        for i in range(len(weights) - 1, -1, -1):
            gw[i] = torch.bmm(d.transpose(1, 2), acts[i]).reshape(k, -1)
            gb[i] = d.sum(1)
            if i > 0:
                d = torch.ops.aten.threshold_backward(torch.bmm(d, weights[i]), acts[i], 0.0)  # ReLU'; one pass
        return [*gw, *gb], loss, logits

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One BGD step; stacked: x (S, B, in), y (S, B) and (mean loss, correct / K) per network."""
        theta, eps = self.sample(self.k)
        blocks, loss, logits = self.gradient_blocks(x, y, theta)
        K = self.k
        if self.mu.dim() == 1:
            if self._cpu_loops:
                cpu_kernels.bgd_update_(self.mu, self.sigma, blocks, eps, self.eta)
            else:
                bgd_update(self.mu, self.sigma, torch.cat(blocks, dim=1), eps, self.eta)
            return loss.detach(), (logits.argmax(-1) == y).float().sum() / K
        S = self.mu.shape[0]
        if self._cpu_loops:
            for s in range(S):
                cpu_kernels.bgd_update_(
                    self.mu[s], self.sigma[s], [g[s * K : (s + 1) * K] for g in blocks], eps[s], self.etas[s]
                )
        else:
            g = torch.cat(blocks, dim=1).view(S, K, -1)
            if len(set(self.etas)) == 1:
                bgd_update(self.mu, self.sigma, g, eps, self.etas[0])
            else:
                for s in range(S):
                    bgd_update(self.mu[s : s + 1], self.sigma[s : s + 1], g[s : s + 1], eps[s : s + 1], self.etas[s])
        n = y.shape[-1]
        yk = y.unsqueeze(1).expand(S, K, n).reshape(S * K, n)
        correct = (logits.argmax(-1) == yk).float().view(S, K * n).sum(1) / K
        return loss.detach(), correct

    @torch.no_grad()
    def sample_probs(self, x: torch.Tensor, n_samples: int) -> torch.Tensor:
        theta, _ = self.sample(n_samples)
        _, logits = self.forward(x, theta)
        return torch.softmax(logits, -1)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        theta, _ = self.sample(n_samples)
        acts, logits = self.forward(x, theta)
        activity = sum(a.sum(-1) for a in acts[1:]).mean(0)
        return torch.softmax(logits, -1).mean(0), activity

    @torch.no_grad()
    def sample_accuracy(self, x: torch.Tensor, y: torch.Tensor, n_samples: int) -> float:
        """Mean over ``n_samples`` sampled networks of each network's test accuracy (BGD's test: docs/protocol.md#bgd)."""
        return float((self.sample_probs(x, n_samples).argmax(-1) == y).float().mean())

    def synaptic_energy(self) -> float:
        return float(self.net.w.abs().sum())

    def state_dict(self) -> dict:
        _, sig_b = unflatten(self.net, self.sigma)
        sig_w = self.net.views(self.sigma[: self.net.w.numel()])
        return {
            **self.net.state_dict(),
            "sigma_w": [s.cpu().clone() for s in sig_w],
            "sigma_b": [s.cpu().clone() for s in sig_b],
        }


# ------------------------------------------------------------------ EWC
class EWCLearner(DeterministicLearner):
    """Deterministic MLP + the EWC penalty of every past task (Fisher and anchor taken at ``end_task``)."""

    def __init__(
        self,
        net: SynapticMLP,
        optimizer: str,
        lr: float,
        ewc_lambda: float,
        fisher_samples: int | None = None,
        weight_decay: float = 0.0,
        fisher: str = "empirical",
        reset_optimizer: bool = False,
    ) -> None:
        super().__init__(net, optimizer, lr, weight_decay)
        if fisher not in FISHERS:
            raise ValueError(f"EWC fisher must be one of {sorted(FISHERS)}, not {fisher!r}")
        self.ewc_lambda = float(ewc_lambda)
        self.fisher_samples = fisher_samples
        self.fisher_kind, self.reset_optimizer = fisher, bool(reset_optimizer)
        self.tasks: list[tuple[torch.Tensor, torch.Tensor]] = []  # (F_t, theta*_t) per finished task
        self._f_sum = torch.zeros_like(flat_params(net))  # sum_t F_t; (S, ·) stacked
        self._f_anchor = torch.zeros_like(self._f_sum)  # sum_t F_t * theta*_t
        self._lambdas = [self.ewc_lambda] * net.n_networks  # stacked: one per network
        self._penalised = False  # stacked: whether the networks have finished tasks (their sums are not 0)

    @classmethod
    def stack(cls, learners: list[EWCLearner]) -> EWCLearner:
        """S unstacked EWC learners as one (``DeterministicLearner.stack``) with their penalties' running sums
        stacked (S, ·) (constant within a task: the end-of-task Fisher runs on each unstacked learner)."""
        if len({len(l.tasks) for l in learners}) != 1:
            raise ValueError("stacked EWC networks need the same number of finished tasks")
        out = cls._stacked(learners)
        l0 = learners[0]
        out.ewc_lambda, out._lambdas = l0.ewc_lambda, [l.ewc_lambda for l in learners]
        out.fisher_samples, out.fisher_kind, out.reset_optimizer = l0.fisher_samples, l0.fisher_kind, l0.reset_optimizer
        out.tasks, out._penalised = [], bool(l0.tasks)
        out._f_sum = torch.stack([l._f_sum for l in learners])
        out._f_anchor = torch.stack([l._f_anchor for l in learners])
        out.load_network_states([l.network_state() for l in learners])
        return out

    def penalty(self, theta: torch.Tensor | None = None) -> torch.Tensor:
        """lambda * sum_t sum_i F_ti (theta_i - theta*_ti)^2 (direct, for logging and tests)."""
        theta = flat_params(self.net) if theta is None else theta
        total = torch.zeros((), device=theta.device)
        for fisher, anchor in self.tasks:
            total = total + (fisher * (theta - anchor).square()).sum()
        return self.ewc_lambda * total

    def penalty_grad(self, theta: torch.Tensor) -> torch.Tensor:
        """2 lambda (sum_t F_t theta - sum_t F_t theta*_t); per network (its own lambda) when stacked."""
        lambdas = self._lambdas if self.net.stacked else [self.ewc_lambda]
        if len(set(lambdas)) == 1:
            return 2 * lambdas[0] * (self._f_sum * theta - self._f_anchor)
        return torch.stack([2 * lam * (self._f_sum[s] * theta[s] - self._f_anchor[s]) for s, lam in enumerate(lambdas)])

    def _add_penalty(self, grad_b: list[torch.Tensor]) -> list[torch.Tensor]:
        if not (self.tasks or self._penalised):
            return grad_b
        pg = self.penalty_grad(flat_params(self.net))
        n_w = self.net.w.shape[-1]
        self._grad.add_(pg[..., :n_w])
        out, offset = [], n_w
        for gb in grad_b:
            out.append(gb + pg[..., offset : offset + gb.shape[-1]])
            offset += gb.shape[-1]
        return out

    def end_task(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Consolidate the task just finished: its Fisher (on x, y) and the current parameters."""
        if self.fisher_samples:
            x, y = x[: self.fisher_samples], y[: self.fisher_samples]
        fisher = FISHERS[self.fisher_kind](self.net, x, y)
        anchor = flat_params(self.net).detach().clone()
        self.tasks.append((fisher, anchor))
        self._f_sum += fisher
        self._f_anchor += fisher * anchor
        if self.reset_optimizer:  # a fresh optimiser (Adam moments / SGD state) for the next task
            self.optimizer = self.make_optimizer()

    def state_dict(self) -> dict:
        return {
            **self.net.state_dict(),
            "ewc_lambda": self.ewc_lambda,
            "fisher": [f.cpu().clone() for f, _ in self.tasks],
        }


def build(model: dict, net_factory, gens, device: torch.device):
    """Factory hook for the kinds defined here (``bgd``, ``ewc``); ``net_factory(p_init)`` makes the MLP."""
    kind = model["kind"]
    if kind == "bgd":
        net = net_factory(1.0)
        init = model.get("init", "pytorch")
        if init == "fork":
            fork_init_(net, gens.init)
        elif init != "pytorch":
            raise ValueError(f"BGD init must be 'pytorch' or 'fork', not {init!r}")
        return BGDLearner(net, model["std_init"], model["eta"], model.get("mc_samples", 10), gens.masks)
    if kind == "ewc":
        return EWCLearner(
            net_factory(1.0),
            model.get("optimizer", "adam"),
            model["lr"],
            model["ewc_lambda"],
            model.get("fisher_samples"),
            model.get("weight_decay", 0.0),
            model.get("fisher", "empirical"),
            model.get("reset_optimizer", False),
        )
    raise ValueError(f"unknown baseline kind {kind!r}")
