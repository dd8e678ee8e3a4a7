"""Snakemake entry: near-capacity perceptron statistics (final accuracy per method and patterns per task, the
presyn - standard gap, its change) -> results/stats/perceptron_capacity.csv."""

from presyn import logs
from presyn.analysis.capacity import capacity_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
out = capacity_stats(read_table(snakemake.input[0]))
for _, row in out[out["name"].str.contains(r"\.gap\.patterns|gap_change")].iterrows():
    log.info(
        "%s: %.4f +- %.4f (p %s)",
        row["name"],
        row["value"],
        row["sem"] if row["sem"] == row["sem"] else float("nan"),
        row["p_value"],
    )
write_table(out, snakemake.output[0])
