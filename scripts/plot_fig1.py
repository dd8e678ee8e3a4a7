"""Snakemake entry: draw Fig 1 from its stats table."""

from presyn import logs
from presyn.figures import fig1
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
fig1.draw(
    read_table(snakemake.input.stats),
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    published=getattr(snakemake.input, "published", None),
)
