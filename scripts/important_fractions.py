"""Snakemake entry: App. fig 1d's table: fraction of important synapses per seed, uniform vs default initial p."""

from presyn import logs
from presyn.analysis.synapses import important_fractions
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
write_table(
    important_fractions(
        {"uniform_init": read_table(snakemake.input.uniform), "min_init": read_table(snakemake.input.synapses)}
    ),
    snakemake.output[0],
)
