"""Snakemake entry: EWC search stage 2 -> confirmed held-out scores and the chosen setting per benchmark."""

import pandas as pd

from presyn import logs
from presyn.analysis.lifelong import ewc_search_rows
from presyn.experiments.ewc_search import POINT_KEYS, choose, scores_table
from presyn.io import read_table, write_table

log = logs.setup(snakemake.log[0])
screen = read_table(snakemake.input.screen)
confirm = scores_table(ewc_search_rows(list(snakemake.input.metrics), snakemake.params.specs))
chosen = choose(confirm)
table = pd.concat([screen, confirm], ignore_index=True)
keys = ["benchmark", "grid_index"]
table["chosen"] = (table["stage"] == "confirm") & table.set_index(keys).index.isin(chosen.set_index(keys).index)
write_table(table, snakemake.output.csv)
lines = [
    "# EWC search: held-out mean accuracy over tasks (seed(s) of lifelong.ewc_search; the test set is never read)",
    "",
    "| benchmark | optimizer | lr | lambda | fisher | reset | screen | confirm (full protocol) | chosen |",
    "|---|---|---|---|---|---|---|---|---|",
]
conf = confirm.set_index(keys)["score"]
top = table[table["stage"] == "screen"].sort_values(["benchmark", "score"], ascending=[True, False])
for _, r in top.iterrows():
    c = conf.get((r["benchmark"], r["grid_index"]))
    mark = (
        "**yes**"
        if (
            (table["stage"] == "confirm")
            & table["chosen"]
            & (table["benchmark"] == r["benchmark"])
            & (table["grid_index"] == r["grid_index"])
        ).any()
        else ""
    )
    lines.append(
        f"| {r['benchmark']} | {r['optimizer']} | {r['lr']:g} | {r['ewc_lambda']:g} | {r['fisher']} | "
        f"{'yes' if r['reset_optimizer'] else 'no'} | {r['score']:.4f} | {'' if c is None else f'{c:.4f}'} | {mark} |"
    )
with open(snakemake.output.md, "w") as fh:
    fh.write("\n".join(lines) + "\n")
for _, r in chosen.iterrows():
    log.info(
        "EWC choice for %s: %s",
        r["benchmark"],
        {k: r[k] for k in POINT_KEYS} | {"held_out": round(float(r["score"]), 4)},
    )
