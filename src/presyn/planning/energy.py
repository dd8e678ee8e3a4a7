"""Energy experiment (Fig 1-3, App. figs 1-2, model robustness): its runs, and the selections the rules read.

Planner: every model x weight decay x seed (Fig 1), the fixed-p sweep (App. fig 1c), the uniform-initial-p runs
(App. fig 1d) and the model-robustness variants. Selectors (``runs``: the whole plan, ``all_runs``): the runs of
one group, the analysed runs of Fig 2 / 3 / App. fig 2, the robustness runs of one variant.
"""

from __future__ import annotations

import copy

from presyn.planning.core import base_spec, by_seed, data_file, finalise, method_name, run_key, seeds_for

ENERGY_EXTRA_KEYS = ("analysis", "fixedp_sweep", "uniform_init", "robustness")  # analysis settings, App. fig 1c/1d
# runs and the model-robustness variants


def plan_runs(config: dict) -> list[dict]:
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
                spec.update(
                    model={**copy.deepcopy(model), "weight_decay": float(wd)},
                    model_name=model_name,
                    weight_decay=float(wd),
                    epochs=sec["epochs"],
                    eval_every=sec.get("eval_every", 0),
                )
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
                    spec.update(
                        model={**copy.deepcopy(base), "p": float(p), "lr": lr, "weight_decay": wd},
                        model_name="fixedp",
                        weight_decay=wd,
                        fixed_p=float(p),
                        lr=lr,
                        lr_scale=float(scale),
                        energy_group="fixedp_sweep",
                        epochs=sec["epochs"],
                        eval_every=sec.get("eval_every", 0),
                    )
                    runs.append(finalise(spec, core))
    uni = sec.get("uniform_init") or {}
    if uni and uni.get("enabled", True):
        base = sec["models"][uni.get("model", "presyn")]
        wd = float(uni["weight_decay"])
        for seed in uni.get("seeds") or seeds_for(config, "energy"):
            spec = base_spec(config, "energy", method_name("presyn-uniform", wd=wd), sec["benchmark"], seed)
            spec.update(
                model={**copy.deepcopy(base), "p_init": "uniform", "weight_decay": wd},
                model_name="presyn-uniform",
                weight_decay=wd,
                energy_group="uniform_init",
                epochs=sec["epochs"],
                eval_every=sec.get("eval_every", 0),
            )
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


def robustness_model(config: dict) -> str:
    """The ``energy.models`` block the robustness variants change (default presyn)."""
    return config["energy"].get("robustness", {}).get("model", "presyn")


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
        raise ValueError(
            f"energy.robustness.model {model_name!r} is of kind {base.get('kind')!r}; p_up / p_down "
            f"variants need a model of kind presyn"
        )
    runs = []
    for variant in variants.values():
        for wd in sec["weight_decays"]:
            for seed in seeds_for(config, "energy"):
                spec = base_spec(config, "energy", robustness_method(model_name, variant, wd), sec["benchmark"], seed)
                spec.update(
                    model={
                        **copy.deepcopy(base),
                        "p_up": float(variant["p_up"]),
                        "p_down": float(variant["p_down"]),
                        "weight_decay": float(wd),
                    },
                    model_name=model_name,
                    weight_decay=float(wd),
                    energy_group="robustness",
                    epochs=sec["epochs"],
                    eval_every=sec.get("eval_every", 0),
                )
                runs.append(finalise(spec, core))
    return runs


# ------------------------------------------------------------------------------------------------ selectors
def energy_specs(runs: dict[str, dict], group: str | None = None) -> dict[str, dict]:
    """Energy runs of one group: None = the Fig 1 grid (models x weight decays), else
    'fixedp_sweep' (App. fig 1c), 'uniform_init' (App. fig 1d) or 'robustness'."""
    return {k: s for k, s in runs.items() if s["experiment"] == "energy" and s.get("energy_group") == group}


