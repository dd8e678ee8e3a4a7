"""From config to the list of training runs: one spec per experiment x method x benchmark x seed.

The run spec is everything a training job needs (and all it hashes into its provenance);
``method_name`` is the one spelling of hyperparameter variants in result paths (docs/protocol.md#paths-and-names).
"""

from __future__ import annotations

import copy
import importlib
from typing import Callable, Iterable

from presyn.provenance import config_hash

BENCHMARK_DATASET = {
    "mnist": "mnist",
    "fashion": "fashion",
}


def fmt_number(x: float) -> str:
    """Short, stable spelling of a number for paths: 0.01 -> '0.01', 0.0 -> '0', 1e-4 -> '0.0001'."""
    s = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return s or "0"


def method_name(model: str, **variant: float | str) -> str:
    """'presyn' + {'wd': 0.01} -> 'presyn_wd0.01'; variants in the given order."""
    parts = [model]
    for key, value in variant.items():
        parts.append(f"{key}{fmt_number(value) if isinstance(value, (int, float)) else value}")
    return "_".join(parts)


def dataset_of(benchmark: str) -> str:
    """Which processed dataset a benchmark reads (split_mnist -> mnist, perm_fashion -> fashion)."""
    for suffix, dataset in BENCHMARK_DATASET.items():
        if benchmark == suffix or benchmark.endswith("_" + suffix):
            return dataset
    raise ValueError(f"benchmark {benchmark!r} maps to no dataset; known datasets: {sorted(set(BENCHMARK_DATASET.values()))}")


def dataset_block(config: dict, benchmark: str) -> dict:
    name = dataset_of(benchmark)
    ds = config["data"]["datasets"][name]
    return {"name": name, "mean": ds["mean"], "std": ds["std"], "subset": config["data"].get("subset")}


def seeds_for(config: dict, section: str) -> list[int]:
    return list(config[section].get("seeds") or config["seeds"])


def base_spec(config: dict, experiment: str, method: str, benchmark: str, seed: int) -> dict:
    m = config["model"]
    return {
        "experiment": experiment,
        "method": method,
        "benchmark": benchmark,
        "seed": int(seed),
        "dataset": dataset_block(config, benchmark),
        "hidden": list(m["hidden"]),
        "batch_size": m["batch_size"],
        "p_min": m["p_min"],
        "eval_samples": m["eval_samples"],
        "important_p": m["important_p"],
    }


def finalise(spec: dict, section: dict | None = None) -> dict:
    """Attach the config hash: of everything the run is trained with except its seed.

    All seeds of one method share it; a figure refuses to mix runs whose hashes differ (results of
    an older config). ``section`` is accepted for the callers' clarity but the spec already holds
    every setting that reaches the run, and nothing else (so unrelated config edits rerun nothing).
    """
    spec["config_hash"] = config_hash({k: v for k, v in spec.items() if k not in ("seed", "config_hash")})
    return spec


ENERGY_EXTRA_KEYS = ("analysis", "fixedp_sweep", "uniform_init", "robustness")  # analysis settings, App. fig 1c/1d
# runs and the model-robustness variants


def energy_runs(config: dict) -> list[dict]:
    """Energy experiment: every model x weight decay x seed, single-task MNIST (Fig 1), plus the
    fixed-p sweep (App. fig 1c: ``energy_group`` = fixedp_sweep) and the uniform-initial-p runs
    (App. fig 1d: ``energy_group`` = uniform_init) and the model-robustness variants (``energy_group`` =
    robustness, ``robustness_runs``). Fig 1 specs carry no ``energy_group``; their hash
    ignores the analysis/sweep keys, so adding or changing those never retrains the Fig 1 runs."""
    sec = config["energy"]
    if not sec.get("enabled", True):
        return []
    core = {k: v for k, v in sec.items() if k not in ENERGY_EXTRA_KEYS}
    runs = []
    for model_name, model in sec["models"].items():
        for wd in sec["weight_decays"]:
            for seed in seeds_for(config, "energy"):
                method = method_name(model_name, wd=wd)
                spec = base_spec(config, "energy", method, sec["benchmark"], seed)
                spec.update(model={**copy.deepcopy(model), "weight_decay": float(wd)},
                            model_name=model_name, weight_decay=float(wd),
                            epochs=sec["epochs"], eval_every=sec.get("eval_every", 0))
                runs.append(finalise(spec, core))
    runs += energy_sweep_runs(config, core)
    runs += robustness_runs(config, core)
    return runs


