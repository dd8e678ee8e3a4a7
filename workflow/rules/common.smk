# Shared helpers: config validation, the run plan, names and paths (docs/protocol.md#paths-and-names).
import sys
from pathlib import Path

from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "src"))
import presyn.planning as planning  # noqa: E402  (every run spec and run selection: pure Python, no torch)
import presyn.bundle as bundle  # noqa: E402

REPO = Path(workflow.basedir).parent

# Reviewer mode (config `reference_bundle`, e.g. --configfile config/reviewer.yaml): every figure, App. table 1
# and the scorecard are rebuilt from a reference bundle (presyn.bundle) with the bundle's own config, into their
# own folder (`reviewer_dir`), by today's analysis code; no rule trains or fetches data (workflow/Snakefile).
# The one difference for the rules: TABLES, the folder every stats, figure and scorecard rule reads its tables
# from, is the bundle's (checked once, here) instead of results/tables, which only the rules that make tables
# from runs or data write. Nothing else chooses between the two modes' tables.
REVIEW = None
TABLES = bundle.TABLES
if config.get("reference_bundle"):
    REVIEW = bundle.reviewer_setup(config, REPO)  # replaces config by the bundle's; raises naming a bad bundle
    TABLES = str(REVIEW["tables"])  # absolute: the bundle's tables, each sha256 checked against its manifest
    # config files by absolute path before workdir: moves the working directory (`snakemake --report` reads them
    # again from there: the Snakefile's relative config/config.yaml was not found under reviewer/, issue 33)
    workflow.configfiles[:] = [str(Path(f).resolve()) for f in workflow.configfiles]

    workdir: REVIEW["workdir"]

    if Path.cwd().resolve() != Path(REVIEW["workdir"]).resolve():  # --directory overrides workdir:
        raise WorkflowError(
            f"reviewer mode writes into reviewer_dir {REVIEW['workdir']}, but Snakemake's working directory "
            f"is {Path.cwd()} (set by --directory, which overrides it): run it without --directory, from "
            f"the repository, so that nothing of the rebuild lands beside local results"
        )


# Every violation named by its key path (presyn.config_check), then Snakemake's validate (fills defaults).
import presyn.config_check as config_check  # noqa: E402

config_check.validate(config, Path(workflow.basedir) / "schemas" / "config.schema.yaml")
validate(config, schema="../schemas/config.schema.yaml")

RUNS = planning.all_runs(config)  # every run of the generic train rule, keyed by run key
PERCEPTRON_RUNS = planning.perceptron_runs(config)  # Fig 5b, c (rule perceptron_run)
PERCEPTRON_CAPACITY = planning.capacity_series(
    config
)  # the near-capacity series: the Fig 5 runs at its n_patterns + new runs
RUN_FILES = ["metrics.parquet", "state.pt", "provenance.json"]


wildcard_constraints:
    experiment="[a-z_]+",
    method="[A-Za-z0-9_.\-]+",
    benchmark="[a-z_]+",
    seed="[0-9]+",
    dataset="[a-z]+",
    fig="(app)?fig[0-9]+",


# The Snakemake report's categories, one per figure in the paper's order (the report sorts categories by name,
# hence the numbers), then the extras (issue 33).
REPORT_CATEGORIES = {
    "scorecard": "00 Scorecard",
    "fig1": "01 Fig 1",
    "fig2": "02 Fig 2",
    "fig3": "03 Fig 3",
    "fig4": "04 Fig 4",
    "fig5": "05 Fig 5",
    "appfig1": "06 App. fig 1",
    "appfig2": "07 App. fig 2",
    "appfig3": "08 App. fig 3",
    "appfig4": "09 App. fig 4",
    "apptable1": "10 App. table 1",
    "appfig_robustness": "11 Extra: model robustness",
    "perceptron_capacity": "12 Extra: perceptron near capacity",
}


