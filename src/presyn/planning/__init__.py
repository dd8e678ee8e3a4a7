"""The planning layer: config -> every run spec, and every selection of runs that the workflow's rules read.

Pure Python: no torch, numpy or pandas (the Snakefile imports it while it parses the workflow; a test checks
that ``import presyn.planning`` leaves torch unimported). One module per experiment, each with its planner
(``plan_runs(config)``) and its selectors (``f(config, runs)`` or ``f(runs)``, ``runs``: ``all_runs(config)``):

    core        base spec, config hash, method names (``method_name``: the one spelling of variants in paths),
                run keys and paths, ``dataset_of``, ``kind_of``, ``by_seed``
    energy      Fig 1 grid, fixed-p sweep, uniform initial p, model-robustness variants; the analysed runs
    lifelong    figure runs, continuous stream, BGD evidence; figure / search / evidence selections
    ewc_search  the EWC search's screen and confirm runs
    ablation    Fig 5a variants, the random search's trial specs
    perceptron  Fig 5b, c and the near-capacity series (trained by their own rule, so not in ``all_runs``)

The trainers (``presyn.experiments``, ``presyn.perceptron``) read the specs planned here.
"""

from __future__ import annotations

from collections.abc import Iterable

from presyn.planning import ablation, energy, ewc_search, lifelong, perceptron
from presyn.planning.ablation import search_data, search_spec, search_target, search_trial_files
from presyn.planning.core import (
    BENCHMARK_DATASET,
    base_spec,
    by_seed,
    data_file,
    dataset_block,
    dataset_of,
    finalise,
    fmt_number,
    kind_of,
    method_name,
    of_experiment,
    run_dir,
    run_files,
    run_key,
    run_seeds,
    seeds_for,
)
from presyn.planning.energy import (
    analysis_data,
    analysis_runs,
    energy_analysis,
    energy_specs,
    fig3_spread_runs,
    importance_cutoffs,
    representative_seed,
    robustness_analysis_runs,
    robustness_method,
    robustness_model,
    robustness_runs,
    robustness_runs_of,
    robustness_specs,
    robustness_variants,
    uniform_runs,
)
from presyn.planning.lifelong import bgd_evidence_specs, ewc_search_runs, lifelong_runs
from presyn.planning.perceptron import capacity_series, perceptron_files, perceptron_spec

EXPERIMENTS = ("energy", "lifelong", "ablation")  # what ``all_runs`` plans (the generic train rule's experiments)


def all_runs(config: dict, experiments: Iterable[str] | None = None) -> dict[str, dict]:
    """Every run of the config (of ``experiments`` only, in that order, when given), keyed by its results path
    below results/runs/. The perceptron's runs are planned apart (``perceptron.plan_runs``): their own rule."""
    planners = {"energy": energy.plan_runs, "lifelong": lifelong.plan_runs, "ablation": ablation.plan_runs}
    unknown = [name for name in experiments or () if name not in planners]
    if unknown:
        raise ValueError(f"no planner for {unknown}; known: {', '.join(EXPERIMENTS)}")
    out = {}
    for name in experiments or EXPERIMENTS:
        for spec in planners[name](config):
            key = run_key(spec)
            if key in out:
                raise ValueError(f"two runs share the path results/runs/{key}; make their method names differ")
            out[key] = spec
    return out


def perceptron_runs(config: dict) -> dict[str, dict]:
    """Every perceptron run of Fig 5, keyed by its path below results/runs/."""
    return perceptron.plan_runs(config)


__all__ = [
    "BENCHMARK_DATASET",
    "EXPERIMENTS",
    "ablation",
    "all_runs",
    "analysis_data",
    "analysis_runs",
    "base_spec",
    "bgd_evidence_specs",
    "by_seed",
    "capacity_series",
    "core",
    "data_file",
    "dataset_block",
    "dataset_of",
    "energy",
    "energy_analysis",
    "energy_specs",
    "fig3_spread_runs",
    "ewc_search",
    "ewc_search_runs",
    "finalise",
    "fmt_number",
    "importance_cutoffs",
    "kind_of",
    "lifelong",
    "lifelong_runs",
    "method_name",
    "of_experiment",
    "perceptron",
    "perceptron_files",
    "perceptron_runs",
    "perceptron_spec",
    "representative_seed",
    "robustness_analysis_runs",
    "robustness_method",
    "robustness_model",
    "robustness_runs",
    "robustness_runs_of",
    "robustness_specs",
    "robustness_variants",
    "run_dir",
    "run_files",
    "run_key",
    "run_seeds",
    "search_data",
    "search_spec",
    "search_target",
    "search_trial_files",
    "seeds_for",
    "uniform_runs",
]
