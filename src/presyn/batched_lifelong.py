"""Several lifelong runs trained in one job as stacked weights (issue 20; GPU throughput).

The lifelong counterpart of the grouped energy jobs (``presyn.experiments.energy``): S networks that see the same kind of task
stream share every kernel of a training step; their weights are stacked into (S, P) tensors and the
layers run as ``torch.baddbmm`` / ``torch.bmm`` (``models.SynapticMLP``'s stacked forward / backward).

What may be stacked (``refusal`` / ``check_group``):
- runs of ``experiment`` lifelong or ablation (the Fig 5a variants use the lifelong trainer), not the
  hyperparameter-search trials;
- model kinds presyn / fixedp (``PresynapticLearner``: lifelong presyn, every ablation variant),
  deterministic with SGD (no momentum) or Adam (no_consolidation, joint), and bgd (``BGDLearner.stack``: the K
  Monte Carlo samples of S networks as one (S * K)-network bmm) and ewc (the deterministic stack plus each
  network's penalty gradient; its end-of-task Fisher runs per network between tasks, where the learners
  are unbatched). One kind and one optimizer per job;
- per network may differ: seed, method, experiment, variant, the evaluation schedule (eval_every,
  curve_tasks, task_end_eval, eval_samples, important_p) and the model block's rule constants and flags
  (presynaptic: lr, p_up, p_down, g_lim, p_freeze, modulation, learn_p, sample_p, normalise, weight_decay,
  p_init; deterministic: lr, weight_decay; ewc: lr, weight_decay, ewc_lambda, fisher_samples, fisher; bgd: eta,
  std_init, init). Everything else (benchmark, data, sizes, batch size, p_min, tasks, epochs, joint, blend,
  holdout, BGD's mc_samples, EWC's reset_optimizer) must be equal, so that all networks take the same number
  of steps (and Adam's step counts stay equal).
- EWC stacks cleanly: its state is per network and elementwise -- the running sums sum_t F_t and
  sum_t F_t theta*_t (penalty gradient 2 lambda (sum F theta - sum F theta*)) are stacked (S, P) tensors,
  constant within a task, Adam's moments stack as for the deterministic model -- and the end-of-task Fisher
  (per-example vmap(grad) on each network's own task data) and the optional optimiser reset run per network
  in ``end_task`` between tasks, exactly as unbatched.
- not stacked: the hyperparameter-search trials (Fig 5a ablation search, EWC search: a trial may diverge
  and is scored NaN; one job each).

Same numbers as ``experiments.lifelong.train``, per network (tests/test_batched_lifelong.py):
- each network is built by ``factory.build_learner`` from its own ``Generators.from_seed(seed)`` and has its
  own ``tasks.make_stream`` (its own permutations for the permuted benchmarks), so initial weights, data
  order (``task_batches`` / ``continuous_batches`` / ``joint_batches`` on its own data generator) and masks
  (16-bit uniforms from its own mask generator, the numba loops on the CPU exactly as the unbatched
  learner) are the random numbers of the unbatched job, drawn in the same order: training steps, then that
  epoch's evaluations through the learner's own ``predict_proba`` (``lifelong.evaluate_tasks``);
- the updates are the unbatched elementwise rules on the stacked tensors: ``presyn_rule.update_loop_`` /
  ``presyn_rule.update`` for the presynaptic model (one call for the stack when all rules are equal, else one
  per group of equal rules), ``torch.optim.SGD`` / ``torch.optim.Adam`` on the stacked tensors (one parameter
  group of row views per network when lr / weight decay differ) for the deterministic model and EWC,
  ``cpu_kernels.bgd_theta`` / ``bgd_update_`` per network (CPU) or ``baselines.bgd_update``'s arithmetic
  over the stack (elsewhere) for BGD;
- metrics rows, evaluation schedule (curve runs between task ends, every task at task ends when
  ``task_end_eval``, every task after the last epoch), ``mean_accuracy``, the state (with the permutations)
  and the three run files (``training.save_run``) are those of the unbatched trainer.
Only the matrix products (bmm vs mm) and the loss reduction may sum in another order. On this CPU the
weights, release probabilities, biases, BGD's means and deviations and all accuracies came out bit-identical,
train_loss within float32 rounding (<= 5e-7; the test allows rtol 1e-4 / atol 1e-5, as tests/test_batched.py). On CUDA bmm and mm are
different kernels: the deterministic runs then agree to rounding, the stochastic ones are statistically, not
numerically, equal (a gradient at g_lim may flip a release-probability decision, see docs/architecture.md).

Each task's stacked learner is built from the runs' own learners by ``<learner class>.stack`` (copies of their
tensors, optimiser states and EWC sums; their mask / sampling generators shared) and copied back after every
epoch by its ``unstack`` (weights, Adam's state), so the learners are ordinary unbatched learners at every task boundary:
- checkpoints are per run, after every task, in the unbatched format (``checkpoint.save``): a run's
  checkpoint can be resumed by this job or by the one-job-per-run trainer alike;
- on resume each run loads its own checkpoint; runs at different positions (a job killed while writing
  its S checkpoints, or a run whose checkpoint was deleted) train the lagging runs alone, task by task,
  until all are at the same task, then continue stacked. The result equals an uninterrupted job.
Stacking is not part of what a run is: the spec and config_hash of every run are unchanged; provenance
records ``batched_networks`` (S of the job), and its train_seconds / seconds_per_epoch are the job's (all S
networks together, as a grouped energy job). A network whose loss is not finite stops the whole job (no run of it
is written; the others resume from their checkpoints).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from presyn import checkpoint
from presyn.data import load_for_spec
from presyn.experiments.lifelong import curve_task_indices, evaluate_tasks, setup_run, synapse_summary
from presyn.factory import RULE_KEYS
from presyn.training import Generators, MetricsLog, Progress, check_finite, save_run

log = logging.getLogger("presyn")

EXPERIMENTS = ("lifelong", "ablation")
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
    """Why a run spec cannot join a stacked lifelong job, or None when it can."""
    if spec.get("search"):
        return "a hyperparameter-search trial (it may diverge and score NaN: one job per trial)"
    if spec.get("experiment") not in EXPERIMENTS:
        return f"experiment {spec.get('experiment')!r} (only {', '.join(EXPERIMENTS)})"
    model = spec.get("model") or {}
    kind = model.get("kind")
    if kind not in KINDS:
        return f"model kind {kind!r} (only presyn, fixedp, deterministic, ewc, bgd)"
    if (
        kind == "presyn"
        and model.get("sample_p") is not None
        and model.get("ghost_normaliser", "learned") == "learned"
        and model.get("normalise", True)
    ):
        return "the authors' ghost control (mask / learned p~; the per-run trainer only)"
    if (
        kind in ("deterministic", "ewc")
        and model.get("optimizer", "sgd" if kind == "deterministic" else "adam") not in OPTIMIZERS
    ):
        return f"optimizer {model.get('optimizer')!r} (only sgd, adam)"
    return None


def stackable(spec: dict) -> bool:
    """Whether a run spec can join a stacked lifelong job (``refusal`` says why not)."""
    return refusal(spec) is None


def shared_part(spec: dict) -> dict:
    """What every network of one job must share (two specs stack together iff these are equal)."""
    kind = KINDS.get((spec.get("model") or {}).get("kind"), "?")
    out = {k: v for k, v in spec.items() if k not in PER_NETWORK_KEYS}
    out.pop("epochs_per_task" if spec.get("joint") else "joint_epochs", None)  # the trainer reads only one of them
    out["model"] = {k: v for k, v in (spec.get("model") or {}).items() if k not in PER_NETWORK_MODEL_KEYS.get(kind, ())}
    return out


def check_group(specs: list[dict]) -> None:
    """Raise ValueError naming the run and the reason when ``specs`` cannot be trained as one job."""
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


def group_specs(specs: list[dict], networks_per_job: int) -> list[list[dict]]:
    """Stackable specs -> jobs: runs with equal ``shared_part``, in run-key order, at most ``networks_per_job``
    per job (a deterministic function of the specs: the Snakemake rules are built from it)."""
    import json

    if networks_per_job < 1:
        raise ValueError(f"networks_per_job must be >= 1, not {networks_per_job}")
    classes: dict[str, list[dict]] = {}
    for s in specs:
        if stackable(s):
            classes.setdefault(json.dumps(shared_part(s), sort_keys=True, default=str), []).append(s)
    key = lambda s: (s["experiment"], s["method"], s["benchmark"], s["seed"])  # noqa: E731
    jobs = []
    for members in sorted(classes.values(), key=lambda m: key(min(m, key=key))):
        members = sorted(members, key=key)
        jobs += [members[i : i + networks_per_job] for i in range(0, len(members), networks_per_job)]
    return jobs


# ---------------------------------------------------------------------------------------------- one run
@dataclass
class _Run:
    """One network of the job: what ``lifelong.train`` keeps in local variables."""

    spec: dict
    out_dir: Path
    label: str
    learner: object
    gens: Generators
    stream: object
    metrics: MetricsLog
    ckpt: dict | None
    next_phase: int = 0
    epoch: int = 0
    t_train: float = 0.0
    t_eval: float = 0.0
    accs: list | None = None

    def batches(self, task, task_epoch: int, epochs_per_task: int, joint: bool):
        s, stream, gen = self.spec, self.stream, self.gens.data
        if joint:
            return stream.joint_batches(s["batch_size"], gen)
        if stream.continuous:
            return stream.continuous_batches(task, task_epoch, epochs_per_task, s["batch_size"], gen)
        return stream.task_batches(task, s["batch_size"], gen)


def _train_phase(runs: list[_Run], task, epochs_per_task: int, joint: bool, total: int, progress: Progress) -> None:
    """One task (or the joint phase) of every run in ``runs`` (all at the same position), stacked."""
    learners = [r.learner for r in runs]
    stack = type(learners[0]).stack(learners)  # one learner over the S networks (copies; unstack copies back)
    device = learners[0].net.w.device
    S = len(runs)
    for task_epoch in range(epochs_per_task):
        for r in runs:
            r.epoch += 1
        epoch = runs[0].epoch
        t0 = time.perf_counter()
        iters = [r.batches(task, task_epoch, epochs_per_task, joint) for r in runs]
        loss_sum = torch.zeros(S, device=device)
        correct = torch.zeros(S, device=device)
        seen, step = 0, 0
        for step, pairs in enumerate(zip(*iters, strict=True)):  # noqa: B007 (step: read after the loop)
            x = torch.stack([p[0] for p in pairs])
            y = torch.stack([p[1] for p in pairs])
            loss, ok = stack.step(x, y)
            loss_sum += loss * y.shape[1]
            correct += ok
            seen += y.shape[1]
        mean_loss = loss_sum / max(seen, 1)
        for s, r in enumerate(runs):
            check_finite(mean_loss[s], r.label, epoch, step)
        dt = time.perf_counter() - t0
        stack.unstack(learners)
        losses, corrects = mean_loss.tolist(), correct.tolist()
        last_of_task = task_epoch == epochs_per_task - 1
        for s, r in enumerate(runs):
            spec, stream, n_eval = r.spec, r.stream, r.spec["eval_samples"]
            r.t_train += dt
            row = {
                "current_task": 0 if joint else task + 1,
                "train_loss": losses[s],
                "train_accuracy": corrects[s] / max(seen, 1),
                **synapse_summary(r.learner, spec["important_p"]),
            }
            every = int(spec.get("eval_every", 1) or 0)
            if epoch == total or (last_of_task and bool(spec.get("task_end_eval", True))):
                t1 = time.perf_counter()
                r.accs = evaluate_tasks(r.learner, stream, n_eval)
                r.t_eval += time.perf_counter() - t1
                for t, acc in enumerate(r.accs):
                    r.metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
                seen_tasks = stream.n_tasks if joint else task + 1
                row["seen_tasks_accuracy"] = sum(r.accs[:seen_tasks]) / seen_tasks
            elif every and epoch % every == 0:
                t1 = time.perf_counter()
                curve = curve_task_indices(spec, stream.n_tasks)
                for t, acc in zip(curve, evaluate_tasks(r.learner, stream, n_eval, curve)):
                    r.metrics.add(epoch, {"test_accuracy": acc}, task=str(t + 1))
                r.t_eval += time.perf_counter() - t1
            r.metrics.add(epoch, row)
        first = runs[0].metrics.rows
        shown = {m["metric"]: m["value"] for m in first if m["epoch"] == epoch and m["task"] == "all"}
        progress.epoch(
            epoch, {k: shown[k] for k in ("current_task", "train_loss", "seen_tasks_accuracy", "mean_p") if k in shown}
        )


def train(specs: list[dict], inputs: dict, out_dirs: list[str | Path], device: torch.device) -> dict:
    """Train the lifelong runs of ``specs`` together; write each run to its ``out_dirs`` entry.

    Mirrors ``experiments.lifelong.train`` network by network; returns timing numbers of the job.
    """
    check_group(specs)
    if len(out_dirs) != len(specs):
        raise ValueError(f"{len(specs)} specs but {len(out_dirs)} output folders")
    s0 = specs[0]
    data = load_for_spec(inputs["data"], s0, device)  # shared: same dataset block and holdout for all
    runs = []
    for spec, out_dir in zip(specs, out_dirs):
        gens, stream, learner, label, metrics = setup_run(spec, data, device)
        run = _Run(spec, Path(out_dir), label, learner, gens, stream, metrics, checkpoint.load(out_dir, spec, device))
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
    progress = Progress(f"stacked x{len(runs)} {runs[0].label}..", total)
    t_job = time.perf_counter()
    while True:
        pending = [r for r in runs if r.next_phase < len(phases)]
        if not pending:
            break
        position = min(r.next_phase for r in pending)
        active = [r for r in pending if r.next_phase == position]  # laggards (mixed resume) catch up first
        task = phases[position]
        _train_phase(active, task, epochs_per_task, joint, total, progress)
        for r in active:
            r.next_phase = position + 1
            if task is not None and hasattr(r.learner, "end_task"):  # EWC: Fisher + anchor of the task just finished
                r.learner.end_task(*r.stream.task_train_set(task))
            if task is not None and task + 1 < len(phases):
                checkpoint.save(
                    r.out_dir,
                    r.spec,
                    r.learner,
                    r.gens,
                    r.metrics.rows,
                    {
                        "next_phase": r.next_phase,
                        "epoch": r.epoch,
                        "t_train": r.t_train,
                        "t_eval": r.t_eval,
                        "accs": r.accs,
                    },
                )
    job_seconds = time.perf_counter() - t_job
    for r in runs:
        r.metrics.add(r.epoch, {"mean_accuracy": sum(r.accs) / len(r.accs)})
        state = r.learner.state_dict()
        if r.stream.perms is not None:
            state["permutations"] = r.stream.perms.cpu()
        save_run(
            r.out_dir,
            r.metrics.frame(),
            state,
            r.spec,
            device,
            {
                "train_seconds": r.t_train,
                "eval_seconds": r.t_eval,
                "seconds_per_epoch": r.t_train / total,
                "eval_seconds_per_epoch": r.t_eval / total,
                "batched_networks": len(runs),
                **checkpoint.provenance(r.ckpt),
            },
        )
    return {
        "job_seconds": job_seconds,
        "batched_networks": len(runs),
        "train_seconds": max(r.t_train for r in runs),
        "seconds_per_epoch": max(r.t_train for r in runs) / total,
    }


def run(specs: list[dict], inputs: dict, out_dirs: list, device: str = "auto", threads: int = 1) -> dict:
    """Entry point of the stacked lifelong rules (like ``presyn.experiments.run`` for one run)."""
    from presyn.training import resolve_device, set_threads

    set_threads(threads)
    return train(specs, inputs, [Path(d) for d in out_dirs], resolve_device(device))
