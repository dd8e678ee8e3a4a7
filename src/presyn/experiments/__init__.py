"""One module per experiment; ``run`` dispatches a run spec (or a group of them) to its trainer."""

from __future__ import annotations

import importlib
from pathlib import Path

# experiment name -> module with ``train(spec, inputs, out_dir, device)``
TRAINERS = {
    "energy": "presyn.experiments.energy",
    "lifelong": "presyn.experiments.lifelong",
    "ablation": "presyn.experiments.lifelong",  # Fig 5a: the lifelong trainer, variant flags in the model block
}


def run(
    spec: dict | list[dict],
    inputs: dict[str, str],
    out_dir: str | Path | list,
    device: str = "auto",
    threads: int = 1,
) -> dict | None:
    """Train one run (experiment x method x benchmark x seed), or a group of runs of one trainer as stacked
    networks (lists of specs and output folders: the grouped jobs), and write each run's outputs."""
    from presyn.training import resolve_device, set_threads

    specs = spec if isinstance(spec, list) else [spec]
    names = {s["experiment"] for s in specs}
    unknown = sorted(names - set(TRAINERS))
    if unknown:
        raise ValueError(f"unknown experiment {unknown[0]!r}; known: {', '.join(sorted(TRAINERS))}")
    modules = {TRAINERS[n] for n in names}
    if len(modules) != 1:
        raise ValueError(f"one job trains runs of one trainer, not {sorted(modules)}")
    set_threads(threads)
    module = importlib.import_module(modules.pop())
    if isinstance(spec, list):
        return module.train(list(spec), inputs, [Path(d) for d in out_dir], resolve_device(device))
    return module.train(spec, inputs, Path(out_dir), resolve_device(device))
