"""Lifelong learning (Fig 4, App. table 1, App. fig 3; docs/protocol.md#lifelong-learning-common-protocol): one method on one task stream.

The trainer is driven entirely by the run spec, so other experiments (the ablation, Fig 5a) reuse it with
their own ``experiment`` name and ``model`` block. The runs are planned by ``presyn.planning.lifelong``
(``plan_runs``). Spec layout (``presyn.planning.base_spec`` keys plus):

    experiment       "lifelong" (or e.g. "ablation")        -- only used for ids and paths
    method           path name, e.g. "presyn", "ewc", "ewcsearch_lam100"
    benchmark        split_mnist | split_fashion | perm_mnist | perm_fashion | cont_perm_mnist (presyn.tasks)
    seed             run seed: initialisation, data order, masks, and the pixel permutations
    dataset          {name, mean, std, subset}               -- as presyn.planning.dataset_block
    hidden, batch_size, p_min, eval_samples, important_p     -- as presyn.planning.base_spec (batch_size may differ per method)
    model            learner block for presyn.factory.build_learner, e.g.
                       {kind: presyn, lr, p_up, p_down, g_lim, p_freeze, modulation, [sample_p, normalise, learn_p]}
                       {kind: deterministic, optimizer, lr}
                       {kind: bgd, std_init, eta, mc_samples}
                       {kind: ewc, optimizer, lr, ewc_lambda, fisher_samples}
    n_tasks          5 (split) / 10 (permuted); fewer in toy configs
    epochs_per_task  training epochs per task (sequential) -- one "epoch" = one pass over a task's data
    joint            true: train on the union of all tasks' data for ``joint_epochs`` epochs instead
    joint_epochs     epochs of joint training (only read when joint is true)
    blend            fraction of a task's duration spent blending at boundaries (continuous stream)
    eval_every       evaluate the ``curve_tasks`` every N epochs (0: never between task ends); the planner
                     sets 0 for runs outside ``lifelong.curve_benchmarks`` x ``curve_methods`` (no figure reads them)
    curve_tasks      1-based tasks evaluated every ``eval_every`` epochs (Fig 4b plots task 1); null = all.
    task_end_eval    true: every task is evaluated at every task end (the full accuracy matrix); false: only
                     after the last epoch (all any figure reads). Every task is evaluated after the last epoch
    holdout          0, or N: the last N training items become the evaluation set (hyperparameter search;
                     the test set is then never read)

Loop: ``for task in tasks: for epoch in range(epochs_per_task): train, evaluate``; after each task the
learner's optional ``end_task(x, y)`` hook is called with that task's training data (only EWC has one: the
presynaptic model gets no task-boundary signal). metrics.parquet rows (task "1".."n" or "all"):
``test_accuracy`` per task and epoch; ``current_task``, ``train_loss``, ``train_accuracy`` (task "all")
per epoch; ``mean_p``, ``fraction_frozen``, ``fraction_important`` per epoch for presynaptic learners;
``mean_accuracy`` (task "all") at the last epoch = mean over tasks of the final test accuracies.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from presyn import checkpoint
from presyn.data import load_for_spec
from presyn.factory import build_learner
from presyn.learners import PresynapticLearner
from presyn.metrics import accuracy
from presyn.tasks import TaskStream, make_stream
from presyn.training import Generators, MetricsLog, Progress, check_finite, save_run

log = logging.getLogger("presyn")

METHODS = ("presyn", "no_consolidation", "bgd", "ewc", "joint")


@torch.no_grad()
def task_accuracy(learner, x: torch.Tensor, y: torch.Tensor, n_samples: int) -> float:
    """Softmax averaged over ``n_samples`` sampled networks, then argmax; learners with their own test
    (BGD: mean of sampled-network accuracies) provide ``sample_accuracy``."""
    if hasattr(learner, "sample_accuracy"):
        return learner.sample_accuracy(x, y, n_samples)
    probs, _ = learner.predict_proba(x, n_samples)
    return accuracy(probs, y)


def evaluate_tasks(learner, stream: TaskStream, n_samples: int, tasks: list[int] | None = None) -> list[float]:
    """Test accuracy of the given 0-based tasks (all when None), in that order."""
    tasks = range(stream.n_tasks) if tasks is None else tasks
    return [task_accuracy(learner, *stream.test_set(t), n_samples) for t in tasks]


def curve_task_indices(spec: dict, n_tasks: int) -> list[int]:
    """0-based tasks evaluated between task ends (``curve_tasks``, 1-based in the spec; None = all)."""
    tasks = spec.get("curve_tasks")
    if tasks is None:
        return list(range(n_tasks))
    bad = [t for t in tasks if not 1 <= int(t) <= n_tasks]
    if bad:
        raise ValueError(
            f"curve_tasks {bad} outside 1..{n_tasks}: list task numbers of this benchmark (or null for all)"
        )
    return sorted({int(t) - 1 for t in tasks})


def synapse_summary(learner, important_p: float) -> dict[str, float]:
    """Mean release probability, fraction frozen / important (presynaptic learners only)."""
    if not isinstance(learner, PresynapticLearner):
        return {}
    p = learner.net.p
    freeze = learner.rule.p_freeze
    frozen = float((p >= freeze).float().mean()) if freeze < 1.0 else 0.0
    return {
        "mean_p": float(p.mean()),
        "fraction_frozen": frozen,
        "fraction_important": float((p >= important_p).float().mean()),
    }


def setup_run(spec: dict, data, device: torch.device) -> tuple:
    """(gens, stream, learner, label, metrics) of one run, built in the order that fixes its random streams;
    shared with the stacked trainer (presyn.batched_lifelong) so both draw the same numbers."""
    gens = Generators.from_seed(spec["seed"], device)
    stream = make_stream(spec["benchmark"], data, spec["seed"], spec.get("n_tasks"), spec.get("blend", 0.25))
    sizes = [data.x_train.shape[1], *spec["hidden"], stream.n_outputs]
    learner = build_learner(spec["model"], sizes, gens, device, spec["p_min"])
    label = f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"
    metrics = MetricsLog({k: spec[k] for k in ("experiment", "method", "benchmark", "seed")})
    return gens, stream, learner, label, metrics


def train(spec: dict, inputs: dict, out_dir: Path, device: torch.device) -> None:
    data = load_for_spec(inputs["data"], spec, device)  # holdout: the test split is never read
    gens, stream, learner, label, metrics = setup_run(spec, data, device)
    joint = bool(spec.get("joint", False))
    epochs_per_task = int(spec["joint_epochs"] if joint else spec["epochs_per_task"])
    phases = [None] if joint else list(range(stream.n_tasks))
    total = len(phases) * epochs_per_task
    every = int(spec.get("eval_every", 1) or 0)
    curve = curve_task_indices(spec, stream.n_tasks)
    task_end_eval = bool(spec.get("task_end_eval", True))
    progress = Progress(label, total)
    bs, n_eval = spec["batch_size"], spec["eval_samples"]
    epoch, t_train, t_eval, accs, diverged = 0, 0.0, 0.0, None, False
    start, ckpt = 0, checkpoint.load(out_dir, spec, device)  # resume after the last finished task (presyn.checkpoint)
    if ckpt:
        learner, gens, metrics.rows = ckpt["learner"], ckpt["gens"], ckpt["rows"]
        start, epoch, t_train, t_eval, accs = (
            ckpt["position"][k] for k in ("next_phase", "epoch", "t_train", "t_eval", "accs")
        )
    for task in phases[start:]:
        if diverged:
            break
        for task_epoch in range(epochs_per_task):
            epoch += 1
            t0 = time.perf_counter()
            if joint:
                batches = stream.joint_batches(bs, gens.data)
            elif stream.continuous:
                batches = stream.continuous_batches(task, task_epoch, epochs_per_task, bs, gens.data)
            else:
                batches = stream.task_batches(task, bs, gens.data)
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            seen, step = 0, 0
            for step, (x, y) in enumerate(batches):  # noqa: B007 (step: read after the loop)
                loss, ok = learner.step(x, y)
                loss_sum += loss * y.numel()
                correct += ok
                seen += y.numel()
            mean_loss = loss_sum / max(seen, 1)
            if spec.get("search") and not bool(torch.isfinite(mean_loss)):  # a search point that diverges scores NaN
                log.warning(
                    "%s: loss is %s at epoch %d: diverged, scored NaN (search run)", label, float(mean_loss), epoch
                )
                diverged = True
                break
            check_finite(mean_loss, label, epoch, step)
            t_train += time.perf_counter() - t0
            row = {
                "current_task": 0 if joint else task + 1,
                "train_loss": float(mean_loss),
                "train_accuracy": float(correct) / max(seen, 1),
                **synapse_summary(learner, spec["important_p"]),
            }
            last_of_task = task_epoch == epochs_per_task - 1
            if epoch == total or (last_of_task and task_end_eval):  # every task (App. table 1, App. fig 3a, Fig 5a)
                t0 = time.perf_counter()
                accs = evaluate_tasks(learner, stream, n_eval)
                t_eval += time.perf_counter() - t0
                for t, acc in enumerate(accs):
                    metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
                row["seen_tasks_accuracy"] = sum(accs[: (stream.n_tasks if joint else task + 1)]) / (
                    stream.n_tasks if joint else task + 1
                )
            elif every and epoch % every == 0:  # only the tasks a curve plots (Fig 4b: task 1)
                t0 = time.perf_counter()
                for t, acc in zip(curve, evaluate_tasks(learner, stream, n_eval, curve)):
                    metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
                t_eval += time.perf_counter() - t0
            metrics.add(epoch, row)
            progress.epoch(
                epoch, {k: row[k] for k in ("current_task", "train_loss", "seen_tasks_accuracy", "mean_p") if k in row}
            )
        if diverged:
            break
        if task is not None and hasattr(learner, "end_task"):
            learner.end_task(*stream.task_train_set(task))
        if task is not None and task + 1 < len(phases):
            checkpoint.save(
                out_dir,
                spec,
                learner,
                gens,
                metrics.rows,
                {"next_phase": task + 1, "epoch": epoch, "t_train": t_train, "t_eval": t_eval, "accs": accs},
            )
    metrics.add(
        epoch,
        {
            "mean_accuracy": float("nan") if diverged else sum(accs) / len(accs),
            **({"diverged": float(diverged)} if spec.get("search") else {}),
        },
    )
    state = learner.state_dict()
    if stream.perms is not None:
        state["permutations"] = stream.perms.cpu()
    save_run(
        out_dir,
        metrics.frame(),
        state,
        spec,
        device,
        {
            "train_seconds": t_train,
            "eval_seconds": t_eval,
            "seconds_per_epoch": t_train / total,
            "eval_seconds_per_epoch": t_eval / total,
            **checkpoint.provenance(ckpt),
        },
    )  # drops the checkpoint too
