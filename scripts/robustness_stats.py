"""Snakemake entry: model-robustness statistics (Fig 1 and Fig 2 stats of every p_up / p_down variant)."""

from presyn import logs
from presyn.analysis.robustness import robustness_stats
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
variants = dict(snakemake.params.variants)
synapse_rows = {v: read_table(p) for v, p in zip(variants, snakemake.input.synapse_stats)}
lesions = {v: read_table(p) for v, p in zip(variants, snakemake.input.lesion)}
rows = robustness_stats(
    read_table(snakemake.input.energy_final),
    read_table(snakemake.input.robustness_final),
    synapse_rows,
    lesions,
    variants,
    model=snakemake.params.model,
)
log.info("robustness stats: %d rows for variants %s", len(rows), ", ".join(variants))
write_table(rows, snakemake.output[0])
