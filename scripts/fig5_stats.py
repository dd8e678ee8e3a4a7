"""Snakemake entry: Fig 5 statistics (ablation summaries and t-tests vs full; perceptron) -> results/stats/fig5.csv."""

from presyn import logs
from presyn.analysis.fig5 import fig5_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
ablation = read_table(snakemake.input.ablation) if "ablation" in snakemake.input.keys() else None
perceptron = read_table(snakemake.input.perceptron) if "perceptron" in snakemake.input.keys() else None
out = fig5_stats(ablation, perceptron)
for _, row in out[out["kind"] == "test"].iterrows():
    log.info(
        "%s: value %.4f, t %.3f, p %.3g (%s)",
        row["name"],
        row["value"],
        row["statistic"],
        row["p_value"],
        row["detail"],
    )
write_table(out, snakemake.output[0])
