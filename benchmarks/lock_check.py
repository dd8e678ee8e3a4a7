"""Fig 5a "no freezing" vs the full model (issue 29, point 5): synapses locked by float32 rounding.

Trains the pipeline's own ablation run specs (``planning.all_runs`` of the config, as Snakemake builds them) of the
full model and the no-freezing variant with the pipeline's trainer, keeping, for every synapse, the largest
release probability it ever had (after each step), and writes per run:

    frozen           p >= p_freeze of the full model at the end (for the full model: frozen by the rule)
    locked_rounding  p < 1 and neither an up- nor a down-step moves p in float32 (presyn.analysis.locking)
    at_one           p == 1 exactly (also unmovable)
    reached_freeze   the largest p ever reached p_freeze of the full model
    fell_back        reached p_freeze, but ends below it (only possible without freezing)
    lock_threshold   the smallest float32 p from which neither step moves, for the run's (p_up, p_down)

as fractions of all synapses, to benchmarks/results/lock_check.csv (rows already there are skipped).

    nice -n 5 python benchmarks/lock_check.py --seeds 2019 --benchmarks split_mnist perm_mnist
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", nargs="+", default=[str(ROOT / "config" / "config.yaml")])
    ap.add_argument("--benchmarks", nargs="+", default=["split_mnist", "perm_mnist"])
    ap.add_argument("--variants", nargs="+", default=["full", "noFreeze"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[2019])
    ap.add_argument("--data", default=str(ROOT / "data" / "processed" / "mnist.npz"))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lock_check.csv"))
    args = ap.parse_args()

    from summarize_jobs import workflow_config

    from presyn import experiments, planning
    from presyn.analysis.locking import lock_threshold, locked_by_rounding
    from presyn.learners import PresynapticLearner
    from presyn.safe_io import torch_load

    config = workflow_config(args.config)
    specs = planning.all_runs(config, ["ablation"])
    out = Path(args.out)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["benchmark", "variant", "seed"])
    highest: dict[int, torch.Tensor] = {}
    step = PresynapticLearner.step

    def tracking_step(self, x, y):  # the pipeline's step, then the running maximum of every p
        result = step(self, x, y)
        key = id(self)
        highest[key] = torch.maximum(highest[key], self.net.p) if key in highest else self.net.p.clone()
        return result

    PresynapticLearner.step = tracking_step
    rows = []
    for benchmark in args.benchmarks:
        full_freeze = specs[f"ablation/ablation-full/{benchmark}/seed{args.seeds[0]}"]["model"]["p_freeze"]
        for variant in args.variants:
            for seed in args.seeds:
                if ((done["benchmark"] == benchmark) & (done["variant"] == variant) & (done["seed"] == seed)).any():
                    continue
                spec = specs[f"ablation/ablation-{variant}/{benchmark}/seed{seed}"]
                highest.clear()
                t0 = time.perf_counter()
                with tempfile.TemporaryDirectory() as tmp:
                    experiments.run(spec, {"data": args.data}, Path(tmp) / "run", device="cpu")
                    state = torch_load(Path(tmp) / "run" / "state.pt", map_location="cpu")
                    metrics = pd.read_parquet(Path(tmp) / "run" / "metrics.parquet")
                p = torch.cat([P.reshape(-1) for P in state["p"]])
                (top,) = highest.values()
                m = spec["model"]
                locked = locked_by_rounding(p, m["p_up"], m["p_down"], spec["p_min"])
                acc = metrics[(metrics["metric"] == "mean_accuracy")]["value"].iloc[-1]
                rows.append(
                    {
                        "benchmark": benchmark,
                        "variant": variant,
                        "seed": seed,
                        "mean_accuracy": float(acc),
                        "p_freeze_full": full_freeze,
                        "p_freeze_run": m["p_freeze"],
                        "frozen": float((p >= full_freeze).float().mean()),
                        "locked_rounding": float((locked & (p < 1)).float().mean()),
                        "at_one": float((p == 1).float().mean()),
                        "reached_freeze": float((top >= full_freeze).float().mean()),
                        "fell_back": float(((top >= full_freeze) & (p < full_freeze)).float().mean()),
                        "lock_threshold": lock_threshold(m["p_up"], m["p_down"], spec["p_min"]),
                        "n_synapses": p.numel(),
                        "wall_s": round(time.perf_counter() - t0, 1),
                    }
                )
                print(rows[-1], flush=True)
                table = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
                out.parent.mkdir(parents=True, exist_ok=True)
                table.to_csv(out, index=False)


if __name__ == "__main__":
    main()
