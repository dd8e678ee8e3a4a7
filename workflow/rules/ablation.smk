# Fig 5: ablation runs (generic train rule, lifelong trainer) + perceptron runs (own rule)
#   -> results/tables/{ablation,perceptron}.csv -> results/stats/fig5.csv -> figures/fig5.pdf
# and the random search of the ablation's (p_up, p_down, p_freeze) (target `ablation_search`, not in figures/all).
import presyn.experiments.ablation as ablation_plan  # noqa: E402
import presyn.perceptron as perceptron_plan  # noqa: E402

PERCEPTRON_RUNS = perceptron_plan.plan_runs(config)
# the near-capacity series (perceptron.capacity): the Fig 5 runs at its n_patterns, new runs at the others
PERCEPTRON_CAPACITY = perceptron_plan.capacity_series(config)


def ablation_specs():
    return {k: s for k, s in RUNS.items() if s["experiment"] == "ablation"}


def perceptron_outputs(filename="metrics.parquet"):
    return [f"results/runs/{key}/{filename}" for key in PERCEPTRON_RUNS]


def get_perceptron_spec(wildcards):
    key = f"perceptron/{wildcards.method}/{perceptron_plan.BENCHMARK}/seed{wildcards.seed}"
    if key in PERCEPTRON_RUNS:
        return PERCEPTRON_RUNS[key]
    if key in PERCEPTRON_CAPACITY:
        return PERCEPTRON_CAPACITY[key]["spec"]
    raise ValueError(f"results/runs/{key} is not a perceptron run of this config (perceptron.methods / seeds / capacity)")


def fig5_inputs(wildcards):
    inputs = {}
    if section_enabled("ablation"):
        inputs["ablation"] = "results/tables/ablation.csv"
    if section_enabled("perceptron"):
        inputs["perceptron"] = "results/tables/perceptron.csv"
    return inputs


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
        metrics=perceptron_outputs(),
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


register_figure("fig5", "ablation", ["figures/fig5.pdf", "figures/fig5.png"], tables=list(fig5_inputs(None).values()))


# ---------------------------------------------------------------- the perceptron near capacity (Methods; perceptron.capacity)
# runs (perceptron_run) -> results/tables/perceptron_capacity.csv -> results/stats/perceptron_capacity.csv
# -> figures/perceptron_capacity.pdf (section perceptron.capacity: on only when perceptron is on too).
rule perceptron_capacity_table:
    input:
        metrics=[f"results/runs/{key}/metrics.parquet" for key in PERCEPTRON_CAPACITY],
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
        "results/tables/perceptron_capacity.csv",
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


register_figure("perceptron_capacity", "perceptron.capacity", ["figures/perceptron_capacity.pdf", "figures/perceptron_capacity.png"],
                tables=["results/tables/perceptron_capacity.csv"])


# ---------------------------------------------------------------- random search (not part of figures/all)
def search_target():
    s = config.get("ablation", {}).get("search") or {}
    return f"results/search/{s.get('benchmark')}/{s.get('variant')}.yaml"


def get_search_spec(wildcards):
    sec = config["ablation"]
    if wildcards.variant not in sec["variants"]:
        raise ValueError(f"ablation search: unknown variant {wildcards.variant!r}; known: {list(sec['variants'])}")
    return ablation_plan.search_spec(config, wildcards.benchmark, wildcards.variant, int(wildcards.trial))


def get_search_data(wildcards):
    return f"data/processed/{plan.dataset_of(wildcards.benchmark)}.npz"


def search_trials(wildcards):
    n = int(config["ablation"]["search"]["n_trials"])
    return [f"results/search/{wildcards.benchmark}/{wildcards.variant}/trial{i}.json" for i in range(n)]


rule ablation_search:
    input:
        search_target(),
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
