"""The body of a Snakemake job that trains several runs as stacked networks (energy: ``presyn.experiments.energy``,
lifelong: ``presyn.batched_lifelong``): match each output folder to its run spec, train, log the timing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("presyn")


def run_key(spec: dict) -> str:
    return f"{spec['experiment']}/{spec['method']}/{spec['benchmark']}/seed{spec['seed']}"


def run_stacked_job(run: Callable[..., dict], smk: Any, what: str) -> dict:
    """Train the specs of ``smk.params.specs`` with ``run(specs, inputs, out_dirs, device=, threads=)``, in the
    order of the rule's metrics outputs (each folder gets its own run); log seconds per epoch; return the timing."""
    specs = smk.params.specs
    by_key = {run_key(s): s for s in specs}
    out_dirs = [Path(m).parent for m in smk.output.metrics]
    ordered = [by_key["/".join(d.parts[-4:])] for d in out_dirs]  # spec of each output folder
    try:
        timing = run(ordered, dict(smk.input.items()), out_dirs, device=smk.params.device, threads=smk.threads)
    except Exception:
        log.exception("%s training failed", what)
        raise
    log.info(
        "%s, %d networks: %.3f s per epoch for all (%.3f s per network)",
        what,
        len(specs),
        timing["seconds_per_epoch"],
        timing["seconds_per_epoch"] / len(specs),
    )
    return timing
