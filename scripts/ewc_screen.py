"""Snakemake entry: EWC search stage 1 -> held-out score of every screened point; the best per benchmark."""

from presyn import logs
from presyn.analysis.lifelong import ewc_search_rows
from presyn.experiments.ewc_search import scores_table, top_points
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
screen = scores_table(ewc_search_rows(list(snakemake.input.metrics), snakemake.params.specs))
top = top_points(screen, int(snakemake.params.confirm_top))
for _, r in top.iterrows():
    log.info(
        "screen top for %s: %s lr %g lambda %g fisher %s reset %s (held-out %.4f)",
        r["benchmark"],
        r["optimizer"],
        r["lr"],
        r["ewc_lambda"],
        r["fisher"],
        r["reset_optimizer"],
        r["score"],
    )
write_table(screen, snakemake.output.screen)
write_table(top, snakemake.output.top)
