"""Snakemake entry: every perceptron run's tidy rows -> results/tables/perceptron.csv."""

from presyn import logs
from presyn.analysis.fig5 import perceptron_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = perceptron_table(list(snakemake.input.metrics), snakemake.params.specs)
log.info("perceptron table: %d rows", len(table))
write_table(table, snakemake.output[0])
