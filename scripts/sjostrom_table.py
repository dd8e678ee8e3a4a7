"""Snakemake entry: verify and parse the two Sjöström files into results/tables/sjostrom_recordings.csv."""

from presyn import logs
from presyn.io import write_table
from presyn.sjostrom.parse import load_recordings
from presyn.sjostrom.sources import verify

log = logs.setup(snakemake.log[0])
try:
    table = load_recordings(verify(snakemake.params.cfg, snakemake.params.raw_dir))
except Exception:
    log.exception("Sjöström recordings")
    raise
log.info("%d synapses (%s)", len(table), table["group"].value_counts().to_dict())
write_table(table, snakemake.output[0])
