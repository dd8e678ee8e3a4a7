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
random search below (``results/search/<benchmark>/<variant>.yaml``).

The random search (``search_trial`` / ``best_trial``) reruns the paper's tuning: p_up, p_down ~
U(0.01, 0.1), p_freeze ~ U(0.9, 0.96) (not searched where the variant fixes it), training on all but
the last ``holdout`` training items and scoring the mean accuracy over tasks on those; a trial stops
early when task-1 accuracy after the first task is below ``early_stop_task1``.
"""

from __future__ import annotations

import copy
import logging
import math
import time
from pathlib import Path

import numpy as np
import torch
import yaml

log = logging.getLogger("presyn")

EXPERIMENT = "ablation"
SEARCHED = ("p_up", "p_down", "p_freeze")


def method_of(variant: str) -> str:
    """'noFreeze' -> 'ablation-noFreeze' (the method name in result paths)."""
    return f"{EXPERIMENT}-{variant}"


def variant_of(method: str) -> str:
    return method.split("-", 1)[1] if method.startswith(EXPERIMENT + "-") else method


def selected_variants(sec: dict) -> list[str]:
    """Variants to run: ``run_variants`` (in config order) or every variant."""
    chosen = sec.get("run_variants")
    unknown = set(chosen or []) - set(sec["variants"])
    if unknown:
        raise ValueError(f"ablation.run_variants names unknown variants {sorted(unknown)}; known: {list(sec['variants'])}")
    return [v for v in sec["variants"] if not chosen or v in chosen]


def load_tuned(entry: dict | str, benchmark: str, variant: str) -> dict:
    """Tuned (p_up, p_down, p_freeze): inline mapping, or the path of a search result yaml."""
    if isinstance(entry, str):
        path = Path(entry)
        if not path.exists():
            raise FileNotFoundError(
                f"ablation.tuned.{benchmark}.{variant} points to {entry}, which does not exist; write it with "
                f"`snakemake --configfile ... {entry}` (the random search, see config/README.md) or give the values inline")
        entry = (yaml.safe_load(path.read_text()) or {}).get("best") or {}
    missing = [k for k in SEARCHED if k not in entry]
    if missing:
        raise ValueError(f"ablation.tuned.{benchmark}.{variant} lacks {missing}")
    return {k: float(entry[k]) for k in SEARCHED}


def model_block(sec: dict, benchmark: str, variant: str, tuned: dict | None = None) -> dict:
    """Shared model + benchmark lr + tuned parameters + the variant's flags (flags win)."""
    if tuned is None:
        entry = (sec.get("tuned") or {}).get(benchmark, {}).get(variant)
        if entry is None:
            raise ValueError(f"ablation.tuned has no parameters for {benchmark}/{variant}")
        tuned = load_tuned(entry, benchmark, variant)
    lr = sec["lr"].get(benchmark)
    if lr is None:
        raise ValueError(f"ablation.lr has no learning rate for benchmark {benchmark!r}")
    return {**copy.deepcopy(sec["model"]), "lr": float(lr), **tuned, **copy.deepcopy(sec["variants"][variant] or {})}


def base_run_spec(config: dict, benchmark: str, seed: int, method: str, model: dict, experiment: str = EXPERIMENT) -> dict:
    """A run spec in the lifelong trainer's layout (see presyn.experiments.lifelong)."""
    from presyn.plan import base_spec
    from presyn.tasks import kind_of

    sec = config["ablation"]
    spec = base_spec(config, experiment, method, benchmark, seed)
    spec.update(
        model=model,
        n_tasks=int(sec["n_tasks"]["split" if kind_of(benchmark) == "split" else "perm"]),
        epochs_per_task=int(sec["epochs_per_task"]),
        joint=False,
        joint_epochs=1,
        blend=0.25,
        eval_every=int(sec.get("eval_every", 0)),
        task_end_eval=bool(sec.get("task_end_eval", False)),
        holdout=0,
    )
    return spec


def plan_runs(config: dict) -> list[dict]:
    """Every ablation run: benchmark x variant x seed."""
    from presyn.plan import finalise, seeds_for

    sec = config.get(EXPERIMENT)
    if not sec or not sec.get("enabled", True):
        return []
    shared = {k: sec.get(k) for k in ("n_tasks", "epochs_per_task", "eval_every", "task_end_eval", "model", "lr")}
    runs = []
    for benchmark in sec["benchmarks"]:
        for variant in selected_variants(sec):
            model = model_block(sec, benchmark, variant)
            for seed in seeds_for(config, EXPERIMENT):
                spec = base_run_spec(config, benchmark, seed, method_of(variant), model)
                spec["variant"] = variant
                runs.append(finalise(spec, {**shared, "model_block": model}))
    return runs


# --------------------------------------------------------------------------------------- random search
def draw_trial(search: dict, variant_flags: dict, index: int) -> dict:
    """Trial ``index``'s parameters, a pure function of (search seed, index); flags fix p_freeze where set."""
    rng = np.random.default_rng([int(search["seed"]), int(index)])
    params = {}
    for key in SEARCHED:
        lo, hi = search["ranges"][key]
        params[key] = float(rng.uniform(lo, hi))
    for key in SEARCHED:
        if key in (variant_flags or {}):
            params[key] = float(variant_flags[key])
    return params


def search_spec(config: dict, benchmark: str, variant: str, index: int) -> dict:
    """The run spec of one search trial: the variant's model with drawn parameters, a held-out validation set."""
    sec = config[EXPERIMENT]
    search = sec["search"]
    params = draw_trial(search, sec["variants"][variant], index)
    model = model_block(sec, benchmark, variant, tuned=params)
    spec = base_run_spec(config, benchmark, int(search["seed"]) + index, f"search-{variant}", model, experiment="ablation_search")
    spec.update(holdout=int(search["holdout"]), eval_every=0,
                search={"benchmark": benchmark, "variant": variant, "trial": index, "params": params,
                        "early_stop_task1": float(search["early_stop_task1"])})
    return spec


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
    learner = build_learner(spec["model"], [data.x_train.shape[1], *spec["hidden"], stream.n_outputs], gens, device, spec["p_min"])
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
    result = {**spec["search"], "score": float(score), "early_stopped": stopped, "task1_accuracy": float(task1),
              "task_accuracies": [float(a) for a in accs], "seconds": time.perf_counter() - t0}
    log.info("search %s/%s trial %d: %s -> score %.4f%s", spec["search"]["benchmark"], spec["search"]["variant"],
             spec["search"]["trial"], spec["search"]["params"], score, " (stopped early)" if stopped else "")
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
        "trials": [{"trial": int(t["trial"]), **{k: round(float(t["params"][k]), 6) for k in SEARCHED},
                    "score": float(t["score"]), "early_stopped": bool(t["early_stopped"])} for t in ranked],
    }
