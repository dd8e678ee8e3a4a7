"""Snakemake entry: draw Appendix 1-fig 3 from its stats table."""

from presyn import logs
from presyn.figures import appfig3
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
appfig3.draw(
    read_table(snakemake.input.stats),
    snakemake.output.pdf,
    snakemake.output.png,
    snakemake.params.epochs_per_task,
    note,
    published=getattr(snakemake.input, "published", None),
)
