"""Snakemake entry: draw Fig 5 from its stats and the perceptron table."""

from presyn import logs
from presyn.analysis.fig5 import task1_curve
from presyn.figures import fig5
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
perceptron = read_table(snakemake.input.perceptron) if "perceptron" in snakemake.input.keys() else None
curve = task1_curve(perceptron) if perceptron is not None else None
fig5.draw(
    read_table(snakemake.input.stats),
    curve,
    perceptron,
    snakemake.output.pdf,
    snakemake.output.png,
    note,
    published=getattr(snakemake.input, "published", None),
)
