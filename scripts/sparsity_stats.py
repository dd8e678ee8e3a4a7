"""Snakemake entry: Fig 3 and App. fig 2 statistics (KS true vs shuffled, neuron classes, Pearson in/out)."""

import pandas as pd

from presyn import logs, stats
from presyn.analysis.sparsity import run_spread_rows, sparsity_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
out = sparsity_stats(
    read_table(snakemake.input.neurons), read_table(snakemake.input.in_out), int(snakemake.params.representative_seed)
)
fig3 = out["fig3"]
if getattr(snakemake.input, "runs", None):  # the spread over every energy run (issue 29)
    fig3 = pd.concat([fig3, stats.frame(run_spread_rows(read_table(snakemake.input.runs)))], ignore_index=True)
write_table(fig3, snakemake.output.fig3)
write_table(out["appfig2"], snakemake.output.appfig2)
