"""Snakemake entry: Fig 2 statistics (synapse-level rows from the table layer, then the lesion rows)."""

from presyn import logs
from presyn.analysis.synapses import fig2_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
write_table(
    fig2_stats(read_table(snakemake.input.synapse_stats), read_table(snakemake.input.lesion)), snakemake.output[0]
)
