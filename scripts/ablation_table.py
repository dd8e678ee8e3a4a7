"""Snakemake entry: one row per ablation run (final mean accuracy over tasks) -> results/tables/ablation.csv."""

from presyn import logs
from presyn.analysis.fig5 import ablation_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = ablation_table(list(snakemake.input.metrics), snakemake.params.specs)
log.info("ablation table: %d runs", len(table))
write_table(table, snakemake.output[0])
