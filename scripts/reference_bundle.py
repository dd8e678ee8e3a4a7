"""Snakemake entry: write the reference bundle (presyn.bundle) from a finished run of figures/all, then draw its
figures from its own tables in reviewer mode (presyn.bundle.render_figures), so that the shipped figures are what
bundle_check redraws."""

from pathlib import Path

from presyn import bundle, logs

log = logs.setup(snakemake.log[0])
i = snakemake.input
jobs = bundle.job_summary(Path("results/benchmarks"), snakemake.params.run_keys)
manifest = bundle.write_bundle(
    snakemake.output[0],
    {"table": list(i.tables), "expected": list(i.stats) + list(i.scorecard), "figure": list(i.figures)},
    snakemake.config,
    jobs,
    left_out=dict(snakemake.params.left_out),
)
log.info("drawing the bundle's figures from its tables (reviewer mode, in %s)", snakemake.params.render_dir)
manifest = bundle.render_figures(
    snakemake.output[0], snakemake.params.render_dir, snakemake.params.repo, cores=snakemake.threads
)
size = sum(e["bytes"] for e in manifest["files"].values())
log.info(
    "reference bundle %s: %d files, %.2f MB, code %s, config hash %s",
    snakemake.output[0],
    len(manifest["files"]),
    size / 1e6,
    manifest["code_version"],
    manifest["config_hash"],
)
