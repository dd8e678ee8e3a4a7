"""Energy experiment (Fig 1-3, App. figs 1-2): single-task MNIST, one model, one weight decay per run.

One job trains a group of runs (a list of specs, one by default) as S stacked networks of one learner
(``factory.build_learner`` with one model block and generators per run): each network is initialised, fed
and sampled from its own ``Generators.from_seed(seed)`` exactly as a run alone, so every run's numbers do
not depend on the group it was trained in (on the CPU at one thread: bit for bit; on CUDA bmm may sum in
another order than a group of one, see docs/architecture.md). Grouping is a scheduling knob: each run is
written by ``training.save_run`` with its own spec and config hash.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from presyn.data import load_processed
from presyn.factory import STACKABLE_KINDS, build_learner
from presyn.metrics import evaluate
from presyn.training import FiniteWatch, Generators, MetricsLog, Progress, check_finite, minibatches, save_run

# spec keys that may differ between the runs of one job
PER_RUN_KEYS = {"seed", "method", "weight_decay", "config_hash"}


def groupable(spec: dict) -> bool:
    """Whether a run spec can share a job with others (energy runs of the stackable kinds, incl. the App. fig
    1c/1d groups; deterministic only with SGD)."""
    model = spec.get("model", {})
    if spec.get("experiment") != "energy" or model.get("kind") not in STACKABLE_KINDS:
        return False
    return model.get("kind") != "deterministic" or model.get("optimizer", "sgd") == "sgd"


def check_group(specs: list[dict]) -> None:
    """All runs of one job must share everything but seed and weight decay."""
    if not specs:
        raise ValueError("a training job needs at least one run spec")
    if len(specs) == 1:
        return
    bad = [s for s in specs if not groupable(s)]
    if bad:
        raise ValueError(f"cannot group: {[s['method'] for s in bad]} (energy presyn/fixedp/deterministic-SGD only)")

    def shared(s: dict) -> dict:
        out = {k: v for k, v in s.items() if k not in PER_RUN_KEYS}
        out["model"] = {k: v for k, v in s["model"].items() if k != "weight_decay"}
        return out

    first = shared(specs[0])
    for s in specs[1:]:
        if shared(s) != first:
            diff = sorted(k for k in set(first) | set(shared(s)) if first.get(k) != shared(s).get(k))
            raise ValueError(f"runs {specs[0]['method']} and {s['method']} differ in {diff}: cannot group them")


def snapshots(learner, important_p: float) -> list[dict[str, float]]:
    """Cheap per-epoch numbers of every network of the learner (one for an unstacked one): energy and
    release-probability summary (the energies computed once for the whole stack)."""
    energy = learner.synaptic_energy()
    energies = energy if learner.net.stacked else [energy]
    rows = learner.net.p.view(-1, learner.net.p.shape[-1])
    return [
        {
            "synaptic_energy": e,
            "mean_p": float(p.mean()),
            "fraction_important": float((p >= important_p).float().mean()),
        }
        for e, p in zip(energies, rows)
    ]


def _label(spec: dict) -> str:
    return f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"


class _Network:
    """One network of a stacked learner, as ``metrics.evaluate`` sees a learner (its rows of the outputs)."""

    def __init__(self, probs: torch.Tensor, activity: torch.Tensor) -> None:
        self._out = probs, activity

    def predict_proba(self, x: torch.Tensor, n_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self._out


def train(spec: dict | list[dict], inputs: dict, out_dir: Path | list[Path], device: torch.device) -> dict[str, float]:
    """Train a run (or a group of runs, one output folder each) and write every run; returns the timing."""
    specs = spec if isinstance(spec, list) else [spec]
    out_dirs = [Path(d) for d in out_dir] if isinstance(out_dir, list) else [Path(out_dir)]
    check_group(specs)
    if len(out_dirs) != len(specs):
        raise ValueError(f"{len(specs)} specs but {len(out_dirs)} output folders")
    s0, S = specs[0], len(specs)
    ds = s0["dataset"]
    data = load_processed(inputs["data"], ds["mean"], ds["std"], device, ds.get("subset"))
    gens = [Generators.from_seed(s["seed"], device) for s in specs]
    sizes = [data.x_train.shape[1], *s0["hidden"], data.n_classes]
    learner = build_learner([s["model"] for s in specs], sizes, gens, device, s0["p_min"])
    labels = [_label(s) for s in specs]
    logs = [MetricsLog({k: s[k] for k in ("experiment", "method", "benchmark", "seed")}) for s in specs]
    initial_p = learner.net.p.detach().cpu().clone()
    for m, snap in zip(logs, snapshots(learner, s0["important_p"])):
        m.add(0, snap)
    progress = Progress(labels[0] if S == 1 else f"{labels[0]} (+{S - 1} runs)", s0["epochs"])
    n, bs, t_train = data.x_train.shape[0], s0["batch_size"], 0.0
    every = s0.get("eval_every", 0)
    watch = FiniteWatch(device)
    for epoch in range(1, s0["epochs"] + 1):
        t0 = time.perf_counter()
        order = torch.stack([torch.cat(minibatches(n, bs, g.data, device)) for g in gens])  # (S, n)
        loss_sum = torch.zeros(S, device=device)
        correct = torch.zeros(S, device=device, dtype=torch.long)
        for step, idx in enumerate(torch.split(order, bs, dim=1)):  # noqa: B007 (step: read after the loop)
            loss, ok = learner.step(data.x_train[idx], data.y_train[idx])
            watch.update(loss, step)
            loss_sum += loss * idx.shape[1]
            correct += ok
        mean_loss = loss_sum / n
        watch.check(labels, epoch)
        for i, label in enumerate(labels):
            check_finite(mean_loss[i], label, epoch, step)
        t_train += time.perf_counter() - t0
        losses, accs = mean_loss.tolist(), (correct.double() / n).tolist()
        evaluated = epoch == s0["epochs"] or (every and epoch % every == 0)
        if evaluated:
            probs, activity = learner.predict_proba(data.x_test, s0["eval_samples"])
        rows = []
        for i, (m, snap) in enumerate(zip(logs, snapshots(learner, s0["important_p"]))):
            row = {"train_loss": losses[i], "train_accuracy": accs[i], **snap}
            if evaluated:
                row.update(evaluate(_Network(probs[i], activity[i]), data.x_test, data.y_test, s0["eval_samples"]))
            m.add(epoch, row)
            rows.append(row)
        progress.epoch(
            epoch, {k: rows[0][k] for k in ("train_loss", "train_accuracy", "test_accuracy", "mean_p") if k in rows[0]}
        )
    timing = {"train_seconds": t_train, "seconds_per_epoch": t_train / s0["epochs"]}
    if S > 1:
        timing["batched_networks"] = S
    net = learner.net
    for i, (m, s, d) in enumerate(zip(logs, specs, out_dirs)):
        state = {
            **learner.state_dict(i),
            "initial_p": [t.view(sh) for t, sh in zip(torch.split(initial_p[i], net.numels), net.shapes)],
        }
        save_run(d, m.frame(), state, s, device, timing)
    return timing