def energy_analysis(config: dict) -> dict:
    """``energy.analysis``: which runs Fig 2, 3 and App. fig 2 analyse, and the analyses' settings."""
    return config["energy"]["analysis"]


def analysis_runs(config: dict, runs: dict[str, dict]) -> list[dict]:
    """The analysed runs (Fig 2, 3, App. fig 2), sorted by seed; a clear error when none match."""
    a = energy_analysis(config)
    out = [
        s
        for s in by_seed(energy_specs(runs))
        if s["model_name"] == a["model"] and s["weight_decay"] == float(a["weight_decay"])
    ]
    if not out:
        raise ValueError(
            f"energy.analysis selects model {a['model']!r} at weight decay {a['weight_decay']}, but no such "
            f"energy run exists: add it to energy.models / energy.weight_decays"
        )
    return out


def fig3_spread_runs(config: dict, runs: dict[str, dict]) -> list[dict]:
    """Every Fig 1 grid run of the analysed model (all weight decays x seeds), by weight decay then seed: Fig 3's
    statistics on each show how far the paper's one representative run can fall from another (issue 29)."""
    model = energy_analysis(config)["model"]
    out = [s for s in energy_specs(runs).values() if s["model_name"] == model]
    return sorted(out, key=lambda s: (s["weight_decay"], s["seed"]))


def analysis_data(config: dict, runs: dict[str, dict]) -> str:
    """The processed dataset the analysed runs were trained on (lesion and Fisher read it)."""
    return data_file(analysis_runs(config, runs)[0])


def uniform_runs(runs: dict[str, dict]) -> list[dict]:
    """App. fig 1d's runs (release probabilities initialised uniformly), sorted by seed."""
    out = by_seed(energy_specs(runs, "uniform_init"))
    if not out:
        raise ValueError("App. fig 1d needs energy.uniform_init enabled (the presyn-uniform runs)")
    return out


def representative_seed(config: dict, runs: dict[str, dict]) -> int:
    """``energy.analysis.representative_seed``, else the first analysed run's seed."""
    seed = energy_analysis(config).get("representative_seed")
    return int(seed) if seed is not None else analysis_runs(config, runs)[0]["seed"]


def importance_cutoffs(config: dict) -> list[float]:
    """``energy.analysis.importance_cutoffs`` (the extra cutoffs of the neuron-sparsity tests), [] when unset."""
    return [float(c) for c in (config.get("energy", {}).get("analysis") or {}).get("importance_cutoffs") or []]


def robustness_runs_of(config: dict, runs: dict[str, dict], variant: str | None = None) -> list[dict]:
    """The robustness runs (of one variant: its p_up / p_down), sorted by seed; a clear error when none."""
    variants = robustness_variants(config)
    if not variants:
        raise ValueError("the robustness analysis needs energy.robustness.enabled (and energy.enabled) true")
    out = by_seed(energy_specs(runs, "robustness"))
    if variant is not None:
        if variant not in variants:
            raise ValueError(f"{variant!r} is not a variant of energy.robustness.variants ({', '.join(variants)})")
        v = variants[variant]
        out = [s for s in out if s["model"]["p_up"] == float(v["p_up"]) and s["model"]["p_down"] == float(v["p_down"])]
    return out


def robustness_analysis_runs(config: dict, runs: dict[str, dict], variant: str) -> list[dict]:
    """One variant's runs at energy.analysis.weight_decay (the weight decay Fig 2 analyses), sorted by seed."""
    wd = float(energy_analysis(config)["weight_decay"])
    out = [s for s in robustness_runs_of(config, runs, variant) if s["weight_decay"] == wd]
    if not out:
        raise ValueError(
            f"robustness variant {variant!r} has no run at energy.analysis.weight_decay {wd:g}: "
            f"it must be one of energy.weight_decays"
        )
    return out


def robustness_specs(config: dict, runs: dict[str, dict]) -> dict[str, dict]:
    """Every robustness run keyed by its run key, sorted by seed."""
    return {run_key(s): s for s in robustness_runs_of(config, runs)}
