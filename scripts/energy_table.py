"""Snakemake entry: collect every energy run's final metrics into one tidy table."""

from presyn import logs
from presyn.analysis.energy import final_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = final_table(list(snakemake.input.metrics), snakemake.params.specs)
log.info("energy table: %d runs", len(table))
write_table(table, snakemake.output[0])
