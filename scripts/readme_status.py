"""Snakemake entry: README's "where the reproduction stands" section, generated from the reference bundle."""

from pathlib import Path

from presyn import bundle, logs
from presyn.io import atomic_path

log = logs.setup(snakemake.log[0])
readme = Path(snakemake.params.readme)
text = bundle.replace_section(
    readme.read_text(encoding="utf-8"), bundle.status_section(snakemake.params.bundle, snakemake.params.bundle)
)
with atomic_path(readme) as tmp:
    tmp.write_text(text, encoding="utf-8")
log.info("README section regenerated from %s", snakemake.params.bundle)
