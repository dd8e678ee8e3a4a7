# Release probability and stability (App. fig 4; docs/protocol.md#app-fig-4-release-probability-and-stability):
# the two processed Sjöström et al. 2001 files
# (pinned GitHub raw URLs, else the vendored copy in vendor/sjostrom/; sha256-verified) ->
# results/tables/sjostrom_recordings.csv -> results/stats/appfig4.csv -> figures/appfig4.pdf.

SJOSTROM = config.get("sjostrom", {})
SJOSTROM_RAW = "data/raw/sjostrom"
SJOSTROM_FILES = [f"{SJOSTROM_RAW}/{f['name']}" for f in SJOSTROM.get("files", {}).values()]


rule fetch_sjostrom:
    output:
        files=SJOSTROM_FILES,
        record=f"{SJOSTROM_RAW}/sources.json",
    params:
        cfg=SJOSTROM,
        raw_dir=lambda w, output: str(Path(output.record).parent),
        repo_root=str(REPO),  # the vendored copy ships with the code, wherever the working directory is
    log:
        "logs/data/sjostrom.log",
    resources:
        runtime=15,
    script:
        "../../scripts/fetch_sjostrom.py"


rule sjostrom_table:
    input:
        SJOSTROM_FILES,
    output:
        "results/tables/sjostrom_recordings.csv",
    params:
        cfg=SJOSTROM,
        raw_dir=lambda w, input: str(Path(input[0]).parent),
    log:
        "logs/tables/sjostrom_recordings.log",
    script:
        "../../scripts/sjostrom_table.py"


rule appfig4_stats:
    input:
        f"{TABLES}/sjostrom_recordings.csv",
    output:
        "results/stats/appfig4.csv",
    params:
        n_shuffle=SJOSTROM.get("n_shuffle", 10000),
        seed=SJOSTROM.get("seed", 2019),
    log:
        "logs/stats/appfig4.log",
    script:
        "../../scripts/appfig4_stats.py"


from presyn.figures import code_files as figure_code_files  # noqa: E402  (figure rules' code inputs)


rule appfig4:
    input:
        code=[str(REPO / c) for c in figure_code_files("appfig4")],  # rerun when the drawing code changes
        published=repo_file("config/published.yaml"),  # its claims judged for the "not reproduced" marks
        table=f"{TABLES}/sjostrom_recordings.csv",
        stats="results/stats/appfig4.csv",
    output:
        pdf=figure_report("figures/appfig4.pdf", "appfig4"),
        png=figure_report("figures/appfig4.png", "appfig4"),
    params:
        note=figure_note(),
    log:
        "logs/figures/appfig4.log",
    script:
        "../../scripts/plot_appfig4.py"


register_figure(
    "appfig4",
    "sjostrom",
    ["figures/appfig4.pdf", "figures/appfig4.png"],
    tables=["results/tables/sjostrom_recordings.csv"],
)
