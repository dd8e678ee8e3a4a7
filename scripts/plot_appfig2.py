"""Snakemake entry: draw Appendix 1-fig 2 from the neuron tables and stats."""

from presyn import logs
from presyn.figures import appfig2
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
i = snakemake.input
appfig2.draw(
    read_table(i.neurons),
    read_table(i.in_out),
    read_table(i.stats),
    int(snakemake.params.representative_seed),
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    published=getattr(snakemake.input, "published", None),
)
