"""Snakemake entry: train several energy networks in one job (presyn.batched) and write each run."""

from presyn import batched, logs
from presyn.stacked_job import run_stacked_job

logs.setup(snakemake.log[0])
run_stacked_job(batched.run, snakemake, "batched energy job")
