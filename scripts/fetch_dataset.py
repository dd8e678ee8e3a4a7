"""Snakemake entry: fetch, verify and store one dataset (presyn.data)."""

from pathlib import Path

from presyn import logs
from presyn.data import DatasetSpec, digests, fetch, save_processed

log = logs.setup(snakemake.log[0])
name = snakemake.wildcards.dataset
cfg = snakemake.params.dataset
spec = DatasetSpec(
    name=name, sources=list(cfg["sources"]), sha256=dict(cfg.get("sha256") or {}), urls=list(cfg.get("urls") or [])
)
try:
    arrays, source, failures = fetch(spec, Path(snakemake.params.raw_dir))
except Exception:
    log.exception("dataset %s", name)
    raise
for failure in failures:
    log.warning("%s: %s", name, failure)
log.info("%s: verified from %s: %s", name, source, {k: v.shape for k, v in arrays.items()})
save_processed(arrays, Path(snakemake.output[0]), {"dataset": name, "source": source, "sha256": digests(arrays)})
