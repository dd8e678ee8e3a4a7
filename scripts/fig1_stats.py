"""Snakemake entry: Fig 1 statistics (mean +- SEM, best MI/energy, t-tests)."""

from presyn import logs
from presyn.analysis.energy import fig1_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
write_table(fig1_stats(read_table(snakemake.input[0])), snakemake.output[0])
