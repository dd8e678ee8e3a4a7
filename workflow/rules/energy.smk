# Energy experiment: runs -> results/tables/energy_final.csv -> results/stats/fig1.csv -> figures/fig1.pdf


def energy_specs():
    return {k: s for k, s in RUNS.items() if s["experiment"] == "energy"}


rule energy_table:
    input:
        metrics=run_outputs("energy"),
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
        "results/tables/energy_final.csv",
    output:
        "results/stats/fig1.csv",
    log:
        "logs/stats/fig1.log",
    script:
        "../../scripts/fig1_stats.py"


rule fig1:
    input:
        stats="results/stats/fig1.csv",
    output:
        pdf=report("figures/fig1.pdf", caption="../report/fig1.rst", category="Energy"),
        png="figures/fig1.png",
    params:
        note=config.get("run_label", ""),
    log:
        "logs/figures/fig1.log",
    script:
        "../../scripts/plot_fig1.py"


register_figure("fig1", "energy", ["figures/fig1.pdf", "figures/fig1.png"])
