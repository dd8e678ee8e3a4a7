# The end of the DAG: figures/all lists every figure produced with its sha256.


rule manifest:
    input:
        all_figures(),
    output:
        "figures/all",
    log:
        "logs/figures/all.log",
    script:
        "../../scripts/manifest.py"
