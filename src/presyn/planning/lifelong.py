"""Lifelong learning (Fig 4, App. table 1, App. fig 3): its runs, and the selections the rules read.

Planner: method x benchmark x seed (+ the continuous stream, the EWC search runs and the BGD evidence runs);
the spec layout is described in ``presyn.experiments.lifelong``, whose trainer reads it. Selectors (``runs``:
the whole plan, ``all_runs``): the figure runs, the EWC search runs of one stage, the BGD evidence runs.
"""

from __future__ import annotations

from presyn.curves import curve_lists
from presyn.planning.core import base_spec, finalise, kind_of, seeds_for
from presyn.planning.ewc_search import plan_search_runs


def model_block(method_cfg: dict, benchmark: str) -> dict:
    """A method's model block with its per-benchmark overrides."""
    per = method_cfg.get("per_benchmark") or {}
    return {**method_cfg["model"], **(per.get(benchmark) or {})}


def records_curve(sec: dict, method: str, benchmark: str) -> bool:
    """Whether a run evaluates its curve tasks between task ends: only the benchmarks and methods a figure
    plots per epoch (Fig 4b: presyn and no_consolidation on Split MNIST); null lists = every run."""
    benchmarks, methods = curve_lists(sec)
    return (benchmarks is None or benchmark in benchmarks) and (methods is None or method in methods)


# Inputs as the BGD fork fed them at other commits (its utils/datasets.py): raw pixels in [0, 1]; or 28 x 28
# images zero-padded to 32 x 32 and normalised with the padded images' statistics (fork before 61cd41a).
PADDED32_NORMALISATION = {"mnist": (0.1000, 0.2752), "fashion": (72.94035223214286 / 255, 90.0211833054075 / 255)}


def inputs_block(dataset: dict, inputs: str | None) -> dict:
    """The run's dataset block for a method's ``inputs``: normalised (default: unchanged), raw, padded32."""
    if inputs in (None, "normalised"):
        return dataset
    if inputs == "raw":
        return {**dataset, "mean": 0.0, "std": 1.0}
    if inputs == "padded32":
        mean, std = PADDED32_NORMALISATION[dataset["name"]]
        return {**dataset, "mean": mean, "std": std, "pad": 2}
    raise ValueError(f"inputs must be normalised, raw or padded32, not {inputs!r}")


def lifelong_spec(
    config: dict, sec: dict, method: str, method_cfg: dict, benchmark: str, seed: int, model: dict
) -> dict:
    """One lifelong run's spec (before its hash): ``base_spec`` + the task stream, protocol and model."""
    spec = base_spec(config, "lifelong", method, benchmark, seed)
    kind = kind_of(benchmark)
    spec.update(
        model=model,
        batch_size=int(method_cfg.get("batch_size") or spec["batch_size"]),
        n_tasks=int(sec["n_tasks"]["split" if kind == "split" else "perm"]),
        epochs_per_task=int(sec["epochs_per_task"]),
        joint=bool(method_cfg.get("joint", False)),
        joint_epochs=int(sec["joint_epochs"]),
        blend=float(sec.get("blend", 0.25)),
        eval_every=int(sec.get("eval_every", 1)) if records_curve(sec, method, benchmark) else 0,
        curve_tasks=sec.get("curve_tasks", [1]),
        task_end_eval=bool(sec.get("task_end_eval", False)),
        holdout=0,
    )
    spec["dataset"] = inputs_block(spec["dataset"], method_cfg.get("inputs"))
    return spec


def bgd_evidence_runs(config: dict, sec: dict) -> list[dict]:
    """BGD variants of ``lifelong.bgd_evidence`` (method ``bgd-<variant>``): the BGD block of ``methods.bgd``
    with the variant's model keys and inputs, on one benchmark; target results/lifelong/bgd_evidence.csv."""
    ev = sec.get("bgd_evidence")
    if not ev or "bgd" not in sec["methods"]:
        return []
    base = sec["methods"]["bgd"]
    runs = []
    for name, variant in ev["variants"].items():
        mcfg = {**base, "inputs": variant.get("inputs", base.get("inputs"))}
        model = {**model_block(base, ev["benchmark"]), **(variant.get("model") or {})}
        for seed in variant.get("seeds", ev["seeds"]):  # a variant may name its own seeds (a seed-spread check)
            spec = lifelong_spec(config, sec, f"bgd-{name}", mcfg, ev["benchmark"], seed, model)
            spec["diagnostic"] = "bgd_evidence"
            runs.append(spec)
    return runs


def plan_runs(config: dict) -> list[dict]:
    """Every lifelong run: method x benchmark x seed (+ the continuous stream, + the EWC search and the BGD
    evidence runs, which are targets outside figures/all)."""
    sec = config.get("lifelong")
    if not sec or not sec.get("enabled", True):
        return []
    runs = []
    seeds = seeds_for(config, "lifelong")
    cont = sec.get("continuous") or {}
    for method, mcfg in sec["methods"].items():
        benchmarks = list(sec["benchmarks"])
        if cont.get("benchmark") and method in cont.get("methods", []):
            benchmarks.append(cont["benchmark"])
        for benchmark in benchmarks:
            for seed in seeds:
                runs.append(lifelong_spec(config, sec, method, mcfg, benchmark, seed, model_block(mcfg, benchmark)))
    ewc = sec["methods"].get("ewc", {})
    runs += plan_search_runs(
        config,
        sec,
        lambda method, benchmark, seed, model: lifelong_spec(config, sec, method, ewc, benchmark, seed, model),
    )
    runs += bgd_evidence_runs(config, sec)
    return [finalise(spec) for spec in runs]  # hash of everything the run is trained with (but its seed)


# ------------------------------------------------------------------------------------------------ selectors
def lifelong_runs(runs: dict[str, dict], search: bool = False) -> dict[str, dict]:
    """The figure runs (search=False), or the EWC search runs; never the diagnostic (BGD evidence) runs."""
    return {
        k: s
        for k, s in runs.items()
        if s["experiment"] == "lifelong" and bool(s.get("search")) == search and not s.get("diagnostic")
    }


def ewc_search_runs(runs: dict[str, dict], stage: str, points: set | None = None) -> dict[str, dict]:
    """The EWC search runs of one stage (screen / confirm); ``points``: only these (benchmark, grid index) pairs
    (the confirm stage runs the points the screen ranked best)."""
    return {
        k: s
        for k, s in lifelong_runs(runs, search=True).items()
        if s["search"]["stage"] == stage and (points is None or (s["benchmark"], s["search"]["index"]) in points)
    }


def bgd_evidence_specs(config: dict, runs: dict[str, dict]) -> dict[str, dict]:
    """The BGD evidence runs plus the default bgd runs of the same benchmark and seeds."""
    ev = config.get("lifelong", {}).get("bgd_evidence") or {}
    return {
        k: s
        for k, s in runs.items()
        if s["experiment"] == "lifelong"
        and (
            s.get("diagnostic") == "bgd_evidence"
            or (s["method"] == "bgd" and s["benchmark"] == ev.get("benchmark") and s["seed"] in ev.get("seeds", []))
        )
    }
