"""Snakemake entry: train several lifelong runs in one job (presyn.batched_lifelong) and write each run."""

from presyn import batched_lifelong, logs
from presyn.stacked_job import run_stacked_job

logs.setup(snakemake.log[0])
run_stacked_job(batched_lifelong.run, snakemake, "stacked lifelong job")
