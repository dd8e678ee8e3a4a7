"""Snakemake entry: statistics of Fig 4, App. fig 3 and App. table 1 (no plotting)."""

from presyn import logs
from presyn.analysis import lifelong
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
epochs = read_table(snakemake.input.epochs)
final = read_table(snakemake.input.final)
final["task"] = final["task"].astype(str)
epochs["task"] = epochs["task"].astype(str)
p = snakemake.params
write_table(lifelong.fig4_stats(epochs, final, p.fig4_benchmark), snakemake.output.fig4)
write_table(lifelong.appfig3_stats(epochs, final, p.split_benchmark, p.perm_benchmark), snakemake.output.appfig3)
write_table(lifelong.apptable1_stats(final), snakemake.output.apptable1)
