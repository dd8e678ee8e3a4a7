"""Snakemake entry: parse the Sjöström recordings file into results/tables/sjostrom_recordings.csv."""
from pathlib import Path

from presyn import logs
from presyn.io import write_table
from presyn.sjostrom.parse import ColumnMapping, choose_file, load_recordings, verify_checksums

log = logs.setup(snakemake.log[0])
cfg = snakemake.params.cfg
mapping = ColumnMapping.from_config(cfg)
try:
    if snakemake.params.synthetic:
        path = Path(snakemake.input.raw)
        log.warning("using the SYNTHETIC stand-in %s (sjostrom.source = synthetic): NOT Sjöström et al. 2001", path)
    else:
        raw_dir = Path(snakemake.params.raw_dir)
        verify_checksums(raw_dir, snakemake.input.checksums)
        path = choose_file(raw_dir, cfg.get("file"))
    table = load_recordings(path, mapping, synthetic=bool(snakemake.params.synthetic))
except Exception:
    log.exception("Sjöström recordings")
    raise
log.info("%s: %d recordings (%s)", path, len(table), table["group"].value_counts().to_dict())
write_table(table, snakemake.output[0])
