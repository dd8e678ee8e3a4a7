"""Ablation of the presynaptic consolidation model (Fig 5a; docs/protocol.md#fig-5a-ablation).

Every variant is the one presynaptic model (``presyn.learners.PresynapticRule``) with some flags
switched, trained by the lifelong trainer (``presyn.experiments.lifelong.train``) on a task
stream, each variant with its own tuned (p_up, p_down, p_freeze):

    full           modulation on, freezing at the tuned p_freeze
    noFreeze       p_freeze = 1 (never freeze)
    noFreezeNoMod  p_freeze = 1 and no (1 - p) learning-rate modulation
    noMod          no modulation, freezing kept
    fixedP         sampling with p = 0.5 everywhere ("ghost" learned p still modulates and freezes)
    noNorm         effective weight mask * w (not mask * w / p), init / p_min, energy sum p |w|

Run specs have the layout of the lifelong presynaptic runs with ``experiment = "ablation"`` and
``method = "ablation-<variant>"`` (paths ``results/runs/ablation/ablation-<variant>/<benchmark>/seed<s>/``).
The tuned parameters come from the config, either inline or as the path of a file written by the
random search below (``results/search/<benchmark>/<variant>.yaml``). The runs and the search trials' specs are
planned by ``presyn.planning.ablation`` (``plan_runs``, ``search_spec``); this module trains and scores a trial.

The random search (``search_trial`` / ``best_trial``) reruns the paper's tuning: p_up, p_down ~
U(0.01, 0.1), p_freeze ~ U(0.9, 0.96) (not searched where the variant fixes it), training on all but
the last ``holdout`` training items and scoring the mean accuracy over tasks on those; a trial stops
early when task-1 accuracy after the first task is below ``early_stop_task1``.
"""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import torch

from presyn.planning.ablation import SEARCHED

log = logging.getLogger("presyn")


def search_trial(spec: dict, data_path: str, device: torch.device | str = "cpu") -> dict:
    """Train one trial (the lifelong loop, minus outputs) and return its score.

    Task by task: train ``epochs_per_task`` epochs; after task 1, stop early when its validation
    accuracy is below ``early_stop_task1``. Score = mean validation accuracy over all tasks after the
    last one; an early-stopped trial scores task-1 accuracy / n_tasks (what it would score with every
    later task at 0), which ranks it below any finished trial in practice.
    """
    from presyn.data import load_for_spec
    from presyn.experiments.lifelong import evaluate_tasks, task_accuracy
    from presyn.factory import build_learner
    from presyn.tasks import make_stream
    from presyn.training import Generators, check_finite

    device = torch.device(device)
    data = load_for_spec(data_path, spec, device)
    gens = Generators.from_seed(spec["seed"], device)
    stream = make_stream(spec["benchmark"], data, spec["seed"], spec.get("n_tasks"))
    learner = build_learner(
        spec["model"], [data.x_train.shape[1], *spec["hidden"], stream.n_outputs], gens, device, spec["p_min"]
    )
    t0, stopped, task1 = time.perf_counter(), False, float("nan")
    for task in range(stream.n_tasks):
        for epoch in range(spec["epochs_per_task"]):
            loss_sum, seen = torch.zeros((), device=device), 0
            for x, y in stream.task_batches(task, spec["batch_size"], gens.data):
                loss, _ = learner.step(x, y)
                loss_sum += loss * y.numel()
                seen += y.numel()
            check_finite(loss_sum / max(seen, 1), f"search {spec['search']}", epoch + 1, 0)
        if task == 0:
            task1 = task_accuracy(learner, *stream.test_set(0), spec["eval_samples"])
            if task1 < spec["search"]["early_stop_task1"]:
                stopped = True
                break
    if stopped:
        accs, score = [task1], task1 / stream.n_tasks
    else:
        accs = evaluate_tasks(learner, stream, spec["eval_samples"])
        score = float(np.mean(accs))
    result = {
        **spec["search"],
        "score": float(score),
        "early_stopped": stopped,
        "task1_accuracy": float(task1),
        "task_accuracies": [float(a) for a in accs],
        "seconds": time.perf_counter() - t0,
    }
    log.info(
        "search %s/%s trial %d: %s -> score %.4f%s",
        spec["search"]["benchmark"],
        spec["search"]["variant"],
        spec["search"]["trial"],
        spec["search"]["params"],
        score,
        " (stopped early)" if stopped else "",
    )
    return result


def best_trial(trials: list[dict]) -> dict:
    """The search result file: the best trial's parameters (the ``best`` block ablation.tuned reads) and all trials."""
    if not trials:
        raise ValueError("no search trials to choose from")
    scored = [t for t in trials if not math.isnan(t["score"])]
    if not scored:
        raise ValueError("every search trial scored NaN")
    best = max(scored, key=lambda t: t["score"])
    ranked = sorted(trials, key=lambda t: -t["score"] if not math.isnan(t["score"]) else math.inf)
    return {
        "benchmark": best["benchmark"],
        "variant": best["variant"],
        "best": {k: float(best["params"][k]) for k in SEARCHED},
        "best_score": float(best["score"]),
        "best_trial": int(best["trial"]),
        "n_trials": len(trials),
        "n_early_stopped": int(sum(t["early_stopped"] for t in trials)),
        "trials": [
            {
                "trial": int(t["trial"]),
                **{k: round(float(t["params"][k]), 6) for k in SEARCHED},
                "score": float(t["score"]),
                "early_stopped": bool(t["early_stopped"]),
            }
            for t in ranked
        ],
    }
