# Lifelong learning (SPEC §3 "Lifelong"): runs -> results/tables/lifelong_{epochs,final}.csv ->
# results/stats/{fig4,appfig3,apptable1}.csv -> figures/fig4.pdf, figures/appfig3.pdf, figures/apptable1.{csv,md}.
# The EWC lambda search (results/lifelong/ewc_lambda.csv) is a separate target, not part of figures/all.

from presyn.curves import FIG4B_BENCHMARK  # noqa: E402

LIFELONG = config.get("lifelong", {})
LIFELONG_EPT = LIFELONG.get("epochs_per_task", 10)


def lifelong_runs(search=False):
    return {k: s for k, s in RUNS.items() if s["experiment"] == "lifelong" and bool(s.get("search")) == search}


def lifelong_metrics(search=False):
    return [f"{run_dir(s)}/metrics.parquet" for s in lifelong_runs(search).values()]


rule lifelong_tables:
    input:
        metrics=lifelong_metrics(),
    output:
        epochs="results/tables/lifelong_epochs.csv",
        final="results/tables/lifelong_final.csv",
    log:
        "logs/tables/lifelong.log",
    script:
        "../../scripts/lifelong_tables.py"


rule lifelong_stats:
    input:
        epochs="results/tables/lifelong_epochs.csv",
        final="results/tables/lifelong_final.csv",
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


rule fig4:
    input:
        stats="results/stats/fig4.csv",
        data="data/processed/mnist.npz",
    output:
        pdf=report("figures/fig4.pdf", caption="../report/fig4.rst", category="Lifelong learning"),
        png=report("figures/fig4.png", caption="../report/fig4.rst", category="Lifelong learning"),
    params:
        note=config.get("run_label", ""),
        epochs_per_task=LIFELONG_EPT,
    log:
        "logs/figures/fig4.log",
    script:
        "../../scripts/plot_fig4.py"


rule appfig3:
    input:
        stats="results/stats/appfig3.csv",
    output:
        pdf=report("figures/appfig3.pdf", caption="../report/appfig3.rst", category="Lifelong learning"),
        png=report("figures/appfig3.png", caption="../report/appfig3.rst", category="Lifelong learning"),
    params:
        note=config.get("run_label", ""),
        epochs_per_task=LIFELONG_EPT,
    log:
        "logs/figures/appfig3.log",
    script:
        "../../scripts/plot_appfig3.py"


rule apptable1:
    input:
        stats="results/stats/apptable1.csv",
        published="config/published.yaml",
    output:
        csv="figures/apptable1.csv",
        md="figures/apptable1.md",
    params:
        methods=list(LIFELONG.get("methods", {})),
        benchmarks=list(LIFELONG.get("benchmarks", [])) + [(LIFELONG.get("continuous") or {}).get("benchmark", "cont_perm_mnist")],
        note=config.get("run_label", ""),
    log:
        "logs/figures/apptable1.log",
    script:
        "../../scripts/apptable1.py"


rule ewc_lambda_search:
    input:
        metrics=lifelong_metrics(search=True),
    output:
        "results/lifelong/ewc_lambda.csv",
    params:
        specs=lifelong_runs(search=True),
    log:
        "logs/tables/ewc_lambda_search.log",
    script:
        "../../scripts/ewc_lambda_search.py"


register_figure("fig4", "lifelong", ["figures/fig4.pdf", "figures/fig4.png"])
register_figure("appfig3", "lifelong", ["figures/appfig3.pdf", "figures/appfig3.png"])
register_figure("apptable1", "lifelong", ["figures/apptable1.csv", "figures/apptable1.md"])
