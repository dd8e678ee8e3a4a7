"""Snakemake entry (reviewer mode): every stats table and the scorecard rebuilt from the reference bundle must
equal the bundle's (stats: every column, floats to presyn.bundle.RTOL; scorecard: verdict and our numbers; figures:
pixel by pixel, presyn.bundle.compare_figures)."""

import sys
from pathlib import Path

from presyn import bundle, logs
from presyn.io import atomic_path

log = logs.setup(snakemake.log[0])
bdir = snakemake.config["reference_bundle"]
diffs, new = bundle.compare(bdir, Path("."))
diffs += bundle.compare_figures(bdir, Path("."))  # every shipped figure against its rebuild (issue 30)
lines = [f"bundle {bdir} (code {bundle.read_manifest(bdir)['code_version']}) vs this rebuild: {len(diffs)} differences"]
lines += [f"DIFF {d}" for d in diffs]
lines += [f"NEW {f}: {len(keys)} rows the bundle does not have: {', '.join(keys[:10])}" for f, keys in new.items()]
for line in lines:
    (log.error if line.startswith("DIFF") else log.info)(line)
if diffs:
    sys.exit(
        f"the analysis code no longer turns the bundle's tables into the bundle's stats / verdicts "
        f"({len(diffs)} differences, first: {diffs[0]}); fix the analysis, or, if the change is intended, refresh the "
        f"bundle's analysis layer (snakemake bundle_reanalyse --configfile config/reviewer.yaml) or rebuild it "
        f"from a full run (snakemake reference_bundle)"
    )
with atomic_path(snakemake.output[0]) as tmp:
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
