# Lifelong learning (docs/protocol.md#lifelong-learning-common-protocol):
# runs -> results/tables/lifelong_{epochs,final}.csv ->
# results/stats/{fig4,appfig3,apptable1}.csv -> figures/fig4.pdf, figures/appfig3.pdf, figures/apptable1.{csv,md}.
# The EWC search (results/lifelong/ewc_search.csv) and the BGD evidence (results/lifelong/bgd_evidence.csv) are
# separate targets, not part of figures/all.

from presyn.curves import FIG4B_BENCHMARK  # noqa: E402

LIFELONG = config.get("lifelong", {})
LIFELONG_EPT = LIFELONG.get("epochs_per_task", 10)


def ewc_search_runs(stage):
    return planning.ewc_search_runs(RUNS, stage)


def ewc_confirm_runs(wildcards):
    """The confirm-stage runs of the points the screen ranked best (read from the screen checkpoint)."""
    import pandas as pd

    top = pd.read_csv(checkpoints.ewc_screen.get().output.top)
    return planning.ewc_search_runs(RUNS, "confirm", set(zip(top["benchmark"], top["grid_index"])))


def bgd_evidence_specs():
    """The BGD evidence runs plus the default bgd runs of the same benchmark and seeds."""
    return planning.bgd_evidence_specs(config, RUNS)


rule lifelong_tables:
    input:
        metrics=run_files(planning.lifelong_runs(RUNS), "metrics.parquet"),
    output:
        epochs="results/tables/lifelong_epochs.csv",
        final="results/tables/lifelong_final.csv",
    log:
        "logs/tables/lifelong.log",
    script:
        "../../scripts/lifelong_tables.py"


rule lifelong_stats:
    input:
        epochs=f"{TABLES}/lifelong_epochs.csv",
        final=f"{TABLES}/lifelong_final.csv",
    output:
        fig4="results/stats/fig4.csv",
        appfig3="results/stats/appfig3.csv",
        apptable1="results/stats/apptable1.csv",
    params:
        fig4_benchmark=FIG4B_BENCHMARK,
        split_benchmark="split_mnist",
        perm_benchmark="perm_mnist",
    log:
        "logs/stats/lifelong.log",
    script:
        "../../scripts/lifelong_stats.py"


rule fig4_examples:
    input:
        "data/processed/mnist.npz",
    output:
        "results/tables/fig4_examples.npz",
    log:
        "logs/tables/fig4_examples.log",
    script:
        "../../scripts/fig4_examples.py"


from presyn.figures import code_files as figure_code_files  # noqa: E402  (figure rules' code inputs)


rule fig4:
    input:
        code=[str(REPO / c) for c in figure_code_files("fig4")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/fig4.csv",
        data=f"{TABLES}/fig4_examples.npz",
    output:
        pdf=figure_report("figures/fig4.pdf", "fig4"),
        png=figure_report("figures/fig4.png", "fig4"),
    params:
        note=figure_note(),
        epochs_per_task=LIFELONG_EPT,
    log:
        "logs/figures/fig4.log",
    script:
        "../../scripts/plot_fig4.py"


rule appfig3:
    input:
        code=[str(REPO / c) for c in figure_code_files("appfig3")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/appfig3.csv",
    output:
        pdf=figure_report("figures/appfig3.pdf", "appfig3"),
        png=figure_report("figures/appfig3.png", "appfig3"),
    params:
        note=figure_note(),
        epochs_per_task=LIFELONG_EPT,
    log:
        "logs/figures/appfig3.log",
    script:
        "../../scripts/plot_appfig3.py"


rule apptable1:
    input:
        stats="results/stats/apptable1.csv",
        published=repo_file("config/published.yaml"),
    output:
        csv=figure_report("figures/apptable1.csv", "apptable1"),
        md="figures/apptable1.md",
    params:
        methods=list(LIFELONG.get("methods", {})),
        benchmarks=list(LIFELONG.get("benchmarks", []))
        + [(LIFELONG.get("continuous") or {}).get("benchmark", "cont_perm_mnist")],
        note=figure_note(),
    log:
        "logs/figures/apptable1.log",
    script:
        "../../scripts/apptable1.py"


checkpoint ewc_screen:
    input:
        metrics=run_files(ewc_search_runs("screen"), "metrics.parquet"),
    output:  # top first: Snakemake asks for a checkpoint's first output when .get() finds it incomplete
        top="results/lifelong/ewc_screen_top.csv",
        screen="results/lifelong/ewc_screen.csv",
    params:
        specs=ewc_search_runs("screen"),
        confirm_top=(LIFELONG.get("ewc_search") or {}).get("confirm_top", 3),
    log:
        "logs/tables/ewc_screen.log",
    script:
        "../../scripts/ewc_screen.py"


rule ewc_search:
    input:
        screen="results/lifelong/ewc_screen.csv",
        metrics=lambda w: run_files(ewc_confirm_runs(w), "metrics.parquet"),
    output:
        csv="results/lifelong/ewc_search.csv",
        md="results/lifelong/ewc_search.md",
    params:
        specs=ewc_confirm_runs,
    log:
        "logs/tables/ewc_search.log",
    script:
        "../../scripts/ewc_search.py"


rule bgd_evidence:
    input:
        metrics=run_files(bgd_evidence_specs(), "metrics.parquet"),
        fork_logs=repo_file("config/reference/bgd_fork_logs.yaml"),
    output:
        csv="results/lifelong/bgd_evidence.csv",
        md="results/lifelong/bgd_evidence.md",
    params:
        specs=bgd_evidence_specs(),
    log:
        "logs/tables/bgd_evidence.log",
    script:
        "../../scripts/bgd_evidence.py"


_LIFELONG_TABLES = ["results/tables/lifelong_epochs.csv", "results/tables/lifelong_final.csv"]
register_figure(
    "fig4",
    "lifelong",
    ["figures/fig4.pdf", "figures/fig4.png"],
    tables=_LIFELONG_TABLES + ["results/tables/fig4_examples.npz"],
)
register_figure("appfig3", "lifelong", ["figures/appfig3.pdf", "figures/appfig3.png"], tables=_LIFELONG_TABLES)
register_figure("apptable1", "lifelong", ["figures/apptable1.csv", "figures/apptable1.md"], tables=_LIFELONG_TABLES)
