"""Fig 3's "representative run" (issue 29, point 7): the KS D of important inputs per neuron (weight matrix 2,
true vs shuffled) and the in/out Pearson r of both hidden layers, on every trained presynaptic energy run.

The paper's D = 0.505 and r = 0.939 / 0.7999 come from one unnamed run; the pipeline's Fig 3 shows the first
seed at weight decay 0.01. This script computes the same statistics (presyn.analysis.sparsity, the pipeline's
functions: importance p >= 0.9, the pipeline's shuffle seed) on each run folder found under
results/runs/energy/presyn_wd*/mnist/seed*/ and writes one row per run plus the spread to
benchmarks/results/fig3_run_spread.{csv,md}.

    nice -n 5 python benchmarks/fig3_run_spread.py
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = {"ks_d_layer2": 0.505, "r_in_out_hidden1": 0.939, "r_in_out_hidden2": 0.7999}


def main() -> None:
    from presyn.analysis import sparsity
    from presyn.analysis.synapses import load_state

    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["energy"]["analysis"]
    rows = []
    for path in sorted(ROOT.glob("results/runs/energy/presyn_wd*/mnist/seed*/state.pt")):
        wd = float(re.search(r"presyn_wd([0-9.e-]+)", str(path)).group(1))
        seed = int(path.parent.name[4:])
        probs = {seed: [P.numpy() for P in load_state(path)["p"]]}
        neurons = sparsity.neuron_table(probs, 0.9, int(cfg["shuffle_seed"]), float(cfg["n_sd"]))
        st = sparsity.sparsity_stats(neurons, sparsity.in_out_table(probs, 0.9), seed)
        both = pd.concat(st.values()).set_index("name")
        rows.append(
            {
                "weight_decay": wd,
                "seed": seed,
                "ks_d_layer2": float(both.loc["fig3.ks.layer2", "statistic"]),
                "ks_p_layer2": float(both.loc["fig3.ks.layer2", "p_value"]),
                "r_in_out_hidden1": float(both.loc["fig3.pearson_in_out.layer1", "value"]),
                "r_in_out_hidden2": float(both.loc["appfig2.pearson_in_out.layer2", "value"]),
            }
        )
    table = pd.DataFrame(rows).sort_values(["weight_decay", "seed"])
    out = ROOT / "benchmarks" / "results" / "fig3_run_spread.csv"
    table.to_csv(out, index=False)
    lines = [
        "# Fig 3's representative run: the statistics on every trained presynaptic energy run",
        "",
        f"{len(table)} runs (weight decays {sorted(set(table['weight_decay']))}, seeds {sorted(set(table['seed']))}).",
        "",
        "| statistic | published (one run) | ours: min | median | max | mean +- SD | runs within +-0.05 of published |",
        "|---|---|---|---|---|---|---|",
    ]
    for col, pub in PUBLISHED.items():
        v = table[col].to_numpy()
        lines.append(
            f"| {col} | {pub} | {v.min():.3f} | {np.median(v):.3f} | {v.max():.3f} | {v.mean():.3f} +- "
            f"{v.std(ddof=1) if len(v) > 1 else float('nan'):.3f} | {int((abs(v - pub) <= 0.05).sum())} of {len(v)} |"
        )
    lines += ["", table.to_markdown(index=False, floatfmt=".4f")]
    (out.with_suffix(".md")).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
