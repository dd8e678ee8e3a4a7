"""Snakemake entry: the reproduction scorecard (results/reproduction.{md,csv,html}).

Inputs: the stats tables of the enabled figures and config/published.yaml. Every number shown comes
from those files; the logic is presyn.scorecard.
"""
from pathlib import Path

from presyn import logs, scorecard
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
log.info("scorecard: %s", scorecard.summary_line(card))
rules = scorecard.rules_text(published)
figures = dict(snakemake.params.figures)
for path, text in ((snakemake.output.md, scorecard.to_markdown(card, info, figures, rules)),
                   (snakemake.output.html, scorecard.to_html(card, info, figures, rules))):
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
write_table(scorecard.to_csv_frame(card, info), snakemake.output.csv)
