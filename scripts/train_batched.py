"""Snakemake entry: train a group of energy runs in one job (presyn.experiments.energy) and write each run."""

from presyn import logs
from presyn.experiments import energy
from presyn.stacked_job import run_stacked_job

logs.setup(snakemake.log[0])
run_stacked_job(energy.run_group, snakemake, "batched energy job")
