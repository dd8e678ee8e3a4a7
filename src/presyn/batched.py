"""Several energy-experiment networks trained in one job as stacked weights (GPU throughput).

One 784-200-200-10 MLP with batch 100 leaves a GPU nearly idle (each step is ~30 tiny kernels).
Here S networks of one configuration (its seeds, or its seeds x weight decays) share every kernel:
weights are stacked into (S, P) tensors and the layers run as ``torch.baddbmm`` / ``torch.bmm``.

Same numbers as the unbatched job, per network (tests/test_batched.py):
- each network is built by ``factory.build_learner`` from its own ``Generators.from_seed(seed)``,
  so initial weights are identical;
- each network draws its data order with ``training.minibatches`` on its own data generator and its
  masks with its own learner's ``sample_scale()`` on its own mask generator, in the same order as
  ``experiments.energy.train`` (training steps, then the test evaluation of that epoch), so every
  random number is the one the unbatched job draws;
- the update is the learner's own elementwise rule applied to the stacked tensors (one call when
  all networks share constants, one call per network otherwise), the evaluation is ``metrics.evaluate``
  on each network's own learner, and each run is written by ``training.save_run`` exactly as the
  unbatched job writes it (same paths, metrics.parquet, state.pt, provenance.json).
Only the matrix products differ: bmm may sum in another order than mm. On CPU (this torch build)
the runs came out bit-identical (tests/test_batched.py allows rtol 1e-4 / atol 1e-5). On CUDA,
bmm and mm are different cuBLAS kernels: one step differs by float32 rounding (~1e-7 absolute),
which is harmless for the deterministic model, but a gradient within that distance of g_lim flips
a release-probability decision, and the stochastic dynamics then diverge as two runs with another
summation order would (measured on an H200 after 3 quick epochs: presyn max |dp| 0.19). There the
batched runs are statistically equivalent, not numerically equal, to the one-job-per-run runs;
keep `batched_training` off where bit-for-bit agreement with unbatched GPU runs matters.

Scope: energy runs of kind presyn, fixedp and deterministic with SGD (Adam is not batched).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from presyn.data import load_processed
from presyn.factory import build_learner
from presyn.learners import DeterministicLearner, PresynapticLearner
from presyn.metrics import evaluate
from presyn.training import Generators, MetricsLog, Progress, check_finite, minibatches, save_run

log = logging.getLogger("presyn")

BATCHABLE_KINDS = ("presyn", "fixedp", "deterministic")
# spec keys that may differ between the networks of one batched job
PER_NETWORK_KEYS = {"seed", "method", "weight_decay", "config_hash"}


def batchable(spec: dict) -> bool:
    """Whether a run spec can join a batched job (energy runs, incl. the App. fig 1c/1d groups;
    deterministic only with SGD)."""
    model = spec.get("model", {})
    if spec.get("experiment") != "energy" or model.get("kind") not in BATCHABLE_KINDS:
        return False
    return model.get("kind") != "deterministic" or model.get("optimizer", "sgd") == "sgd"


def check_group(specs: list[dict]) -> None:
    """All networks of one job must share everything but seed and weight decay."""
    if not specs:
        raise ValueError("a batched job needs at least one run spec")
    bad = [s for s in specs if not batchable(s)]
    if bad:
        raise ValueError(f"not batchable: {[s['method'] for s in bad]} (energy presyn/fixedp/deterministic-SGD only)")

    def shared(s: dict) -> dict:
        out = {k: v for k, v in s.items() if k not in PER_NETWORK_KEYS}
        out["model"] = {k: v for k, v in s["model"].items() if k != "weight_decay"}
        return out

    first = shared(specs[0])
    for s in specs[1:]:
        if shared(s) != first:
            diff = sorted(k for k in set(first) | set(shared(s)) if first.get(k) != shared(s).get(k))
            raise ValueError(f"runs {specs[0]['method']} and {s['method']} differ in {diff}: cannot batch them")


class BatchedNetworks:
    """S learners of one configuration whose weights live in stacked (S, ...) tensors.

    Each learner's ``net.w`` / ``net.p`` / biases are rebound to row views of the stacks, so its own
    methods (``sample_scale``, ``predict_proba``, ``synaptic_energy``, ``state_dict``) see the batch.
    """

    def __init__(self, learners: list, rules_equal: bool) -> None:
        self.learners = learners
        self.kind = "deterministic" if isinstance(learners[0], DeterministicLearner) else "presynaptic"
        net0 = learners[0].net
        self.shapes, self.numels = net0.shapes, net0.numels
        self.S = len(learners)
        self.W = torch.stack([l.net.w for l in learners])  # (S, P) expected strengths
        self.Pr = torch.stack([l.net.p for l in learners])  # (S, P) release probabilities
        self.B = [torch.stack([l.net.biases[i] for l in learners]) for i in range(len(self.shapes))]  # (S, out)
        self.grad = torch.empty_like(self.W)
        self.scale = torch.empty_like(self.W)
        self.rules_equal = rules_equal
        self._bind()

    def _bind(self) -> None:
        for s, l in enumerate(self.learners):
            l.net.w, l.net.p = self.W[s], self.Pr[s]
            l.net.biases = [b[s] for b in self.B]

    def views(self, flat: torch.Tensor) -> list[torch.Tensor]:
        """Per-layer (S, out, in) views of a stacked (S, P) tensor."""
        return [v.view(self.S, *shape) for v, shape in zip(torch.split(flat, self.numels, dim=1), self.shapes)]

    # ------------------------------------------------------------------ one step
    def forward_backward(
        self, x: torch.Tensor, y: torch.Tensor, w_eff: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, list]:
        """x (S, B, in), y (S, B); mean cross-entropy per network. Fills ``self.grad`` with dL/dW_eff."""
        layers = self.views(w_eff)
        acts, h = [x], x
        for i, (W, b) in enumerate(zip(layers, self.B)):
            h = torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))
            if i < len(layers) - 1:
                h = torch.relu(h)
                acts.append(h)
        logits = h
        n = logits.shape[1]
        log_probs = torch.log_softmax(logits, dim=2)
        loss = -log_probs.gather(2, y.unsqueeze(2)).squeeze(2).mean(1)  # (S,)
        d = log_probs.exp()
        d.scatter_add_(2, y.unsqueeze(2), torch.full_like(y, -1.0, dtype=d.dtype).unsqueeze(2))
        d.div_(n)
        grad_views = self.views(self.grad)
        grad_b = [None] * len(layers)
        for i in range(len(layers) - 1, -1, -1):
            grad_views[i].copy_(torch.bmm(d.transpose(1, 2), acts[i]))
            grad_b[i] = d.sum(1)
            if i > 0:
                d = torch.ops.aten.threshold_backward(torch.bmm(d, layers[i]), acts[i], 0.0)
        correct = (logits.argmax(2) == y).sum(1)
        return loss, correct, grad_b

    def step(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One minibatch update of every network; returns (loss, correct) per network, shape (S,)."""
        if self.kind == "deterministic":
            loss, correct, grad_b = self.forward_backward(x, y, self.W)
            self._sgd(grad_b)
            return loss.detach(), correct
        for s, l in enumerate(self.learners):  # each network's own mask generator and sampler
            self.scale[s].copy_(l.sample_scale())
        w_eff = self.W * self.scale
        loss, correct, _ = self.forward_backward(x, y, w_eff)
        self._presynaptic_update()
        return loss.detach(), correct

    def _presynaptic_update(self) -> None:
        """The learner's functional rule (``presyn_rule.update``, compiled when the learner is) on the stack."""
        l0 = self.learners[0]
        if self.rules_equal:
            self.W, self.Pr = l0._update(self.W, self.Pr, self.grad, self.scale, **l0._consts)
        else:
            W, Pr = torch.empty_like(self.W), torch.empty_like(self.Pr)
            for s, l in enumerate(self.learners):
                W[s], Pr[s] = l._update(self.W[s], self.Pr[s], self.grad[s], self.scale[s], **l._consts)
            self.W, self.Pr = W, Pr
        self._bind()

    def _sgd(self, grad_b: list[torch.Tensor]) -> None:
        """torch.optim.SGD without momentum, per network: d = g + wd * theta; theta -= lr * d."""
        params = [self.W, *self.B]
        grads = [self.grad, *grad_b]
        groups = [l.optimizer.param_groups[0] for l in self.learners]
        if self.rules_equal:
            lr, wd = groups[0]["lr"], groups[0]["weight_decay"]
            for t, g in zip(params, grads):
                d = g.add(t, alpha=wd) if wd != 0 else g
                t.add_(d, alpha=-lr)
            return
        for s, grp in enumerate(groups):
            lr, wd = grp["lr"], grp["weight_decay"]
            for t, g in zip(params, grads):
                d = g[s].add(t[s], alpha=wd) if wd != 0 else g[s]
                t[s].add_(d, alpha=-lr)


