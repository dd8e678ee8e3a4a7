"""What every planner shares: the run spec's common keys, its config hash, names and paths of runs.

Plain Python (the standard library and ``presyn.provenance.config_hash``): the Snakefile imports it while it
parses the workflow, so it never imports torch, numpy or pandas.
"""

from __future__ import annotations

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
    raise ValueError(
        f"benchmark {benchmark!r} maps to no dataset; known datasets: {sorted(set(BENCHMARK_DATASET.values()))}"
    )


def kind_of(benchmark: str) -> str:
    """'split_mnist' -> 'split', 'perm_fashion' -> 'perm', 'cont_perm_mnist' -> 'cont_perm'."""
    for kind in ("cont_perm", "perm", "split"):
        if benchmark.startswith(kind + "_"):
            return kind
    raise ValueError(f"benchmark {benchmark!r} is not a lifelong benchmark (split_*, perm_*, cont_perm_*)")


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


# ------------------------------------------------------------------------------------ names and paths of runs
def run_key(spec: dict) -> str:
    return f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"


def run_dir(spec: dict) -> str:
    """results/runs/<experiment>/<method>/<benchmark>/seed<seed>"""
    return f"results/runs/{run_key(spec)}"


def run_files(specs, filename: str = "metrics.parquet") -> list[str]:
    """One output file of each run (a list of specs, or a dict of them), in their order."""
    return [f"{run_dir(s)}/{filename}" for s in (specs.values() if isinstance(specs, dict) else specs)]


def run_seeds(specs: list[dict]) -> list[int]:
    return [s["seed"] for s in specs]


def data_file(spec: dict) -> str:
    """The processed dataset a run reads."""
    return f"data/processed/{spec['dataset']['name']}.npz"


def by_seed(specs: dict[str, dict]) -> list[dict]:
    """The specs sorted by seed (stable: runs of one seed keep their order)."""
    return [specs[k] for k in sorted(specs, key=lambda k: specs[k]["seed"])]


def of_experiment(runs: dict[str, dict], experiment: str) -> dict[str, dict]:
    """The runs of one experiment, keyed as in ``runs``."""
    return {k: s for k, s in runs.items() if s["experiment"] == experiment}
