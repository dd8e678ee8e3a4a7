"""Snakemake entry: the near-capacity perceptron runs -> results/tables/perceptron_capacity.csv (one row per run x repetition)."""

from presyn import logs
from presyn.analysis.capacity import capacity_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = capacity_table(list(snakemake.input.metrics), snakemake.params.series)
log.info("perceptron capacity table: %d rows, patterns per task %s", len(table), sorted(table["n_patterns"].unique()))
write_table(table, snakemake.output[0])
