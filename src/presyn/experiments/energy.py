"""Energy experiment (Fig 1-3, App. figs 1-2): single-task MNIST, one model, one weight decay."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from presyn.data import load_processed
from presyn.factory import build_learner
from presyn.metrics import evaluate
from presyn.training import FiniteWatch, Generators, MetricsLog, Progress, check_finite, minibatches, save_run


def snapshot(learner, important_p: float) -> dict[str, float]:
    """Cheap per-epoch numbers: energy and release-probability summary."""
    p = learner.net.p
    return {
        "synaptic_energy": learner.synaptic_energy(),
        "mean_p": float(p.mean()),
        "fraction_important": float((p >= important_p).float().mean()),
    }


def train(spec: dict, inputs: dict, out_dir: Path, device: torch.device) -> None:
    ds = spec["dataset"]
    data = load_processed(inputs["data"], ds["mean"], ds["std"], device, ds.get("subset"))
    gens = Generators.from_seed(spec["seed"], device)
    sizes = [data.x_train.shape[1], *spec["hidden"], data.n_classes]
    learner = build_learner(spec["model"], sizes, gens, device, spec["p_min"])
    label = f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"
    ids = {k: spec[k] for k in ("experiment", "method", "benchmark", "seed")}
    metrics = MetricsLog(ids)
    initial_p = learner.net.p.detach().cpu().clone()
    metrics.add(0, snapshot(learner, spec["important_p"]))
    progress = Progress(label, spec["epochs"])
    n, t_train = data.x_train.shape[0], 0.0
    watch = FiniteWatch(device)
    for epoch in range(1, spec["epochs"] + 1):
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=device)
        correct = torch.zeros((), device=device, dtype=torch.long)
        for step, idx in enumerate(minibatches(n, spec["batch_size"], gens.data, device)):
            loss, ok = learner.step(data.x_train[idx], data.y_train[idx])
            watch.update(loss, step)
            loss_sum += loss * idx.numel()
            correct += ok
        mean_loss = loss_sum / n
        watch.check(label, epoch)
        check_finite(mean_loss, label, epoch, step)
        t_train += time.perf_counter() - t0
        row = {
            "train_loss": float(mean_loss),
            "train_accuracy": float(correct) / n,
            **snapshot(learner, spec["important_p"]),
        }
        every = spec.get("eval_every", 0)
        if epoch == spec["epochs"] or (every and epoch % every == 0):
            row.update(evaluate(learner, data.x_test, data.y_test, spec["eval_samples"]))
        metrics.add(epoch, row)
        progress.epoch(
            epoch, {k: row[k] for k in ("train_loss", "train_accuracy", "test_accuracy", "mean_p") if k in row}
        )
    state = {
        **learner.state_dict(),
        "initial_p": [t.view(s) for t, s in zip(torch.split(initial_p, learner.net.numels), learner.net.shapes)],
    }
    save_run(
        out_dir,
        metrics.frame(),
        state,
        spec,
        device,
        {"train_seconds": t_train, "seconds_per_epoch": t_train / spec["epochs"]},
    )
