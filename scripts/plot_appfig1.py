"""Snakemake entry: draw Appendix 1-fig 1 from its stats and the histogram table."""

from presyn import logs
from presyn.figures import appfig1
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
appfig1.draw(
    read_table(snakemake.input.stats),
    read_table(snakemake.input.histograms),
    snakemake.output.pdf,
    snakemake.output.png,
    float(snakemake.params.sweep_wd),
    note,
    published=getattr(snakemake.input, "published", None),
)
