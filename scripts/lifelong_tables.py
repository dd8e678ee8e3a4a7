"""Snakemake entry: collect the lifelong runs into per-epoch and final tidy tables."""

from presyn import logs
from presyn.analysis.lifelong import collect
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
epochs, final = collect(list(snakemake.input.metrics))
log.info("lifelong tables: %d runs", len(final[final["task"] == "all"]))
write_table(epochs, snakemake.output.epochs)
write_table(final, snakemake.output.final)
