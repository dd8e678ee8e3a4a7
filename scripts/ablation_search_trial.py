"""Snakemake entry: one trial of the ablation random search -> results/search/<benchmark>/<variant>/trial<i>.json."""

from presyn import logs
from presyn.experiments.ablation import search_trial
from presyn.io import write_json
from presyn.training import resolve_device, set_threads

log = logs.setup(snakemake.log[0])
set_threads(snakemake.threads)
try:
    result = search_trial(snakemake.params.spec, snakemake.input.data, resolve_device(snakemake.params.device))
except Exception:
    log.exception("search trial failed")
    raise
write_json(result, snakemake.output[0])
