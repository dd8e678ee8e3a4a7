"""Snakemake entry: App. fig 4 statistics (Pearson r of the size of the relative change vs initial Pr)."""

from presyn import logs
from presyn.io import read_table, write_table
from presyn.sjostrom.analysis import appfig4_stats

log = logs.setup(snakemake.log[0])
rows = appfig4_stats(
    read_table(snakemake.input[0]), n_shuffle=int(snakemake.params.n_shuffle), seed=int(snakemake.params.seed)
)
write_table(rows, snakemake.output[0])