def _rules_equal(learners: list) -> bool:
    if isinstance(learners[0], PresynapticLearner):
        return all(l.rule == learners[0].rule for l in learners)
    keys = ("lr", "weight_decay")
    g0 = learners[0].optimizer.param_groups[0]
    return all(all(l.optimizer.param_groups[0][k] == g0[k] for k in keys) for l in learners)


def _snapshot(learner, important_p: float) -> dict[str, float]:
    from presyn.experiments.energy import snapshot

    return snapshot(learner, important_p)


def train(specs: list[dict], inputs: dict, out_dirs: list[str | Path], device: torch.device) -> dict:
    """Train the networks of ``specs`` together; write each run to its ``out_dirs`` entry.

    Mirrors ``presyn.experiments.energy.train`` network by network. Returns timing numbers.
    """
    check_group(specs)
    if len(out_dirs) != len(specs):
        raise ValueError(f"{len(specs)} specs but {len(out_dirs)} output folders")
    s0 = specs[0]
    ds = s0["dataset"]
    data = load_processed(inputs["data"], ds["mean"], ds["std"], device, ds.get("subset"))
    gens = [Generators.from_seed(s["seed"], device) for s in specs]
    sizes = [data.x_train.shape[1], *s0["hidden"], data.n_classes]
    learners = [build_learner(s["model"], sizes, g, device, s["p_min"]) for s, g in zip(specs, gens)]
    batch = BatchedNetworks(learners, _rules_equal(learners))
    labels = [f"{s['experiment']}/{s['method']}/{s['benchmark']}/seed{s['seed']}" for s in specs]
    logs = [MetricsLog({k: s[k] for k in ("experiment", "method", "benchmark", "seed")}) for s in specs]
    initial_p = [l.net.p.detach().cpu().clone() for l in learners]
    for l, m in zip(learners, logs):
        m.add(0, _snapshot(l, s0["important_p"]))
    progress = Progress(f"batched x{len(specs)} {labels[0]}..", s0["epochs"])
    n, bs, t_train = data.x_train.shape[0], s0["batch_size"], 0.0
    every = s0.get("eval_every", 0)
    for epoch in range(1, s0["epochs"] + 1):
        t0 = time.perf_counter()
        order = torch.stack([torch.cat(minibatches(n, bs, g.data, device)) for g in gens])  # (S, n)
        loss_sum = torch.zeros(len(specs), device=device)
        correct = torch.zeros(len(specs), device=device, dtype=torch.long)
        for step, idx in enumerate(torch.split(order, bs, dim=1)):  # noqa: B007 (step: read after the loop)
            loss, ok = batch.step(data.x_train[idx], data.y_train[idx])
            loss_sum += loss * idx.shape[1]
            correct += ok
        mean_loss = loss_sum / n
        for s, label in enumerate(labels):
            check_finite(mean_loss[s], label, epoch, step)
        t_train += time.perf_counter() - t0
        losses, accs = mean_loss.tolist(), (correct.double() / n).tolist()
        rows = []
        for s, (l, m) in enumerate(zip(learners, logs)):
            row = {"train_loss": losses[s], "train_accuracy": accs[s], **_snapshot(l, s0["important_p"])}
            if epoch == s0["epochs"] or (every and epoch % every == 0):
                row.update(evaluate(l, data.x_test, data.y_test, s0["eval_samples"]))
            m.add(epoch, row)
            rows.append(row)
        progress.epoch(
            epoch, {k: rows[0][k] for k in ("train_loss", "train_accuracy", "test_accuracy", "mean_p") if k in rows[0]}
        )
    timing = {"train_seconds": t_train, "seconds_per_epoch": t_train / s0["epochs"], "batched_networks": len(specs)}
    for l, m, spec, out_dir, p0 in zip(learners, logs, specs, out_dirs, initial_p):
        state = {
            **l.state_dict(),
            "initial_p": [t.view(sh) for t, sh in zip(torch.split(p0, l.net.numels), l.net.shapes)],
        }
        save_run(out_dir, m.frame(), state, spec, device, timing)
    return timing


def run(specs: list[dict], inputs: dict, out_dirs: list, device: str = "auto", threads: int = 1) -> dict:
    """Entry point of the ``train_batched`` rule (like ``presyn.experiments.run`` for one run)."""
    from presyn.training import resolve_device, set_threads

    set_threads(threads)
    return train(specs, inputs, [Path(d) for d in out_dirs], resolve_device(device))
