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

One job may train a group of runs (a list of specs and output folders; one run by default): S stacked networks
that share every kernel of a training step (GPUs; ``batched_training.lifelong``). Which runs may share a job
(``refusal`` / ``check_group``): lifelong or ablation runs (not the search trials, which may diverge and score
NaN) of one model kind and optimiser (presyn / fixedp: every ablation variant, both ghost normalisers;
deterministic SGD / Adam; ewc; bgd) that differ only in seed, method, experiment, variant, evaluation schedule
(eval_every, curve_tasks, task_end_eval, eval_samples, important_p) and the model block's rule constants and flags
(``PER_NETWORK_MODEL_KEYS``); everything else (benchmark, data, sizes, batch size, tasks, epochs, joint, blend,
holdout, BGD's mc_samples, EWC's reset_optimizer) is equal, so all networks take the same steps. Each run keeps
its own ``Generators.from_seed(seed)``, task stream (its permutations), learner, data order, evaluation schedule
and divergence check; each task is trained by ``<learner class>.stack`` of the runs' learners (copies of their
tensors, optimiser states, EWC sums; their generators shared), copied back by ``unstack`` after every epoch, so at
every task boundary the runs' learners are ordinary unstacked learners: checkpoints are per run, after every task,
in the one-run format (a run's checkpoint resumes alone or in a group alike); on resume runs at different positions
(a job killed between two runs' checkpoints) train the lagging runs first, alone or together, until all are at the
same task. EWC's end-of-task Fisher runs per run. On the CPU at one thread a run's weights, release probabilities,
BGD means / deviations and accuracies do not depend on its group, train_loss to float32 rounding
(tests/test_batched_lifelong.py, tests/test_reference_outputs.py); on CUDA bmm and mm are different kernels.
Grouping is not part of a run: spec and config hash are unchanged; provenance records ``batched_networks`` (S)
and the job's timing. A network whose loss is not finite stops the whole job (the others resume from their
checkpoints).

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
from dataclasses import dataclass
from pathlib import Path

import torch

from presyn import checkpoint
from presyn.data import load_for_spec
from presyn.factory import RULE_KEYS, build_learner
from presyn.learners import PresynapticLearner
from presyn.metrics import accuracy
from presyn.tasks import TaskStream, make_stream
from presyn.training import Generators, MetricsLog, Progress, check_finite, save_run

log = logging.getLogger("presyn")

METHODS = ("presyn", "no_consolidation", "bgd", "ewc", "joint")

EXPERIMENTS = ("lifelong", "ablation")  # what may share a job (the Fig 5a variants use this trainer)
KINDS = {"presyn": "presynaptic", "fixedp": "presynaptic", "deterministic": "deterministic", "ewc": "ewc", "bgd": "bgd"}
OPTIMIZERS = ("sgd", "adam")
# spec keys that may differ between the networks of one job (evaluation is per network anyway)
PER_NETWORK_KEYS = {
    "experiment",
    "method",
    "seed",
    "config_hash",
    "variant",
    "eval_every",
    "curve_tasks",
    "task_end_eval",
    "eval_samples",
    "important_p",
    "model",
}
# model-block keys that may differ (rule constants and flags; the update runs per group of equal rules)
PER_NETWORK_MODEL_KEYS = {
    "presynaptic": set(RULE_KEYS) | {"p_init", "p"},
    "deterministic": {"lr", "weight_decay"},
    "ewc": {"lr", "weight_decay", "ewc_lambda", "fisher_samples", "fisher"},
    "bgd": {"std_init", "eta", "init"},
}


def refusal(spec: dict) -> str | None:
    """Why a run spec cannot share a job with other runs, or None when it can."""
    if spec.get("search"):
        return "a hyperparameter-search trial (it may diverge and score NaN: one job per trial)"
    if spec.get("experiment") not in EXPERIMENTS:
        return f"experiment {spec.get('experiment')!r} (only {', '.join(EXPERIMENTS)})"
    model = spec.get("model") or {}
    kind = model.get("kind")
    if kind not in KINDS:
        return f"model kind {kind!r} (only presyn, fixedp, deterministic, ewc, bgd)"
    if (
        kind in ("deterministic", "ewc")
        and model.get("optimizer", "sgd" if kind == "deterministic" else "adam") not in OPTIMIZERS
    ):
        return f"optimizer {model.get('optimizer')!r} (only sgd, adam)"
    return None


def stackable(spec: dict) -> bool:
    """Whether a run spec can share a job with other runs (``refusal`` says why not)."""
    return refusal(spec) is None


def shared_part(spec: dict) -> dict:
    """What every network of one job must share (two specs stack together iff these are equal)."""
    kind = KINDS.get((spec.get("model") or {}).get("kind"), "?")
    out = {k: v for k, v in spec.items() if k not in PER_NETWORK_KEYS}
    out.pop("epochs_per_task" if spec.get("joint") else "joint_epochs", None)  # the trainer reads only one of them
    out["model"] = {k: v for k, v in (spec.get("model") or {}).items() if k not in PER_NETWORK_MODEL_KEYS.get(kind, ())}
    return out


def check_group(specs: list[dict]) -> None:
    """Raise ValueError naming the run and the reason when ``specs`` cannot be trained as one stacked job (a job of
    one run takes any spec: ``train`` checks groups of two or more)."""
    if not specs:
        raise ValueError("a stacked lifelong job needs at least one run spec")
    bad = [(s, refusal(s)) for s in specs if refusal(s)]
    if bad:
        s, why = bad[0]
        raise ValueError(
            f"run {s.get('experiment')}/{s.get('method')}/{s.get('benchmark')}/seed{s.get('seed')} cannot be "
            f"stacked: {why}"
        )
    keys = [(s["experiment"], s["method"], s["benchmark"], s["seed"]) for s in specs]
    if len(set(keys)) != len(keys):
        raise ValueError("a stacked lifelong job lists one run twice")
    first = shared_part(specs[0])
    for s in specs[1:]:
        other = shared_part(s)
        if other != first:
            diff = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
            if "model" in diff:
                m0, m1 = first.get("model", {}), other.get("model", {})
                diff = [d for d in diff if d != "model"] + [
                    f"model.{k}" for k in sorted(set(m0) | set(m1)) if m0.get(k) != m1.get(k)
                ]
            raise ValueError(
                f"runs {specs[0]['method']} and {s['method']} ({s['benchmark']}, seed {s['seed']}) differ in "
                f"{diff}: cannot stack them in one job"
            )


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
    """(gens, stream, learner, label, metrics) of one run, built in the order that fixes its random streams."""
    gens = Generators.from_seed(spec["seed"], device)
    stream = make_stream(spec["benchmark"], data, spec["seed"], spec.get("n_tasks"), spec.get("blend", 0.25))
    sizes = [data.x_train.shape[1], *spec["hidden"], stream.n_outputs]
    learner = build_learner(spec["model"], sizes, gens, device, spec["p_min"])
    label = f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"
    metrics = MetricsLog({k: spec[k] for k in ("experiment", "method", "benchmark", "seed")})
    return gens, stream, learner, label, metrics


@dataclass
class _Run:
    """One run of the job: its learner, generators, task stream, metrics and loop position."""

    spec: dict
    out_dir: Path
    label: str
    learner: object
    gens: Generators
    stream: TaskStream
    metrics: MetricsLog
    ckpt: dict | None
    next_phase: int = 0
    epoch: int = 0
    t_train: float = 0.0
    t_eval: float = 0.0
    accs: list | None = None
    diverged: bool = False

    def batches(self, task, task_epoch: int, epochs_per_task: int, joint: bool):
        s, stream, gen = self.spec, self.stream, self.gens.data
        if joint:
            return stream.joint_batches(s["batch_size"], gen)
        if stream.continuous:
            return stream.continuous_batches(task, task_epoch, epochs_per_task, s["batch_size"], gen)
        return stream.task_batches(task, s["batch_size"], gen)

    def position(self) -> dict:
        keys = ("next_phase", "epoch", "t_train", "t_eval", "accs")
        return {k: getattr(self, k) for k in keys}


def _train_phase(runs: list[_Run], task, epochs_per_task: int, joint: bool, total: int, progress: Progress) -> None:
    """One task (or the joint phase) of every run in ``runs`` (all at the same position): one learner over the
    runs' networks (the run's own learner when alone)."""
    learners = [r.learner for r in runs]
    S = len(runs)
    stack = learners[0] if S == 1 else type(learners[0]).stack(learners)
    device = learners[0].net.w.device
    for task_epoch in range(epochs_per_task):
        for r in runs:
            r.epoch += 1
        epoch = runs[0].epoch
        t0 = time.perf_counter()
        iters = [r.batches(task, task_epoch, epochs_per_task, joint) for r in runs]
        loss_sum = torch.zeros(() if S == 1 else S, device=device)
        correct = torch.zeros(() if S == 1 else S, device=device)
        seen, step = 0, 0
        for step, pairs in enumerate(zip(*iters, strict=True)):  # noqa: B007 (step: read after the loop)
            if S == 1:
                x, y = pairs[0]
            else:
                x, y = torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs])
            loss, ok = stack.step(x, y)
            loss_sum += loss * y.shape[-1]
            correct += ok
            seen += y.shape[-1]
        mean_loss = loss_sum / max(seen, 1)
        losses = mean_loss.reshape(-1)
        if S == 1 and runs[0].spec.get("search") and not bool(torch.isfinite(mean_loss)):
            log.warning(  # a search point that diverges scores NaN
                "%s: loss is %s at epoch %d: diverged, scored NaN (search run)", runs[0].label, float(mean_loss), epoch
            )
            runs[0].diverged = True
            return
        for s, r in enumerate(runs):
            check_finite(losses[s], r.label, epoch, step)
        dt = time.perf_counter() - t0
        if S > 1:
            stack.unstack(learners)
        losses, corrects = losses.tolist(), correct.reshape(-1).tolist()
        last_of_task = task_epoch == epochs_per_task - 1
        for s, r in enumerate(runs):
            r.t_train += dt
            _epoch_rows(r, task, epoch, total, joint, last_of_task, losses[s], corrects[s] / max(seen, 1))
        shown = {m["metric"]: m["value"] for m in runs[0].metrics.rows if m["epoch"] == epoch and m["task"] == "all"}
        progress.epoch(
            epoch, {k: shown[k] for k in ("current_task", "train_loss", "seen_tasks_accuracy", "mean_p") if k in shown}
        )


