"""Snakemake entry: draw Fig 4 from its stats table (panel a from real samples of the dataset)."""

from presyn import logs
from presyn.figures import fig4
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
fig4.draw(
    read_table(snakemake.input.stats),
    snakemake.input.data,
    snakemake.output.pdf,
    snakemake.output.png,
    snakemake.params.epochs_per_task,
    note,
    published=getattr(snakemake.input, "published", None),
)
