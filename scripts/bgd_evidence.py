"""Snakemake entry: BGD variants (init, inputs) on one benchmark, per task, beside the fork's logged runs."""

import yaml

from presyn import logs
from presyn.analysis.lifelong import bgd_evidence_table
from presyn.io import write_table

log = logs.setup(snakemake.log[0])
specs = snakemake.params.specs
labels = {}
for s in specs.values():
    model, ds = s["model"], s["dataset"]
    inputs = (
        "padded 32x32" if ds.get("pad") else "raw [0, 1]" if ds["std"] == 1.0 and ds["mean"] == 0.0 else "normalised"
    )
    labels[s["method"]] = f"ours ({s['method']}): init {model.get('init', 'pytorch')}, inputs {inputs}"
with open(snakemake.input.fork_logs) as fh:
    fork_logs = yaml.safe_load(fh)
table = bgd_evidence_table(list(snakemake.input.metrics), labels, fork_logs)
write_table(table, snakemake.output.csv)
tasks = [c for c in table.columns if c.startswith("task")]
lines = [
    "# BGD evidence: final test accuracy per task (%) and the mean over tasks",
    "",
    "| source | setting | mean | " + " | ".join(tasks) + " |",
    "|---|---|---|" + "---|" * len(tasks),
]
for _, r in table.iterrows():
    lines.append(
        f"| {r['source']} | {r['setting']} | {r['mean_accuracy']:.2f} | "
        + " | ".join(f"{r[t]:.1f}" for t in tasks)
        + " |"
    )
with open(snakemake.output.md, "w") as fh:
    fh.write("\n".join(lines) + "\n")
log.info("\n%s", "\n".join(lines))
