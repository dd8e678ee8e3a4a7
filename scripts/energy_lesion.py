"""Snakemake entry: lesion curves (low-p-first vs random order) of every analysed run."""

import pandas as pd
import torch

from presyn import logs
from presyn.analysis.lesion import lesion_curve
from presyn.analysis.synapses import load_state
from presyn.data import load_processed
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
torch.set_num_threads(snakemake.threads)
ds = snakemake.params.dataset
data = load_processed(snakemake.input.data, ds["mean"], ds["std"], "cpu", ds.get("subset"))
frames = []
for seed, path in zip(snakemake.params.seeds, snakemake.input.states):
    curve = lesion_curve(
        load_state(path),
        data.x_test,
        data.y_test,
        list(snakemake.params.fractions),
        snakemake.params.n_samples,
        int(seed),
        jitter=snakemake.params.jitter,
        random_orders=int(snakemake.params.random_orders),
    )
    log.info("seed %s: %s", seed, curve.to_dict("records"))
    frames.append(curve.assign(seed=int(seed)))
write_table(pd.concat(frames, ignore_index=True), snakemake.output[0])
