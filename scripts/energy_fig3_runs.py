"""Snakemake entry: Fig 3's KS D and in/out Pearson r on every energy run of the analysed model (one row per run;
issue 29: the spread around the paper's one representative run)."""

import pandas as pd

from presyn import logs
from presyn.analysis.sparsity import run_statistics
from presyn.analysis.synapses import load_state, release_probs
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
p = snakemake.params
rows = []
for (wd, seed), path in zip(p.runs, snakemake.input.states):
    row = {
        "weight_decay": float(wd),
        "seed": int(seed),
        **run_statistics(release_probs(load_state(path)), p.important_p, p.shuffle_seed, int(seed), p.n_sd),
    }
    log.info(
        "weight decay %g, seed %d: D = %.4f, r1 = %.4f, r2 = %.4f",
        wd,
        seed,
        row["ks_d_layer2"],
        row["r_in_out_hidden1"],
        row["r_in_out_hidden2"],
    )
    rows.append(row)
write_table(pd.DataFrame(rows).sort_values(["weight_decay", "seed"]), snakemake.output[0])
