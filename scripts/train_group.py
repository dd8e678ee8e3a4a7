"""Snakemake entry: train a group of runs in one job as stacked networks (presyn.experiments.run with lists:
the energy or lifelong trainer) and write each run where the `train` rule would."""

from pathlib import Path

from presyn import logs, planning
from presyn.experiments import run

log = logs.setup(snakemake.log[0])
by_key = {planning.run_key(s): s for s in snakemake.params.specs}
out_dirs = [Path(m).parent for m in snakemake.output.metrics]
specs = [by_key["/".join(d.parts[-4:])] for d in out_dirs]  # the spec of each output folder
try:
    timing = run(
        specs, dict(snakemake.input.items()), out_dirs, device=snakemake.params.device, threads=snakemake.threads
    )
except Exception:
    log.exception("training of %d runs failed", len(specs))
    raise
log.info(
    "%d networks: %.3f s per epoch for all (%.3f s per network)",
    len(specs),
    timing["seconds_per_epoch"],
    timing["seconds_per_epoch"] / len(specs),
)
