"""Snakemake entry: train one run (presyn.experiments.run) and write its three outputs."""

from pathlib import Path

from presyn import logs
from presyn.experiments import run

log = logs.setup(snakemake.log[0])
try:
    run(
        spec=snakemake.params.spec,
        inputs=dict(snakemake.input.items()),
        out_dir=Path(snakemake.output.metrics).parent,
        device=snakemake.params.device,
        threads=snakemake.threads,
    )
except Exception:
    log.exception("training failed")
    raise
