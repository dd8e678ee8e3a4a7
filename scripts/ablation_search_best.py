"""Snakemake entry: the best trial of an ablation random search -> results/search/<benchmark>/<variant>.yaml."""

import json

import yaml

from presyn import logs
from presyn.experiments.ablation import best_trial
from presyn.io import atomic_path

log = logs.setup(snakemake.log[0])
result = best_trial([json.loads(open(p).read()) for p in snakemake.input.trials])
log.info("best of %d trials: %s (score %.4f)", result["n_trials"], result["best"], result["best_score"])
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text(
        "# random search of the presynaptic ablation (presyn.experiments.ablation); point\n"
        f"# ablation.tuned.{result['benchmark']}.{result['variant']} at this file to use `best`\n"
        + yaml.safe_dump(result, sort_keys=False)
    )
