"""Snakemake entry: Appendix 1-table 1 (csv + markdown), ours beside the published values."""

import yaml

from presyn import logs
from presyn.analysis.lifelong import apptable1
from presyn.io import atomic_path, read_table, write_table

log = logs.setup(snakemake.log[0])
published = yaml.safe_load(open(snakemake.input.published))
table, md = apptable1(
    read_table(snakemake.input.stats), published, snakemake.params.methods, snakemake.params.benchmarks
)
if snakemake.params.note:
    md = md.replace("\n\n", f"\n\n**{snakemake.params.note}**\n\n", 1)
write_table(table, snakemake.output.csv)
with atomic_path(snakemake.output.md) as tmp:
    tmp.write_text(md)
