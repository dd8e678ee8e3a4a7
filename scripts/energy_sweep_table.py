"""Snakemake entry: final metrics of the fixed-p sweep runs (App. fig 1c).

With energy.fixedp_sweep.enabled: false there are no runs: the table is empty and App. fig 1c says
"not run" (the other panels still build)."""

import pandas as pd

from presyn import logs
from presyn.analysis.synapses import SWEEP_COLUMNS, sweep_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
metrics = list(snakemake.input.metrics)
if metrics:
    table = sweep_table(metrics, snakemake.params.specs)
else:
    log.warning("fixed-p sweep disabled (energy.fixedp_sweep.enabled: false): App. fig 1c will say 'not run'")
    table = pd.DataFrame(columns=SWEEP_COLUMNS)
log.info("fixed-p sweep: %d runs", len(table))
write_table(table, snakemake.output[0])
