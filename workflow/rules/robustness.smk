# Model robustness (Methods "Model robustness"; issue 21): the presynaptic model with p_up / p_down 25 % lower
# and higher (energy.robustness.variants), trained by the generic `train` rule (or `train_batched`) at every
# Fig 1 weight decay x seed, against the Fig 1 control runs.
# runs -> results/tables/energy_robustness.csv (final metrics), results/tables/robustness/<variant>/
# {synapses.parquet -> synapse_stats.csv, lesion.csv} (at energy.analysis.weight_decay) -> results/stats/robustness.csv
# -> figures/appfig_robustness.{pdf,png} (beside the default model's Fig 1 / Fig 2 stats).


def robustness_variants():
    return planning.robustness_variants(config)


def robustness_model():
    return planning.robustness_model(config)


def robustness_runs_of(variant=None):
    """The robustness runs (of one variant: its p_up / p_down), sorted by seed; a clear error when none."""
    return planning.robustness_runs_of(config, RUNS, variant)


def robustness_analysis_runs(variant):
    """One variant's runs at energy.analysis.weight_decay (the weight decay Fig 2 analyses), sorted by seed."""
    return planning.robustness_analysis_runs(config, RUNS, variant)


def robustness_analysis():
    """energy.analysis: the lesion and Fisher settings the variants' tables share with Fig 2's."""
    return planning.energy_analysis(config)


rule robustness_table:
    input:
        metrics=lambda w: run_files(robustness_runs_of(), "metrics.parquet"),
    output:
        "results/tables/energy_robustness.csv",
    params:
        specs=lambda w: planning.robustness_specs(config, RUNS),
    log:
        "logs/tables/energy_robustness.log",
    script:
        "../../scripts/energy_table.py"


rule robustness_synapses:
    wildcard_constraints:
        variant="[A-Za-z][A-Za-z0-9_]*",
    input:
        states=lambda w: run_files(robustness_analysis_runs(w.variant), "state.pt"),
        data=lambda w: planning.analysis_data(config, RUNS),
    output:
        "results/tables/robustness/{variant}/synapses.parquet",
    params:
        seeds=lambda w: run_seeds(robustness_analysis_runs(w.variant)),
        dataset=lambda w: robustness_analysis_runs(w.variant)[0]["dataset"],
        important_p=config["model"]["important_p"],
        fisher=True,
        fisher_chunk=lambda w: robustness_analysis().get("fisher_chunk", 500),
    threads: 2
    log:
        "logs/tables/robustness/{variant}_synapses.log",
    script:
        "../../scripts/energy_synapses.py"


rule robustness_lesion:
    wildcard_constraints:
        variant="[A-Za-z][A-Za-z0-9_]*",
    input:
        states=lambda w: run_files(robustness_analysis_runs(w.variant), "state.pt"),
        data=lambda w: planning.analysis_data(config, RUNS),
    output:
        "results/tables/robustness/{variant}/lesion.csv",
    params:
        seeds=lambda w: run_seeds(robustness_analysis_runs(w.variant)),
        dataset=lambda w: robustness_analysis_runs(w.variant)[0]["dataset"],
        fractions=lambda w: robustness_analysis().get(
            "lesion_fractions", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        ),
        n_samples=lambda w: robustness_analysis().get("lesion_samples", 10),
        jitter=lambda w: robustness_analysis().get("lesion_jitter", 1e-9),
        random_orders=lambda w: robustness_analysis().get("lesion_random_orders", 0),
    threads: 2
    log:
        "logs/tables/robustness/{variant}_lesion.log",
    script:
        "../../scripts/energy_lesion.py"


rule robustness_synapse_stats:
    wildcard_constraints:
        variant="[A-Za-z][A-Za-z0-9_]*",
    input:
        "results/tables/robustness/{variant}/synapses.parquet",
    output:
        "results/tables/robustness/{variant}/synapse_stats.csv",
    params:
        figure=lambda w: f"robustness.{w.variant}",
    log:
        "logs/tables/robustness/{variant}_synapse_stats.log",
    script:
        "../../scripts/synapse_stats.py"


rule robustness_stats:
    input:
        energy_final=f"{TABLES}/energy_final.csv",
        robustness_final=f"{TABLES}/energy_robustness.csv",
        synapse_stats=lambda w: [f"{TABLES}/robustness/{v}/synapse_stats.csv" for v in robustness_variants()],
        lesion=lambda w: [f"{TABLES}/robustness/{v}/lesion.csv" for v in robustness_variants()],
    output:
        "results/stats/robustness.csv",
    params:
        variants=lambda w: robustness_variants(),
        model=lambda w: robustness_model(),
    log:
        "logs/stats/robustness.log",
    script:
        "../../scripts/robustness_stats.py"


from presyn.figures import code_files as figure_code_files  # noqa: E402  (figure rules' code inputs)


rule appfig_robustness:
    input:
        code=[str(REPO / c) for c in figure_code_files("appfig_robustness")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/robustness.csv",
        fig1="results/stats/fig1.csv",
        fig2="results/stats/fig2.csv",
    output:
        pdf=figure_report("figures/appfig_robustness.pdf", "appfig_robustness"),
        png=figure_report("figures/appfig_robustness.png", "appfig_robustness"),
    params:
        note=figure_note(),
        variants=lambda w: robustness_variants(),
        default=lambda w: {k: config["energy"]["models"][robustness_model()].get(k) for k in ("p_up", "p_down")},
        analysis_wd=lambda w: float(robustness_analysis()["weight_decay"]),
    log:
        "logs/figures/appfig_robustness.log",
    script:
        "../../scripts/plot_appfig_robustness.py"


register_figure(
    "appfig_robustness",
    "energy.robustness",
    ["figures/appfig_robustness.pdf", "figures/appfig_robustness.png"],
    stats="results/stats/robustness.csv",
    tables=["results/tables/energy_final.csv", "results/tables/energy_robustness.csv"]  # + fig1 / fig2's (same section)
    + [f"results/tables/robustness/{v}/{f}" for v in robustness_variants() for f in ("synapse_stats.csv", "lesion.csv")]
    + [
        "results/tables/energy_histograms.csv",
        "results/tables/energy_synapse_stats.csv",
        "results/tables/energy_lesion.csv",
    ],
)
