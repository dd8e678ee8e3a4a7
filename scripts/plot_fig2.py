"""Snakemake entry: draw Fig 2 from its histogram table and stats."""

from presyn import logs
from presyn.figures import fig2
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
fig2.draw(
    read_table(snakemake.input.histograms),
    read_table(snakemake.input.stats),
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    snakemake.params.what,
    published=getattr(snakemake.input, "published", None),
)
