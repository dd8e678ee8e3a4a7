"""Snakemake entry: draw App. fig 4 from the recordings table and its stats."""

from presyn import logs
from presyn.figures import appfig4
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
appfig4.draw(
    read_table(snakemake.input.table),
    read_table(snakemake.input.stats),
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    published=getattr(snakemake.input, "published", None),
)
