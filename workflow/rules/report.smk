# The end of the DAG: the reproduction scorecard (results/reproduction.*), then figures/all, listing every
# figure produced and the scorecard with their sha256 (left_out_figures, scorecard_expected_stats: common.smk).

import os


def scorecard_stats(wildcards):
    """Of those, the ones some rule produces (or that exist): a missing one is 'not run', never a DAG error."""
    return [p for p in scorecard_expected_stats() if os.path.exists(p) or any(r.is_producer(p) for r in workflow.rules)]


def scorecard_figures():
    """figure -> its PNG, for the enabled figures (shown in results/reproduction.html beside their verdicts)."""
    return {
        name: png
        for name, spec in FIGURES.items()
        if section_enabled(spec["section"])
        for png in spec["outputs"]
        if png.endswith(".png")
    }


rule scorecard:
    input:
        stats=scorecard_stats,
        published=repo_file("config/published.yaml"),
        notes=repo_file("config/scorecard_notes.yaml"),
        figures=lambda wildcards: list(scorecard_figures().values()),
    output:
        md="results/reproduction.md",
        csv="results/reproduction.csv",
        html=report(
            "results/reproduction.html",
            caption="../report/scorecard.rst",
            category=REPORT_CATEGORIES["scorecard"],
            subcategory="scorecard (HTML)",
        ),
    params:
        expected_stats=lambda wildcards: scorecard_expected_stats(),
        disabled=lambda wildcards: left_out_figures(),
        registered=lambda wildcards: sorted(FIGURES),
        figures=lambda wildcards: scorecard_figures(),
        source=lambda wildcards: REVIEW["note"] if REVIEW else "",
    log:
        "logs/scorecard.log",
    script:
        "../../scripts/scorecard.py"


rule manifest:
    input:
        figures=all_figures(),
        scorecard="results/reproduction.md",
    output:
        "figures/all",
    params:
        left_out=left_out_figures(),
    log:
        "logs/figures/all.log",
    script:
        "../../scripts/manifest.py"
