"""Snakemake entry: histogram tables of Fig 2a/c/d and App. fig 1d (pooled over seeds)."""

import pandas as pd

from presyn import logs
from presyn.analysis.synapses import histogram_table
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
table = pd.concat(
    [
        histogram_table(read_table(snakemake.input.synapses)),
        histogram_table(read_table(snakemake.input.uniform), prefix="uniform_"),
    ],
    ignore_index=True,
)
write_table(table, snakemake.output[0])
