"""Ablation (Fig 5a): its runs, the random search's trial specs, and the selections the rules read.

The variants and the search are described in ``presyn.experiments.ablation``, which trains and scores a search
trial; every run is trained by the lifelong trainer. Run specs have the lifelong layout with
``experiment = "ablation"`` and ``method = "ablation-<variant>"``; the tuned (p_up, p_down, p_freeze) come from
the config, inline or as the path of a search result (``results/search/<benchmark>/<variant>.yaml``).
"""

from __future__ import annotations

import copy
from pathlib import Path

from presyn.planning.core import base_spec, dataset_of, finalise, kind_of, seeds_for

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
        raise ValueError(
            f"ablation.run_variants names unknown variants {sorted(unknown)}; known: {list(sec['variants'])}"
        )
    return [v for v in sec["variants"] if not chosen or v in chosen]


def load_tuned(entry: dict | str, benchmark: str, variant: str) -> dict:
    """Tuned (p_up, p_down, p_freeze): inline mapping, or the path of a search result yaml."""
    if isinstance(entry, str):
        import yaml

        path = Path(entry)
        if not path.exists():
            raise FileNotFoundError(
                f"ablation.tuned.{benchmark}.{variant} points to {entry}, which does not exist; write it with "
                f"`snakemake --configfile ... {entry}` (the random search, see config/README.md) or give the values inline"
            )
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


def base_run_spec(
    config: dict, benchmark: str, seed: int, method: str, model: dict, experiment: str = EXPERIMENT
) -> dict:
    """A run spec in the lifelong trainer's layout (see presyn.experiments.lifelong)."""
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
    import numpy as np  # only when a trial's spec is asked for (a job's params), never while planning the runs

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
    if variant not in sec["variants"]:
        raise ValueError(f"ablation search: unknown variant {variant!r}; known: {list(sec['variants'])}")
    search = sec["search"]
    params = draw_trial(search, sec["variants"][variant], index)
    model = model_block(sec, benchmark, variant, tuned=params)
    spec = base_run_spec(
        config, benchmark, int(search["seed"]) + index, f"search-{variant}", model, experiment="ablation_search"
    )
    spec.update(
        holdout=int(search["holdout"]),
        eval_every=0,
        search={
            "benchmark": benchmark,
            "variant": variant,
            "trial": index,
            "params": params,
            "early_stop_task1": float(search["early_stop_task1"]),
        },
    )
    return spec


# ------------------------------------------------------------------------------------------------ selectors
def search_target(config: dict) -> str:
    """The search result file of ``ablation.search`` (its benchmark and variant)."""
    s = config.get("ablation", {}).get("search") or {}
    return f"results/search/{s.get('benchmark')}/{s.get('variant')}.yaml"


def search_trial_files(config: dict, benchmark: str, variant: str) -> list[str]:
    """The result file of every trial of one search (``ablation.search.n_trials``)."""
    n = int(config["ablation"]["search"]["n_trials"])
    return [f"results/search/{benchmark}/{variant}/trial{i}.json" for i in range(n)]


def search_data(benchmark: str) -> str:
    """The processed dataset a search trial on ``benchmark`` reads."""
    return f"data/processed/{dataset_of(benchmark)}.npz"
