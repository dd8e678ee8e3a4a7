"""Replace tables of the reference bundle by those of a partial rerun (presyn.bundle.update_tables).

    .venv/bin/python scripts/bundle_update_tables.py --table results/tables/ablation.csv=path/to/new.csv \
        --config-section ablation --note "which runs were rerun, and how the rows kept from the old table were checked"

``--config-section`` copies that top-level section of config/config.yaml into the bundle's config (the runs behind
the new table were made with it). Afterwards refresh stats, scorecard and figures:
``snakemake --cores 2 bundle_reanalyse --configfile config/reviewer.yaml``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from presyn.bundle import update_tables

ROOT = Path(__file__).resolve().parents[1]

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--bundle", default=str(ROOT / "reference" / "bundle"))
ap.add_argument("--table", action="append", required=True, help="<path in the bundle>=<new file>")
ap.add_argument("--config-section", action="append", default=[], help="top-level key of config/config.yaml")
ap.add_argument("--note", required=True)
args = ap.parse_args()
config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
tables = dict(t.split("=", 1) for t in args.table)
update_tables(args.bundle, tables, args.note, {k: config[k] for k in args.config_section} or None, repo=ROOT)
print(
    f"updated {sorted(tables)} in {args.bundle}; now run: snakemake --cores 2 bundle_reanalyse --configfile config/reviewer.yaml"
)
