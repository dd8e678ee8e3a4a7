# Release probability and stability (App. fig 4; SPEC §3): Sjöström et al. 2001 recordings ->
# results/tables/sjostrom_recordings.csv -> results/stats/appfig4.csv -> figures/appfig4.pdf.
# sjostrom.source: download = Dryad / Mendeley Data by DOI (or a file placed in data/raw/sjostrom/);
# synthetic = a made-up stand-in (tests, quick config), flagged SYNTHETIC in the table and the figure.

SJOSTROM = config.get("sjostrom", {})
SJOSTROM_RAW = "data/raw/sjostrom"
SJOSTROM_SYNTHETIC = "data/raw/sjostrom_synthetic/sjostrom_synthetic.csv"
SJOSTROM_IS_SYNTHETIC = SJOSTROM.get("source", "download") == "synthetic"


def sjostrom_raw_input(wildcards):
    if SJOSTROM_IS_SYNTHETIC:
        return {"raw": SJOSTROM_SYNTHETIC}
    return {"checksums": f"{SJOSTROM_RAW}/checksums.json"}


rule fetch_sjostrom:
    output:
        f"{SJOSTROM_RAW}/checksums.json",
    params:
        cfg=SJOSTROM,
        raw_dir=SJOSTROM_RAW,
    log:
        "logs/data/sjostrom.log",
    resources:
        runtime=15,
    script:
        "../../scripts/fetch_sjostrom.py"


rule synthetic_sjostrom:
    output:
        SJOSTROM_SYNTHETIC,
    params:
        n=SJOSTROM.get("synthetic", {}).get("n", 40),
        seed=SJOSTROM.get("synthetic", {}).get("seed", 0),
        n_sites=SJOSTROM.get("n_sites", 5.5),
    log:
        "logs/data/sjostrom_synthetic.log",
    script:
        "../../scripts/make_synthetic_sjostrom.py"


rule sjostrom_table:
    input:
        unpack(sjostrom_raw_input),
    output:
        "results/tables/sjostrom_recordings.csv",
    params:
        cfg=SJOSTROM,
        raw_dir=SJOSTROM_RAW,
        synthetic=SJOSTROM_IS_SYNTHETIC,
    log:
        "logs/tables/sjostrom_recordings.log",
    script:
        "../../scripts/sjostrom_table.py"


rule appfig4_stats:
    input:
        "results/tables/sjostrom_recordings.csv",
    output:
        "results/stats/appfig4.csv",
    params:
        n_shuffle=SJOSTROM.get("n_shuffle", 10000),
        seed=SJOSTROM.get("seed", 0),
    log:
        "logs/stats/appfig4.log",
    script:
        "../../scripts/appfig4_stats.py"


rule appfig4:
    input:
        table="results/tables/sjostrom_recordings.csv",
        stats="results/stats/appfig4.csv",
    output:
        pdf=report("figures/appfig4.pdf", caption="../report/appfig4.rst", category="Release probability"),
        png=report("figures/appfig4.png", caption="../report/appfig4.rst", category="Release probability"),
    params:
        note=config.get("run_label", ""),
    log:
        "logs/figures/appfig4.log",
    script:
        "../../scripts/plot_appfig4.py"


register_figure("appfig4", "sjostrom", ["figures/appfig4.pdf", "figures/appfig4.png"])
