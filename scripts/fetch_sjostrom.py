"""Snakemake entry: fetch the Sjöström recordings by DOI (Dryad, then Mendeley Data), record checksums."""
import sys

from presyn import logs
from presyn.sjostrom.download import SjostromUnavailableError, fetch

log = logs.setup(snakemake.log[0])
try:
    record, failures = fetch(snakemake.params.cfg, snakemake.params.raw_dir)
except SjostromUnavailableError as exc:  # the message is the instruction; no traceback needed
    log.error("%s", exc)
    sys.exit(1)
except Exception:
    log.exception("Sjöström data")
    raise
for failure in failures:
    log.warning("sjostrom: %s", failure)
log.info("sjostrom: %d file(s) from %s recorded in %s", len(record["files"]), record["source"], snakemake.output[0])
