# Energy experiment: runs -> results/tables/energy_final.csv -> results/stats/fig1.csv -> figures/fig1.pdf


def energy_specs(group=None):
    """Energy runs of one group: None = the Fig 1 grid (models x weight decays), else
    'fixedp_sweep' (App. fig 1c) or 'uniform_init' (App. fig 1d)."""
    return planning.energy_specs(RUNS, group)


rule energy_table:
    input:
        metrics=[f"{run_dir(s)}/metrics.parquet" for s in energy_specs().values()],
    output:
        "results/tables/energy_final.csv",
    params:
        specs=energy_specs(),
    log:
        "logs/tables/energy_final.log",
    script:
        "../../scripts/energy_table.py"


rule fig1_stats:
    input:
        f"{TABLES}/energy_final.csv",
    output:
        "results/stats/fig1.csv",
    log:
        "logs/stats/fig1.log",
    script:
        "../../scripts/fig1_stats.py"


from presyn.figures import code_files as figure_code_files  # noqa: E402  (figure rules' code inputs)


rule fig1:
    input:
        code=[str(REPO / c) for c in figure_code_files("fig1")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/fig1.csv",
    output:
        pdf=figure_report("figures/fig1.pdf", "fig1"),
        png=figure_report("figures/fig1.png", "fig1"),
    params:
        note=figure_note(),
    log:
        "logs/figures/fig1.log",
    script:
        "../../scripts/plot_fig1.py"


register_figure("fig1", "energy", ["figures/fig1.pdf", "figures/fig1.png"], tables=["results/tables/energy_final.csv"])


# ---------------------------------------------------------------------------------------------------
# Fig 2, Fig 3, Appendix 1-figs 1 and 2 (docs/protocol.md#fig-2-importance-of-high-p-synapses,
# docs/protocol.md#fig-3-and-app-fig-2-neuron-level-sparsity).
# runs (state.pt) -> results/tables/energy_{synapses,synapses_uniform,lesion,neurons,in_out,histograms,
# fixedp_sweep}.* -> results/stats/{fig2,fig3,appfig1,appfig2}.csv -> figures/{fig2,fig3,appfig1,appfig2}.pdf
# Which runs: energy.analysis.{model, weight_decay} (all seeds); App. fig 1c/1d: the energy_group runs.


def energy_analysis():
    return planning.energy_analysis(config)


def analysis_runs():
    """The analysed runs (Fig 2, 3, App. fig 2), sorted by seed; a clear error when none match."""
    return planning.analysis_runs(config, RUNS)


def uniform_runs():
    return planning.uniform_runs(RUNS)


def representative_seed():
    return planning.representative_seed(config, RUNS)


def analysis_data(wildcards=None):
    return planning.analysis_data(config, RUNS)


rule energy_synapses:
    input:
        states=lambda w: run_files(analysis_runs(), "state.pt"),
        data=analysis_data,
    output:
        "results/tables/energy_synapses.parquet",
    params:
        seeds=lambda w: run_seeds(analysis_runs()),
        dataset=lambda w: analysis_runs()[0]["dataset"],
        important_p=config["model"]["important_p"],
        fisher=True,
        fisher_chunk=lambda w: energy_analysis().get("fisher_chunk", 500),
    threads: 2
    log:
        "logs/tables/energy_synapses.log",
    benchmark:
        "results/benchmarks/energy_synapses/all.tsv"
    script:
        "../../scripts/energy_synapses.py"


rule energy_synapses_uniform:
    input:
        states=lambda w: run_files(uniform_runs(), "state.pt"),
    output:
        "results/tables/energy_synapses_uniform.parquet",
    params:
        seeds=lambda w: run_seeds(uniform_runs()),
        important_p=config["model"]["important_p"],
        fisher=False,
    log:
        "logs/tables/energy_synapses_uniform.log",
    script:
        "../../scripts/energy_synapses.py"


rule energy_lesion:
    input:
        states=lambda w: run_files(analysis_runs(), "state.pt"),
        data=analysis_data,
    output:
        "results/tables/energy_lesion.csv",
    params:
        seeds=lambda w: run_seeds(analysis_runs()),
        dataset=lambda w: analysis_runs()[0]["dataset"],
        fractions=lambda w: energy_analysis().get(
            "lesion_fractions", [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
        ),
        n_samples=lambda w: energy_analysis().get("lesion_samples", 10),
        jitter=lambda w: energy_analysis().get("lesion_jitter", 1e-9),
        random_orders=lambda w: energy_analysis().get("lesion_random_orders", 0),
    threads: 2
    log:
        "logs/tables/energy_lesion.log",
    benchmark:
        "results/benchmarks/energy_lesion/all.tsv"
    script:
        "../../scripts/energy_lesion.py"


rule energy_neurons:
    input:
        states=lambda w: run_files(analysis_runs(), "state.pt"),
    output:
        neurons="results/tables/energy_neurons.csv",
        in_out="results/tables/energy_in_out.csv",
    params:
        seeds=lambda w: run_seeds(analysis_runs()),
        important_p=config["model"]["important_p"],
        shuffle_seed=lambda w: energy_analysis().get("shuffle_seed", 0),
        n_sd=lambda w: energy_analysis().get("n_sd", 2.0),
    log:
        "logs/tables/energy_neurons.log",
    script:
        "../../scripts/energy_neurons.py"


rule energy_histograms:
    input:
        synapses="results/tables/energy_synapses.parquet",
        uniform="results/tables/energy_synapses_uniform.parquet",
    output:
        "results/tables/energy_histograms.csv",
    log:
        "logs/tables/energy_histograms.log",
    script:
        "../../scripts/energy_histograms.py"


rule energy_fixedp_sweep_table:
    input:
        metrics=lambda w: run_files(planning.by_seed(energy_specs("fixedp_sweep")), "metrics.parquet"),
    output:
        "results/tables/energy_fixedp_sweep.csv",
    params:
        specs=lambda w: energy_specs("fixedp_sweep"),
    log:
        "logs/tables/energy_fixedp_sweep.log",
    script:
        "../../scripts/energy_sweep_table.py"


# The synapse-level statistics and App. fig 1d's fractions are computed beside the 600k-row synapse tables
# (table layer), so that the stats and figures read only small tables (what the reference bundle ships).
rule energy_synapse_stats:
    input:
        "results/tables/energy_synapses.parquet",
    output:
        "results/tables/energy_synapse_stats.csv",
    params:
        figure="fig2",
    log:
        "logs/tables/energy_synapse_stats.log",
    script:
        "../../scripts/synapse_stats.py"


rule energy_important_fractions:
    input:
        synapses="results/tables/energy_synapses.parquet",
        uniform="results/tables/energy_synapses_uniform.parquet",
    output:
        "results/tables/energy_important_fractions.csv",
    log:
        "logs/tables/energy_important_fractions.log",
    script:
        "../../scripts/important_fractions.py"


rule fig2_stats:
    input:
        synapse_stats=f"{TABLES}/energy_synapse_stats.csv",
        lesion=f"{TABLES}/energy_lesion.csv",
    output:
        "results/stats/fig2.csv",
    log:
        "logs/stats/fig2.log",
    script:
        "../../scripts/fig2_stats.py"


def fig3_spread_runs():
    return planning.fig3_spread_runs(config, RUNS)


rule energy_fig3_runs:
    input:
        states=lambda w: run_files(fig3_spread_runs(), "state.pt"),
    output:
        "results/tables/energy_fig3_runs.csv",
    params:
        runs=lambda w: [(s["weight_decay"], s["seed"]) for s in fig3_spread_runs()],
        important_p=config["model"]["important_p"],
        shuffle_seed=lambda w: energy_analysis().get("shuffle_seed", 0),
        n_sd=lambda w: energy_analysis().get("n_sd", 2.0),
    log:
        "logs/tables/energy_fig3_runs.log",
    script:
        "../../scripts/energy_fig3_runs.py"


rule sparsity_stats:
    input:
        neurons=f"{TABLES}/energy_neurons.csv",
        in_out=f"{TABLES}/energy_in_out.csv",
        runs=f"{TABLES}/energy_fig3_runs.csv",
    output:
        fig3="results/stats/fig3.csv",
        appfig2="results/stats/appfig2.csv",
    params:
        representative_seed=lambda w: representative_seed(),
    log:
        "logs/stats/sparsity.log",
    script:
        "../../scripts/sparsity_stats.py"


# The neuron-sparsity tests at the extra importance cutoffs (energy.analysis.importance_cutoffs): the paper
# calls the findings "robust with respect to the precise value of p"; same runs and shuffles, no training.
def importance_cutoffs():
    return planning.importance_cutoffs(config)


rule energy_neurons_cutoffs:
    input:
        states=lambda w: run_files(analysis_runs(), "state.pt"),
    output:
        neurons="results/tables/energy_neurons_cutoffs.csv",
        in_out="results/tables/energy_in_out_cutoffs.csv",
    params:
        seeds=lambda w: run_seeds(analysis_runs()),
        cutoffs=importance_cutoffs(),
        shuffle_seed=lambda w: energy_analysis().get("shuffle_seed", 0),
        n_sd=lambda w: energy_analysis().get("n_sd", 2.0),
    log:
        "logs/tables/energy_neurons_cutoffs.log",
    script:
        "../../scripts/energy_neurons_cutoffs.py"


rule sparsity_cutoff_stats:
    input:
        neurons=f"{TABLES}/energy_neurons_cutoffs.csv",
        in_out=f"{TABLES}/energy_in_out_cutoffs.csv",
    output:
        "results/stats/sparsity_cutoffs.csv",
    params:
        representative_seed=lambda w: representative_seed(),
    log:
        "logs/stats/sparsity_cutoffs.log",
    script:
        "../../scripts/sparsity_cutoff_stats.py"


rule appfig1_stats:
    input:
        energy_final=f"{TABLES}/energy_final.csv",
        sweep=f"{TABLES}/energy_fixedp_sweep.csv",
        fractions=f"{TABLES}/energy_important_fractions.csv",
    output:
        "results/stats/appfig1.csv",
    log:
        "logs/stats/appfig1.log",
    script:
        "../../scripts/appfig1_stats.py"


rule fig2:
    input:
        code=[str(REPO / c) for c in figure_code_files("fig2")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        histograms=f"{TABLES}/energy_histograms.csv",
        stats="results/stats/fig2.csv",
    output:
        pdf=figure_report("figures/fig2.pdf", "fig2"),
        png=figure_report("figures/fig2.png", "fig2"),
    params:
        note=figure_note(),
        what=lambda w: f"presynaptic model, weight decay {energy_analysis()['weight_decay']:g}, {len(analysis_runs())} seeds",
    log:
        "logs/figures/fig2.log",
    script:
        "../../scripts/plot_fig2.py"


rule fig3:
    input:
        code=[str(REPO / c) for c in figure_code_files("fig3")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        neurons=f"{TABLES}/energy_neurons.csv",
        in_out=f"{TABLES}/energy_in_out.csv",
        stats="results/stats/fig3.csv",
    output:
        pdf=figure_report("figures/fig3.pdf", "fig3"),
        png=figure_report("figures/fig3.png", "fig3"),
    params:
        note=figure_note(),
        representative_seed=lambda w: representative_seed(),
    log:
        "logs/figures/fig3.log",
    script:
        "../../scripts/plot_fig3.py"


rule appfig1:
    input:
        code=[str(REPO / c) for c in figure_code_files("appfig1")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/appfig1.csv",
        histograms=f"{TABLES}/energy_histograms.csv",
    output:
        pdf=figure_report("figures/appfig1.pdf", "appfig1"),
        png=figure_report("figures/appfig1.png", "appfig1"),
    params:
        note=figure_note(),
        sweep_wd=config["energy"].get("fixedp_sweep", {}).get("weight_decay", 0.01),
    log:
        "logs/figures/appfig1.log",
    script:
        "../../scripts/plot_appfig1.py"


rule appfig2:
    input:
        code=[str(REPO / c) for c in figure_code_files("appfig2")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        neurons=f"{TABLES}/energy_neurons.csv",
        in_out=f"{TABLES}/energy_in_out.csv",
        stats="results/stats/appfig2.csv",
    output:
        pdf=figure_report("figures/appfig2.pdf", "appfig2"),
        png=figure_report("figures/appfig2.png", "appfig2"),
    params:
        note=figure_note(),
        representative_seed=lambda w: representative_seed(),
    log:
        "logs/figures/appfig2.log",
    script:
        "../../scripts/plot_appfig2.py"


_ENERGY_TABLES = {  # what each figure and its stats read (the reference bundle ships these, not the synapses)
    "fig2": ["energy_histograms.csv", "energy_synapse_stats.csv", "energy_lesion.csv"],
    "fig3": ["energy_neurons.csv", "energy_in_out.csv", "energy_fig3_runs.csv"],
    "appfig1": [
        "energy_final.csv",
        "energy_fixedp_sweep.csv",
        "energy_important_fractions.csv",
        "energy_histograms.csv",
    ],
    "appfig2": ["energy_neurons.csv", "energy_in_out.csv"],
}
for _fig in ("fig2", "fig3", "appfig1", "appfig2"):
    # App. fig 2's scorecard items also read the statistics at the extra importance cutoffs
    _cut = _fig == "appfig2" and importance_cutoffs()
    _extra = ["results/stats/sparsity_cutoffs.csv"] if _cut else []
    _tables = _ENERGY_TABLES[_fig] + (["energy_neurons_cutoffs.csv", "energy_in_out_cutoffs.csv"] if _cut else [])
    register_figure(
        _fig,
        "energy",
        [f"figures/{_fig}.pdf", f"figures/{_fig}.png"],
        stats=[f"results/stats/{_fig}.csv"] + _extra,
        tables=[f"results/tables/{t}" for t in _tables],
    )
