"""Snakemake entry: Fig 3 / App. fig 2 KS and in/out Pearson statistics at the extra importance cutoffs
-> results/stats/sparsity_cutoffs.csv (names as the 0.9 rows with .cut<c> after the layer)."""

from presyn import logs
from presyn.analysis.sparsity import cutoff_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
out = cutoff_stats(
    read_table(snakemake.input.neurons), read_table(snakemake.input.in_out), int(snakemake.params.representative_seed)
)
for _, row in out[out["kind"] == "test"].iterrows():
    if "seed" not in row["name"].rsplit(".", 1)[-1]:
        log.info("%s: statistic %.4f, p %.3g", row["name"], row["statistic"], row["p_value"])
write_table(out, snakemake.output[0])
