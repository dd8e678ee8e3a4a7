"""The perceptron lifelong experiment (Fig 5b, c) and its near-capacity series: the runs and their specs.

Trained by ``presyn.perceptron.train`` (rule ``perceptron_run``), not by the generic train rule. Paths:
``results/runs/perceptron/<method>/random/seed<seed>/``.
"""

from __future__ import annotations

from presyn.provenance import config_hash

BENCHMARK = "random"  # the path component of perceptron runs: results/runs/perceptron/<method>/random/seed<seed>/
SPEC_KEYS = ("repetitions", "n_inputs", "n_tasks", "n_patterns", "passes", "batch_size", "eval_samples", "eval_every")


def _settings(config: dict) -> dict | None:
    """The perceptron section when it is enabled, else None."""
    sec = config.get("perceptron")
    return sec if sec and sec.get("enabled", True) else None


def _run(method: str, model: dict, seed: int, shared: dict) -> tuple[str, dict]:
    """(run key, spec) of one perceptron run; the hash covers the shared settings and the method's block."""
    spec = {
        "experiment": "perceptron",
        "method": method,
        "benchmark": BENCHMARK,
        "seed": int(seed),
        **shared,
        "model": dict(model),
    }
    spec["config_hash"] = config_hash({"section": {**shared, "model": dict(model)}})
    return f"perceptron/{method}/{BENCHMARK}/seed{seed}", spec


def _shared(sec: dict, n_patterns: int | None = None) -> dict:
    shared = {k: sec.get(k, 1 if k == "eval_every" else None) for k in SPEC_KEYS}
    if n_patterns is not None:
        shared["n_patterns"] = int(n_patterns)
    if shared["n_patterns"] % shared["batch_size"]:
        raise ValueError(
            f"perceptron: {shared['n_patterns']} patterns per task is not a multiple of batch_size "
            f"({shared['batch_size']})"
        )
    return shared


def plan_runs(config: dict) -> dict[str, dict]:
    """Every perceptron run of Fig 5 (method x seed), keyed by its path below results/runs/."""
    sec = _settings(config)
    if sec is None:
        return {}
    shared = _shared(sec)
    runs = {}
    for method, model in sec["methods"].items():
        for seed in sec.get("seeds") or config["seeds"]:
            key, spec = _run(method, model, seed, shared)
            runs[key] = spec
    return runs


# ----------------------------------------------------------------------------- near capacity (Methods)
# "for more patterns, when the perceptron gets closer to its maximum capacity of 2N, the average accuracies of
# the stochastic and standard perceptron become more similar": the Fig 5 protocol at other patterns per task.


def capacity_method(method: str, n_patterns: int) -> str:
    """Method name of a near-capacity run: ('presyn', 400) -> 'presyn_patterns400'."""
    return f"{method}_patterns{int(n_patterns)}"


def capacity_settings(config: dict) -> dict | None:
    """``perceptron.capacity`` when it and the perceptron section are enabled, else None."""
    sec = _settings(config)
    cap = (sec or {}).get("capacity") or {}
    return cap if cap and cap.get("enabled", True) and cap.get("n_patterns") else None


def capacity_series(config: dict) -> dict[str, dict]:
    """The near-capacity series: run key -> {spec, method (the Fig 5 method), n_patterns}, every method x
    ``perceptron.capacity.n_patterns`` x seed. At ``n_patterns`` = ``perceptron.n_patterns`` the run is the
    Fig 5 run itself (same key, same spec and hash: nothing is trained twice); every other value is a new
    run ``<method>_patterns<P>`` with only ``n_patterns`` changed (its hash follows from its own settings,
    so the Fig 5 runs' paths and hashes never move)."""
    cap = capacity_settings(config)
    if cap is None:
        return {}
    sec = config["perceptron"]
    base = plan_runs(config)
    series = {}
    for n in sorted({int(n) for n in cap["n_patterns"]}):
        shared = _shared(sec, n)
        for method, model in sec["methods"].items():
            for seed in sec.get("seeds") or config["seeds"]:
                if n == int(sec["n_patterns"]):
                    key = f"perceptron/{method}/{BENCHMARK}/seed{seed}"
                    spec = base[key]
                else:
                    key, spec = _run(capacity_method(method, n), model, seed, shared)
                series[key] = {"spec": spec, "method": method, "n_patterns": n}
    return series


def plan_capacity_runs(config: dict) -> dict[str, dict]:
    """Run key -> spec of every run of the near-capacity series (the Fig 5 runs among them when
    ``perceptron.n_patterns`` is one of ``perceptron.capacity.n_patterns``)."""
    return {key: entry["spec"] for key, entry in capacity_series(config).items()}


# ------------------------------------------------------------------------------------------------ selectors
def perceptron_spec(runs: dict[str, dict], capacity: dict[str, dict], method: str, seed) -> dict:
    """The spec of perceptron run ``method`` / ``seed``: a Fig 5 run (``runs``: ``plan_runs``) or one of the
    near-capacity series (``capacity``: ``capacity_series``)."""
    key = f"perceptron/{method}/{BENCHMARK}/seed{seed}"
    if key in runs:
        return runs[key]
    if key in capacity:
        return capacity[key]["spec"]
    raise ValueError(
        f"results/runs/{key} is not a perceptron run of this config (perceptron.methods / seeds / capacity)"
    )


def perceptron_files(runs: dict[str, dict], filename: str = "metrics.parquet") -> list[str]:
    """One output file of each perceptron run (keyed by run key)."""
    return [f"results/runs/{key}/{filename}" for key in runs]
