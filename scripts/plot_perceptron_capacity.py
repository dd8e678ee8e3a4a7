"""Snakemake entry: draw the perceptron near-capacity figure from its stats."""

from presyn import logs
from presyn.figures import perceptron_capacity
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
perceptron_capacity.draw(
    read_table(snakemake.input.stats),
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    published=getattr(snakemake.input, "published", None),
)
