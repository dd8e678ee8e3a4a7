"""Snakemake entry: per-synapse table of the analysed energy runs (p, initial p, w_bar, Fisher)."""

import time

import torch

from presyn import logs
from presyn.analysis.synapses import load_state, synapse_table
from presyn.data import load_processed
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
states = {seed: load_state(path) for seed, path in zip(snakemake.params.seeds, snakemake.input.states)}
x = y = None
if snakemake.params.fisher:
    ds = snakemake.params.dataset
    data = load_processed(snakemake.input.data, ds["mean"], ds["std"], "cpu", ds.get("subset"))
    x, y = data.x_test, data.y_test
t0 = time.perf_counter()
table = synapse_table(states, x, y, snakemake.params.important_p, snakemake.params.get("fisher_chunk", 500))
log.info(
    "synapse table: %d synapses x %d seeds in %.1fs (Fisher on %s test items: %s)",
    len(table) // max(len(states), 1),
    len(states),
    time.perf_counter() - t0,
    None if x is None else len(x),
    snakemake.params.fisher,
)
write_table(table, snakemake.output[0])
