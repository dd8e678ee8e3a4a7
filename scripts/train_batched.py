"""Snakemake entry: train several energy networks in one job (presyn.batched) and write each run."""
from pathlib import Path

from presyn import batched, logs

log = logs.setup(snakemake.log[0])
try:
    specs = snakemake.params.specs
    key = lambda s: f"{s['experiment']}/{s['method']}/{s['benchmark']}/seed{s['seed']}"  # noqa: E731
    by_key = {key(s): s for s in specs}
    out_dirs = [Path(m).parent for m in snakemake.output.metrics]
    ordered = [by_key["/".join(d.parts[-4:])] for d in out_dirs]  # spec of each output folder
    timing = batched.run(ordered, dict(snakemake.input.items()), out_dirs, device=snakemake.params.device,
                         threads=snakemake.threads)
    log.info("batched %d networks: %.3f s per epoch for all (%.3f s per network)", len(specs),
             timing["seconds_per_epoch"], timing["seconds_per_epoch"] / len(specs))
except Exception:
    log.exception("batched training failed")
    raise
