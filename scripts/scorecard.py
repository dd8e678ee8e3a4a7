"""Snakemake entry: the reproduction scorecard (results/reproduction.{md,csv,html}).

Inputs: the stats tables of the enabled figures and config/published.yaml. Every number shown comes
from those files; the logic is presyn.scorecard.
"""

import os
from pathlib import Path

from presyn import logs, scorecard, scorecard_page
from presyn.io import atomic_path, write_table
from presyn.provenance import code_version

log = logs.setup(snakemake.log[0])

published = scorecard.load_published(snakemake.input.published)
expected = list(snakemake.params.expected_stats)
stats, missing = scorecard.load_stats(expected)
info = scorecard.RunInfo(
    run_label=snakemake.config.get("run_label", "") or "",
    seeds=list(snakemake.config.get("seeds", [])),
    subset=(snakemake.config.get("data") or {}).get("subset"),
    code_version=code_version(),
    stats_read=[p for p in expected if p not in missing],
    stats_missing=missing,
    disabled=dict(snakemake.params.disabled),
    source=snakemake.params.get("source", "") or "",
)
# published items of figures this workflow does not build at all
registered = set(snakemake.params.registered)
for item in (published.get("numbers") or []) + (published.get("claims") or []):
    if item["figure"] not in registered and item["figure"] not in info.disabled:
        info.disabled[item["figure"]] = "no rule of this workflow builds this figure"
card = scorecard.scorecard(published, stats, info.disabled)
# n and unit of replication of every row, failed claims in words, the misses' notes (issue 33)
card = scorecard_page.annotate(card, published, stats, scorecard_page.load_notes(snakemake.input.get("notes")))
log.info("scorecard: %s", scorecard.summary_line(card))
rules = scorecard.rules_text(published)
figures = dict(snakemake.params.figures)
# links to config/README.md from where the page lands (results/ or reviewer/results/)
repo = Path(snakemake.input.published).resolve().parent.parent
repo_url = os.path.relpath(repo, Path(snakemake.output.html).resolve().parent).replace(os.sep, "/") + "/"
for path, text in (
    (snakemake.output.md, scorecard_page.to_markdown(card, info, figures, rules, repo_url)),
    (snakemake.output.html, scorecard_page.to_html(card, info, figures, rules, repo_url)),
):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
write_table(scorecard.to_csv_frame(card, info), snakemake.output.csv)
