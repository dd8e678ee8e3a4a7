# Fig 5: ablation runs (generic train rule, lifelong trainer) + perceptron runs (own rule)
#   -> results/tables/{ablation,perceptron}.csv -> results/stats/fig5.csv -> figures/fig5.pdf
# and the random search of the ablation's (p_up, p_down, p_freeze) (target `ablation_search`, not in figures/all).
# The perceptron's runs (PERCEPTRON_RUNS) and its near-capacity series (PERCEPTRON_CAPACITY) are planned in common.smk.


def ablation_specs():
    return planning.of_experiment(RUNS, "ablation")


def get_perceptron_spec(wildcards):
    return planning.perceptron_spec(PERCEPTRON_RUNS, PERCEPTRON_CAPACITY, wildcards.method, wildcards.seed)


def fig5_tables():
    """Fig 5's tables of the enabled sections, by input name: file names in the tables' folder."""
    return {name: f"{name}.csv" for name in ("ablation", "perceptron") if section_enabled(name)}


def fig5_inputs(wildcards):
    return {name: f"{TABLES}/{table}" for name, table in fig5_tables().items()}


# The perceptron's run paths also match the generic train rule's pattern; this rule makes them.
if not REVIEW:  # reviewer mode has no train rule

    ruleorder: perceptron_run > train


rule perceptron_run:
    output:
        metrics="results/runs/perceptron/{method}/random/seed{seed}/metrics.parquet",
        state="results/runs/perceptron/{method}/random/seed{seed}/state.pt",
        provenance="results/runs/perceptron/{method}/random/seed{seed}/provenance.json",
    params:
        spec=get_perceptron_spec,
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    log:
        "logs/train/perceptron/{method}/random/seed{seed}.log",
    benchmark:
        "results/benchmarks/perceptron_run/{method}/seed{seed}.tsv"
    script:
        "../../scripts/perceptron_run.py"


rule ablation_table:
    input:
        metrics=run_outputs("ablation"),
    output:
        "results/tables/ablation.csv",
    params:
        specs=ablation_specs(),
    log:
        "logs/tables/ablation.log",
    script:
        "../../scripts/ablation_table.py"


rule perceptron_table:
    input:
        metrics=planning.perceptron_files(PERCEPTRON_RUNS),
    output:
        "results/tables/perceptron.csv",
    params:
        specs=PERCEPTRON_RUNS,
    log:
        "logs/tables/perceptron.log",
    script:
        "../../scripts/perceptron_table.py"


rule fig5_stats:
    input:
        unpack(fig5_inputs),
    output:
        "results/stats/fig5.csv",
    log:
        "logs/stats/fig5.log",
    script:
        "../../scripts/fig5_stats.py"


from presyn.figures import code_files as figure_code_files  # noqa: E402  (figure rules' code inputs)


rule fig5:
    input:
        unpack(fig5_inputs),
        code=[str(REPO / c) for c in figure_code_files("fig5")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/fig5.csv",
    output:
        pdf=figure_report("figures/fig5.pdf", "fig5"),
        png=figure_report("figures/fig5.png", "fig5"),
    params:
        note=figure_note(),
    log:
        "logs/figures/fig5.log",
    script:
        "../../scripts/plot_fig5.py"


register_figure(
    "fig5",
    "ablation",
    ["figures/fig5.pdf", "figures/fig5.png"],
    tables=[f"results/tables/{t}" for t in fig5_tables().values()],
)


# ---------------------------------------------------------------- the perceptron near capacity (Methods; perceptron.capacity)
# runs (perceptron_run) -> results/tables/perceptron_capacity.csv -> results/stats/perceptron_capacity.csv
# -> figures/perceptron_capacity.pdf (section perceptron.capacity: on only when perceptron is on too).
rule perceptron_capacity_table:
    input:
        metrics=planning.perceptron_files(PERCEPTRON_CAPACITY),
    output:
        "results/tables/perceptron_capacity.csv",
    params:
        series=PERCEPTRON_CAPACITY,
    log:
        "logs/tables/perceptron_capacity.log",
    script:
        "../../scripts/perceptron_capacity_table.py"


rule perceptron_capacity_stats:
    input:
        f"{TABLES}/perceptron_capacity.csv",
    output:
        "results/stats/perceptron_capacity.csv",
    log:
        "logs/stats/perceptron_capacity.log",
    script:
        "../../scripts/perceptron_capacity_stats.py"


rule perceptron_capacity:
    input:
        code=[str(REPO / c) for c in figure_code_files("perceptron_capacity")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        stats="results/stats/perceptron_capacity.csv",
    output:
        pdf=figure_report("figures/perceptron_capacity.pdf", "perceptron_capacity"),
        png=figure_report("figures/perceptron_capacity.png", "perceptron_capacity"),
    params:
        note=figure_note(),
    log:
        "logs/figures/perceptron_capacity.log",
    script:
        "../../scripts/plot_perceptron_capacity.py"


register_figure(
    "perceptron_capacity",
    "perceptron.capacity",
    ["figures/perceptron_capacity.pdf", "figures/perceptron_capacity.png"],
    tables=["results/tables/perceptron_capacity.csv"],
)


# ---------------------------------------------------------------- random search (not part of figures/all)
def get_search_spec(wildcards):
    return planning.search_spec(config, wildcards.benchmark, wildcards.variant, int(wildcards.trial))


def get_search_data(wildcards):
    return planning.search_data(wildcards.benchmark)


def search_trials(wildcards):
    return planning.search_trial_files(config, wildcards.benchmark, wildcards.variant)


rule ablation_search:
    input:
        planning.search_target(config),
    localrule: True


rule ablation_search_trial:
    input:
        data=get_search_data,
    output:
        "results/search/{benchmark}/{variant}/trial{trial}.json",
    wildcard_constraints:
        variant="[A-Za-z0-9]+",
        trial="[0-9]+",
    params:
        spec=get_search_spec,
        device=config.get("device", "auto"),
    threads: train_threads
    resources:
        mem_mb=1500,
        runtime=120,
    log:
        "logs/search/{benchmark}/{variant}/trial{trial}.log",
    benchmark:
        "results/benchmarks/ablation_search_trial/{benchmark}/{variant}/trial{trial}.tsv"
    script:
        "../../scripts/ablation_search_trial.py"


rule ablation_search_best:
    input:
        trials=search_trials,
    output:
        "results/search/{benchmark}/{variant}.yaml",
    wildcard_constraints:
        variant="[A-Za-z0-9]+",
    log:
        "logs/search/{benchmark}/{variant}.log",
    script:
        "../../scripts/ablation_search_best.py"
