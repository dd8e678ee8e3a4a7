# The reference bundle (presyn.bundle): a finished run's tables, stats, scorecard and figures, shipped in the
# repository (reference/bundle/), and reviewer mode, which rebuilds everything from it without training.
#   snakemake --cores 2 reference_bundle                                  (after a full run of figures/all)
#   snakemake --cores 2 readme_status                                     (README's generated section)
#   snakemake --cores 2 figures/fig4.pdf --configfile config/reviewer.yaml  (-> reviewer/figures/fig4.pdf)
#   snakemake --cores 2 bundle_check --configfile config/reviewer.yaml      (every figure + scorecard, compared)
#   snakemake --cores 1 bundle_reanalyse --configfile config/reviewer.yaml  (refresh the bundle's stats, scorecard and
#       figures from its own tables with today's code; tables and the run's code_version untouched; the manifest
#       records analysis_code_version. Then bundle_check passes against the refreshed bundle, and readme_status.)
import re  # noqa: E402

from presyn.bundle import figure_run_keys  # noqa: E402

BUNDLE_DIR = "reference/bundle"


def bundle_tables():
    """The tables the enabled figures (and their stats) read, each once."""
    out = []
    for spec in FIGURES.values():
        if section_enabled(spec["section"]):
            out += [t for t in spec["tables"] if t not in out]
    return out


def bundle_figures():
    """What the bundle shows for eyes: every figure output but the PDFs (the PNGs carry the same drawing)."""
    return [f for f in all_figures() if not f.endswith(".pdf")]


if not REVIEW:

    rule reference_bundle:
        input:
            manifest="figures/all",
            tables=bundle_tables(),
            stats=scorecard_expected_stats(),
            scorecard=["results/reproduction.md", "results/reproduction.csv"],
            figures=bundle_figures(),
        output:
            directory(BUNDLE_DIR),
        params:
            run_keys=lambda w: figure_run_keys(RUNS) + sorted(PERCEPTRON_RUNS) + sorted(PERCEPTRON_CAPACITY),
            left_out=lambda w: left_out_figures(),
            render_dir=lambda w: str(Path("results/bundle_render").resolve()),
            repo=str(REPO),
        # a fixed number, not workflow.cores: under an executor (--profile profiles/slurm) no --cores is given and
        # Snakemake refuses to parse a rule whose threads depend on it; locally threads are capped at --cores
        threads: 4
        log:
            "logs/reference_bundle.log",
        script:
            "../../scripts/reference_bundle.py"

    # no input / output: reads the shipped bundle as it is (never rebuilds it), runs whenever asked for
    rule readme_status:
        params:
            bundle=BUNDLE_DIR,
            readme="README.md",
        log:
            "logs/readme_status.log",
        script:
            "../../scripts/readme_status.py"

else:
    # Reviewer mode: the stats, figure and scorecard rules read the bundle's tables in place (TABLES, common.smk).
    # A table the bundle lacks (a figure its run left out, the manifest's left_out) has only this rule, which says
    # why; it matches no bundled table, and no other rule writes into the bundle, so no rule order is needed.
    _NOT_BUNDLED = sorted(
        {t for spec in FIGURES.values() for t in spec["tables"]} - set(bundle.files_of(REVIEW["manifest"], "table"))
    )

    localrules:
        not_in_bundle,
        bundle_check,
        bundle_reanalyse,

    rule not_in_bundle:
        output:
            f"{TABLES}/{{table}}",
        wildcard_constraints:
            table="|".join(re.escape(t.removeprefix(bundle.TABLES + "/")) for t in _NOT_BUNDLED) or "(?!)",
        run:
            rel = f"{bundle.TABLES}/{wildcards.table}"
            needed_by = [name for name, spec in FIGURES.items() if rel in spec["tables"]]
            raise WorkflowError(bundle.missing_table_message(REVIEW["bundle"], REVIEW["manifest"], rel, needed_by))

    rule bundle_check:
        input:
            "figures/all",
            expected=[f for f in bundle.files_of(REVIEW["manifest"], "expected") if f.endswith(".csv")],
        output:
            "bundle_check.txt",
        log:
            "logs/bundle_check.log",
        script:
            "../../scripts/bundle_check.py"

    # Issue 28: the analysis layer of the shipped bundle, refreshed from this rebuild (never the tables). Needs every
    # figure, stats table and the scorecard of the rebuild; writes into the bundle (presyn.bundle.reanalyse).
    rule bundle_reanalyse:
        input:
            "figures/all",
            expected=[f for f in bundle.files_of(REVIEW["manifest"], "expected") if f.endswith(".csv")],
            scorecard=["results/reproduction.md", "results/reproduction.csv"],
        output:
            "bundle_reanalyse.txt",
        log:
            "logs/bundle_reanalyse.log",
        run:
            m = bundle.reanalyse(REVIEW["bundle"], ".", repo=REPO)
            Path(output[0]).write_text(
                f"refreshed {REVIEW['bundle']}: analysis_code_version {m['analysis_code_version']}, "
                f"{len(m['files'])} files\n",
                encoding="utf-8",
            )