def figure_report(path, name):
    """report() of one figure file: its figure's category; the PNG to look at, the PDF to print."""
    sub = {"png": "figure (PNG)", "pdf": "figure (PDF, for print)", "csv": "table (CSV)", "md": "table (Markdown)"}
    return report(
        path,
        caption=f"../report/{name}.rst",
        category=REPORT_CATEGORIES[name],
        subcategory=sub.get(str(path).rsplit(".", 1)[-1], "file"),
    )


def method_name(model, **variant):
    """The one spelling of a method + hyperparameter variant in result paths."""
    return planning.method_name(model, **variant)


def run_dir(spec):
    return planning.run_dir(spec)


def run_files(runs, filename):
    """One output file of each run (a list of specs or a dict of them)."""
    return planning.run_files(runs, filename)


def run_seeds(runs):
    return planning.run_seeds(runs)


def run_outputs(experiment, filename="metrics.parquet"):
    """The given output file of every run of one experiment."""
    return planning.run_files(planning.of_experiment(RUNS, experiment), filename)


def get_run_spec(wildcards):
    key = f"{wildcards.experiment}/{wildcards.method}/{wildcards.benchmark}/seed{wildcards.seed}"
    if key not in RUNS:
        raise ValueError(f"results/runs/{key} is not a run of this config; see `snakemake -n figures/all`")
    return RUNS[key]


def train_threads(wildcards):
    return config.get("train_threads", 1)


def get_run_data(wildcards):
    return f"data/processed/{get_run_spec(wildcards)['dataset']['name']}.npz"


def get_dataset_spec(wildcards):
    ds = config["data"]["datasets"].get(wildcards.dataset)
    if ds is None:
        raise ValueError(f"dataset {wildcards.dataset!r} is not in config data.datasets")
    return ds


def get_raw_dir(wildcards):
    return f"data/raw/{wildcards.dataset}"


# figure name -> (config section that must be enabled, rule outputs). Each analysis file registers its figures.
FIGURES = {}


def register_figure(name, section, outputs, stats=None, tables=()):
    """section: the config section that switches the figure (dotted for a nested one: energy.robustness);
    stats: the stats table(s) the scorecard reads for this figure; default results/stats/<name>.csv, [] for none;
    tables: every table (made from runs or data) that the figure's rule and its stats rules read: what the
    reference bundle ships for it, named as under results/tables/ (the rules read them from TABLES)."""
    stats = [f"results/stats/{name}.csv"] if stats is None else [stats] if isinstance(stats, str) else list(stats)
    FIGURES[name] = {"section": section, "outputs": outputs, "stats": stats, "tables": list(tables)}


def repo_file(rel):
    """A file that ships with the code (config/published.yaml, ...): repo-relative, absolute in reviewer mode
    (whose working directory is reviewer_dir)."""
    return str(REPO / rel) if REVIEW else rel


def figure_note():
    """What figure titles say about where their numbers come from: the run label, or the reference bundle."""
    return REVIEW["note"] if REVIEW else config.get("run_label", "")


from presyn.manifest import section_disabled_reason as _section_disabled_reason  # noqa: E402


def section_disabled_reason(section):
    """None when a (dotted) config section and every level above it is enabled, else why not."""
    return _section_disabled_reason(config, section)


def section_enabled(section):
    return section_disabled_reason(section) is None


def all_figures():
    """Every figure file that figures/all lists, from the enabled config sections."""
    return [out for spec in FIGURES.values() if section_enabled(spec["section"]) for out in spec["outputs"]]


def left_out_figures():
    """figure -> why, for each registered figure whose config section is disabled (listed in the manifest)."""
    out = {}
    for name, spec in FIGURES.items():
        why = section_disabled_reason(spec["section"])  # a dotted section (energy.robustness) checks each level
        if why is not None:
            out[name] = why
    return out


def scorecard_expected_stats():
    """The stats tables of every enabled figure (what the scorecard would like to read)."""
    out = []
    for spec in FIGURES.values():
        if section_enabled(spec["section"]):
            out += [p for p in spec.get("stats", []) if p not in out]
    return out
