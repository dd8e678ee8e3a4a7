"""Snakemake entry: the two Sjöström files from the first source that gives sha256-verified copies."""

import sys

from presyn import logs
from presyn.sjostrom.sources import SjostromUnavailableError, fetch

log = logs.setup(snakemake.log[0])
try:
    record = fetch(snakemake.params.cfg, snakemake.params.raw_dir, snakemake.params.repo_root)
except SjostromUnavailableError as exc:  # the message is the instruction; no traceback needed
    log.error("%s", exc)
    sys.exit(1)
except Exception:
    log.exception("Sjöström data")
    raise
for failure in record["failures"]:
    log.warning("sjostrom: %s", failure)
for name, meta in record["files"].items():
    log.info(
        "sjostrom: %s (%s) from %s (%s), sha256 %s",
        name,
        meta["group"].upper(),
        meta["source"],
        meta["from"],
        meta["sha256"],
    )
