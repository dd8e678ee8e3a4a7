"""Snakemake entry: final metrics of the fixed-p sweep runs (App. fig 1c)."""
from presyn import logs
from presyn.analysis.synapses import sweep_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = sweep_table(list(snakemake.input.metrics), snakemake.params.specs)
log.info("fixed-p sweep: %d runs", len(table))
write_table(table, snakemake.output[0])