def energy_sweep_runs(config: dict, core: dict) -> list[dict]:
    """App. fig 1c: fixed-p model for every p x learning rate (lr = lr_scale * p) at one weight decay;
    App. fig 1d: the presynaptic model with release probabilities initialised U(p_min, 1)."""
    sec = config["energy"]
    runs = []
    sweep = sec.get("fixedp_sweep") or {}
    if sweep and sweep.get("enabled", True):
        base = sec["models"][sweep.get("model", "fixedp")]
        wd = float(sweep["weight_decay"])
        for p in sweep["ps"]:
            for scale in sweep["lr_scales"]:
                lr = round(float(scale) * float(p), 10)
                for seed in sweep.get("seeds") or seeds_for(config, "energy"):
                    spec = base_spec(config, "energy", method_name("fixedp", p=p, lr=lr, wd=wd), sec["benchmark"], seed)
                    spec.update(model={**copy.deepcopy(base), "p": float(p), "lr": lr, "weight_decay": wd},
                                model_name="fixedp", weight_decay=wd, fixed_p=float(p), lr=lr, lr_scale=float(scale),
                                energy_group="fixedp_sweep", epochs=sec["epochs"], eval_every=sec.get("eval_every", 0))
                    runs.append(finalise(spec, core))
    uni = sec.get("uniform_init") or {}
    if uni and uni.get("enabled", True):
        base = sec["models"][uni.get("model", "presyn")]
        wd = float(uni["weight_decay"])
        for seed in uni.get("seeds") or seeds_for(config, "energy"):
            spec = base_spec(config, "energy", method_name("presyn-uniform", wd=wd), sec["benchmark"], seed)
            spec.update(model={**copy.deepcopy(base), "p_init": "uniform", "weight_decay": wd},
                        model_name="presyn-uniform", weight_decay=wd, energy_group="uniform_init",
                        epochs=sec["epochs"], eval_every=sec.get("eval_every", 0))
            runs.append(finalise(spec, core))
    return runs


def robustness_method(model_name: str, variant: dict, wd: float) -> str:
    """Method of a model-robustness run: 'presyn' + {p_up: 0.0525, p_down: 0.0525} at wd 0.01 ->
    'presyn_pup0.0525_pdown0.0525_wd0.01'. The path spells the values, not the variant's name: renaming a
    variant moves nothing, and two variants with the same values collide (``all_runs`` refuses that)."""
    return method_name(model_name, pup=variant["p_up"], pdown=variant["p_down"], wd=wd)


def robustness_variants(config: dict) -> dict[str, dict]:
    """``energy.robustness.variants`` when the section (and the energy experiment) is enabled, else {}."""
    sec = config.get("energy") or {}
    rob = sec.get("robustness") or {}
    if not sec.get("enabled", True) or not rob or not rob.get("enabled", True):
        return {}
    return dict(rob.get("variants") or {})


def robustness_runs(config: dict, core: dict | None = None) -> list[dict]:
    """Model robustness (Methods): the presynaptic model (``energy.robustness.model``, a block of
    ``energy.models``) with p_up / p_down replaced by each variant's, at every Fig 1 weight decay x seed
    (``energy_group`` = robustness). The controls are the Fig 1 runs of the other models: p_up / p_down
    never reach them (config/README.md), so no control is retrained."""
    sec = config["energy"]
    variants = robustness_variants(config)
    if not variants:
        return []
    model_name = sec["robustness"].get("model", "presyn")
    base = sec["models"][model_name]
    if base.get("kind") != "presyn":
        raise ValueError(f"energy.robustness.model {model_name!r} is of kind {base.get('kind')!r}; p_up / p_down "
                         f"variants need a model of kind presyn")
    runs = []
    for variant in variants.values():
        for wd in sec["weight_decays"]:
            for seed in seeds_for(config, "energy"):
                spec = base_spec(config, "energy", robustness_method(model_name, variant, wd), sec["benchmark"], seed)
                spec.update(model={**copy.deepcopy(base), "p_up": float(variant["p_up"]), "p_down": float(variant["p_down"]),
                                   "weight_decay": float(wd)},
                            model_name=model_name, weight_decay=float(wd), energy_group="robustness",
                            epochs=sec["epochs"], eval_every=sec.get("eval_every", 0))
                runs.append(finalise(spec, core))
    return runs


# experiment -> "module:function" returning that experiment's run specs from the config.
# Each experiment module registers one line here; imported lazily.
PLANNERS: dict[str, str] = {
    "energy": "presyn.plan:energy_runs",
    "lifelong": "presyn.experiments.lifelong:plan_runs",
    "ablation": "presyn.experiments.ablation:plan_runs",
}


def planner(name: str) -> Callable[[dict], list[dict]]:
    module, func = PLANNERS[name].split(":")
    return getattr(importlib.import_module(module), func)


def run_key(spec: dict) -> str:
    return f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"


def all_runs(config: dict, experiments: Iterable[str] | None = None) -> dict[str, dict]:
    """Every run of the config, keyed by its results path below results/runs/."""
    out = {}
    for name in experiments or PLANNERS:
        for spec in planner(name)(config):
            key = run_key(spec)
            if key in out:
                raise ValueError(f"two runs share the path results/runs/{key}; make their method names differ")
            out[key] = spec
    return out
