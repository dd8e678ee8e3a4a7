"""Snakemake entry: Fig 3 and App. fig 2 statistics (KS true vs shuffled, neuron classes, Pearson in/out)."""
from presyn import logs
from presyn.analysis.sparsity import sparsity_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
out = sparsity_stats(read_table(snakemake.input.neurons), read_table(snakemake.input.in_out),
                     int(snakemake.params.representative_seed))
write_table(out["fig3"], snakemake.output.fig3)
write_table(out["appfig2"], snakemake.output.appfig2)
