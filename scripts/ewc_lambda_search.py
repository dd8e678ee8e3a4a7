"""Snakemake entry: EWC lambda grid search -> validation accuracy per benchmark x lambda, best marked."""
from presyn import logs
from presyn.analysis.lifelong import ewc_search_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
table = ewc_search_table(list(snakemake.input.metrics), snakemake.params.specs)
for _, r in table[table["best"]].iterrows():
    log.info("best EWC lambda for %s: %g (validation mean accuracy %.4f)", r["benchmark"], r["ewc_lambda"], r["validation_mean_accuracy"])
write_table(table, snakemake.output[0])