def _epoch_rows(r: _Run, task, epoch: int, total: int, joint: bool, last_of_task: bool, loss, train_acc) -> None:
    """One run's metrics rows of an epoch and its evaluations (the tasks a curve plots, or every task)."""
    spec, stream, n_eval = r.spec, r.stream, r.spec["eval_samples"]
    row = {
        "current_task": 0 if joint else task + 1,
        "train_loss": loss,
        "train_accuracy": train_acc,
        **synapse_summary(r.learner, spec["important_p"]),
    }
    every = int(spec.get("eval_every", 1) or 0)
    if epoch == total or (last_of_task and bool(spec.get("task_end_eval", True))):  # every task (App. table 1, ...)
        t1 = time.perf_counter()
        r.accs = evaluate_tasks(r.learner, stream, n_eval)
        r.t_eval += time.perf_counter() - t1
        for t, acc in enumerate(r.accs):
            r.metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
        seen_tasks = stream.n_tasks if joint else task + 1
        row["seen_tasks_accuracy"] = sum(r.accs[:seen_tasks]) / seen_tasks
    elif every and epoch % every == 0:  # only the tasks a curve plots (Fig 4b: task 1)
        t1 = time.perf_counter()
        curve = curve_task_indices(spec, stream.n_tasks)
        for t, acc in zip(curve, evaluate_tasks(r.learner, stream, n_eval, curve)):
            r.metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
        r.t_eval += time.perf_counter() - t1
    r.metrics.add(epoch, row)


