"""Snakemake entry: draw the model-robustness appendix figure from its stats and the default model's Fig 1 / Fig 2 stats."""

from presyn import logs
from presyn.figures import appfig_robustness
from presyn.io import read_table

log = logs.setup(snakemake.log[0])
note = f" [{snakemake.params.note}]" if snakemake.params.note else ""
appfig_robustness.draw(
    read_table(snakemake.input.stats),
    read_table(snakemake.input.fig1),
    read_table(snakemake.input.fig2),
    dict(snakemake.params.variants),
    dict(snakemake.params.default),
    snakemake.output.pdf,
    snakemake.output.png,
    title_note=note,
    analysis_wd=snakemake.params.analysis_wd,
    published=getattr(snakemake.input, "published", None),
)
