"""Snakemake entry: one perceptron run (method x seed, all repetitions vectorised) -> its three run files."""

from pathlib import Path

from presyn import logs
from presyn.perceptron import train
from presyn.training import set_threads

log = logs.setup(snakemake.log[0])
set_threads(snakemake.threads)
try:
    train(snakemake.params.spec, {}, Path(snakemake.output.metrics).parent)
except Exception:
    log.exception("perceptron run failed")
    raise
