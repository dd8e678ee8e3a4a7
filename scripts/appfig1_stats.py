"""Snakemake entry: App. fig 1 statistics (MI per synaptic / neuronal energy, fixed-p sweep, uniform init)."""

from presyn import logs
from presyn.analysis.synapses import appfig1_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
i = snakemake.input
write_table(
    appfig1_stats(read_table(i.energy_final), read_table(i.sweep), read_table(i.fractions)), snakemake.output[0]
)
