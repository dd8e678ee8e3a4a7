"""Snakemake entry: Fig 2's synapse-level statistics from a per-synapse table (the rows the bundle ships)."""

from presyn import logs
from presyn.analysis.synapses import synapse_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
rows = synapse_stats(read_table(snakemake.input[0]), figure=snakemake.params.figure)
log.info("synapse statistics: %d rows (figure %s)", len(rows), snakemake.params.figure)
write_table(rows, snakemake.output[0])
