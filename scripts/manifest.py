"""Snakemake entry: write figures/all, the manifest of every figure (and the scorecard) with its sha256."""

from presyn import logs
from presyn.manifest import write_manifest

log = logs.setup(snakemake.log[0])
write_manifest(list(snakemake.input), snakemake.output[0], snakemake.config, left_out=snakemake.params.left_out)
