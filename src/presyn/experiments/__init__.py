"""One module per experiment; ``run`` dispatches a run spec to its trainer."""

from __future__ import annotations

import importlib
from pathlib import Path

# experiment name -> module with ``train(spec, inputs, out_dir, device)``
TRAINERS = {
    "energy": "presyn.experiments.energy",
    "lifelong": "presyn.experiments.lifelong",
    "ablation": "presyn.experiments.lifelong",  # Fig 5a: the lifelong trainer, variant flags in the model block
}


def run(spec: dict, inputs: dict[str, str], out_dir: str | Path, device: str = "auto", threads: int = 1) -> None:
    """Train one run (experiment x method x benchmark x seed) and write its outputs."""
    from presyn.training import resolve_device, set_threads

    name = spec["experiment"]
    if name not in TRAINERS:
        raise ValueError(f"unknown experiment {name!r}; known: {', '.join(sorted(TRAINERS))}")
    set_threads(threads)
    module = importlib.import_module(TRAINERS[name])
    module.train(spec, inputs, Path(out_dir), resolve_device(device))