def train(spec: dict | list[dict], inputs: dict, out_dir: Path | list[Path], device: torch.device) -> dict[str, float]:
    """Train a run (or a group of runs, one output folder each) and write every run; returns the job's timing."""
    specs = spec if isinstance(spec, list) else [spec]
    out_dirs = [Path(d) for d in out_dir] if isinstance(out_dir, list) else [Path(out_dir)]
    if len(specs) > 1:
        check_group(specs)
    if len(out_dirs) != len(specs):
        raise ValueError(f"{len(specs)} specs but {len(out_dirs)} output folders")
    s0 = specs[0]
    data = load_for_spec(inputs["data"], s0, device)  # shared by the group; holdout: the test split is never read
    runs = []
    for spec, out_dir in zip(specs, out_dirs):
        gens, stream, learner, label, metrics = setup_run(spec, data, device)
        run = _Run(spec, out_dir, label, learner, gens, stream, metrics, checkpoint.load(out_dir, spec, device))
        if run.ckpt:  # resume after this run's last finished task (presyn.checkpoint)
            run.learner, run.gens, run.metrics.rows = run.ckpt["learner"], run.ckpt["gens"], run.ckpt["rows"]
            pos = run.ckpt["position"]
            run.next_phase, run.epoch, run.t_train, run.t_eval, run.accs = (
                pos[k] for k in ("next_phase", "epoch", "t_train", "t_eval", "accs")
            )
        runs.append(run)
    joint = bool(s0.get("joint", False))
    epochs_per_task = int(s0["joint_epochs"] if joint else s0["epochs_per_task"])
    phases = [None] if joint else list(range(runs[0].stream.n_tasks))
    total = len(phases) * epochs_per_task
    progress = Progress(runs[0].label if len(runs) == 1 else f"{runs[0].label} (+{len(runs) - 1} runs)", total)
    t_job = time.perf_counter()
    while True:
        pending = [r for r in runs if r.next_phase < len(phases) and not r.diverged]
        if not pending:
            break
        position = min(r.next_phase for r in pending)
        active = [r for r in pending if r.next_phase == position]  # laggards (mixed resume) catch up first
        task = phases[position]
        _train_phase(active, task, epochs_per_task, joint, total, progress)
        for r in active:
            if r.diverged:
                continue
            r.next_phase = position + 1
            if task is not None and hasattr(r.learner, "end_task"):  # EWC: Fisher + anchor of the task just finished
                r.learner.end_task(*r.stream.task_train_set(task))
            if task is not None and task + 1 < len(phases):
                checkpoint.save(r.out_dir, r.spec, r.learner, r.gens, r.metrics.rows, r.position())
    job_seconds = time.perf_counter() - t_job
    grouped = {"batched_networks": len(runs)} if len(runs) > 1 else {}
    for r in runs:
        r.metrics.add(
            r.epoch,
            {
                "mean_accuracy": float("nan") if r.diverged else sum(r.accs) / len(r.accs),
                **({"diverged": float(r.diverged)} if r.spec.get("search") else {}),
            },
        )
        state = r.learner.state_dict()
        if r.stream.perms is not None:
            state["permutations"] = r.stream.perms.cpu()
        timing = {
            "train_seconds": r.t_train,
            "eval_seconds": r.t_eval,
            "seconds_per_epoch": r.t_train / total,
            "eval_seconds_per_epoch": r.t_eval / total,
        }
        save_run(
            r.out_dir, r.metrics.frame(), state, r.spec, device, {**timing, **grouped, **checkpoint.provenance(r.ckpt)}
        )
    t_max = max(r.t_train for r in runs)
    return {"job_seconds": job_seconds, "train_seconds": t_max, "seconds_per_epoch": t_max / total, **grouped}
