"""No consolidation (issue 18, point 4): seed spread, weight movement, untrained accuracy of a lifelong run.

Split MNIST by default; ``--benchmark perm_fashion --data data/processed/fashion.npz`` checks Perm. Fashion (the
other no-consolidation miss). The published number compared with is the scorecard's (config/published.yaml).

Trains the pipeline's own no-consolidation run spec (``planning.all_runs`` of the config, as Snakemake builds it;
only the seed is changed) with the pipeline's own trainer (``presyn.experiments.run``), one seed at a time,
and writes a tidy CSV with, per variant x seed:

    untrained_accuracy   test accuracy of the network before any training, per task and mean
    final_accuracy       test accuracy after the last task (tasks 1..5 and the mean = App. table 1's number)
    rel_weight_change    ||W_end - W_init|| / ||W_init|| per weight matrix (layer1..3) and over all weights
    rel_bias_change      the same for the bias vectors
    max_abs_weight_change  largest |W_end - W_init| of any weight (an Adam step is of size ~lr)
    adam_steps           optimiser steps of the run (lr x steps: the scale of the largest possible movement)
    init_max_abs_diff_vs_ours  (variant authors) largest |authors' init - project's init| over all parameters

``--variants``: ``ours`` is the project's initialisation (SynapticMLP, drawn from the run's init generator);
``authors`` replaces it, before training starts, by the authors' draw: ``torch.manual_seed(seed)`` and
``torch.nn.Linear(784, 200), (200, 200), (200, 2)`` in that order, as their run_mlp_continual.py does (their
dataloaders draw nothing before the model). Same distribution as ours (PyTorch's default U(+-1/sqrt(fan_in))
for weights and biases) and, as it turns out, the same uniform draws in the same order (W1, b1, W2, b2, W3, b3 from
a generator seeded with the run's seed): the two inits differ only by float rounding (metric
``init_max_abs_diff_vs_ours``), so ``authors`` measures how much a rounding-size change moves the result.
Everything after the init (data order) is the project's. A ``+drop_last`` suffix (e.g. ``ours+drop_last``) also
skips each epoch's last, short batch, as the authors' DataLoader (drop_last=True) does; the project's trainer
keeps it (split MNIST: 4 of the 5 tasks end an epoch on a short batch, 0.7 % more steps). Seeds pair across
variants: same data order, and the same init up to rounding.

    nice -n 10 python benchmarks/no_consolidation_check.py --seeds 2019-2038 --variants ours,ours+drop_last \
        --out benchmarks/results/no_consolidation_check.csv
    nice -n 10 python benchmarks/no_consolidation_check.py --seeds 2019-2026 --variants authors \
        --out benchmarks/results/no_consolidation_check.csv        # appends; rows already there are skipped
    nice -n 10 python benchmarks/no_consolidation_check.py --benchmark perm_fashion --seeds 2019-2028 --variants ours \
        --data data/processed/fashion.npz --out benchmarks/results/no_consolidation_check_perm_fashion.csv

(One CSV per benchmark: rows are resumed by variant and seed. The ``authors`` variant reproduces their Split MNIST
draw order; on the permuted benchmarks their loaders draw the permutations from the same generator first.)
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "src"))


def published_value(benchmark: str, method: str) -> float:
    """The App. table 1 number of (benchmark, method) from config/published.yaml (the scorecard's source)."""
    from presyn.scorecard import load_published

    wanted = f"apptable1.{benchmark}.{method}"
    for entry in load_published(ROOT / "config/published.yaml")["numbers"]:
        if entry["id"] == wanted:
            return float(entry["published"])
    raise SystemExit(f"no published number {wanted} in config/published.yaml")


def parse_seeds(text: str) -> list[int]:
    """'2019-2026' or '2019,2020,2023' (or a mix)."""
    seeds = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds += list(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


def base_spec(config_paths: list[str], method: str, benchmark: str) -> dict:
    from summarize_jobs import workflow_config

    from presyn import planning

    specs = [
        s
        for s in planning.all_runs(workflow_config(config_paths)).values()
        if s["experiment"] == "lifelong"
        and s["method"] == method
        and s["benchmark"] == benchmark
        and not s.get("search")
        and not s.get("diagnostic")
    ]
    if not specs:
        raise SystemExit(f"no lifelong run {method}/{benchmark} in {config_paths}")
    return min(specs, key=lambda s: s["seed"])


def authors_init(net, seed: int) -> None:
    """Overwrite ``net``'s weights and biases in place with the authors' nn.Linear draw for ``seed``."""
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(n_in, n_out, bias=True) for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:])]
    with torch.no_grad():
        net.w.copy_(torch.cat([l.weight.reshape(-1) for l in layers]).to(net.w.device))
        for b, l in zip(net.biases, layers):
            b.copy_(l.bias.to(b.device))


def snapshot(learner) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    return [w.detach().cpu().clone() for w in learner.net.weights], [
        b.detach().cpu().clone() for b in learner.net.biases
    ]


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).norm() / b.norm())


def one_run(spec: dict, data_path: Path, variant: str, threads: int) -> list[dict]:
    from presyn.experiments import lifelong, run

    seed = spec["seed"]
    init, _, extra = variant.partition("+")
    drop_last = extra == "drop_last"
    original_setup = lifelong.setup_run
    captured = {}

    def setup_run(spec_, data, device):  # the trainer's own setup, init optionally replaced, theta_init kept
        gens, stream, learner, label, metrics = original_setup(spec_, data, device)
        if init == "authors":
            ours = torch.cat([learner.net.w.cpu(), *[b.cpu() for b in learner.net.biases]])
            authors_init(learner.net, spec_["seed"])
            theirs = torch.cat([learner.net.w.cpu(), *[b.cpu() for b in learner.net.biases]])
            captured["init_diff"] = float((theirs - ours).abs().max())
        if drop_last:
            keep_last = stream.task_batches

            def task_batches(task, batch_size, generator):  # the trainer's batches, the short last one skipped
                for x, y in keep_last(task, batch_size, generator):
                    if len(y) == batch_size:
                        yield x, y

            stream.task_batches = task_batches
        captured["init"] = snapshot(learner)
        captured["untrained"] = lifelong.evaluate_tasks(learner, stream, spec_["eval_samples"])
        per_epoch = (
            (lambda n: n // spec_["batch_size"]) if drop_last else (lambda n: math.ceil(n / spec_["batch_size"]))
        )
        captured["steps"] = sum(per_epoch(len(r)) for r in stream.train_rows) * spec_["epochs_per_task"]
        return gens, stream, learner, label, metrics

    lifelong.setup_run = setup_run
    try:
        with tempfile.TemporaryDirectory(prefix="nocons_") as tmp:
            out = Path(tmp) / "run"
            run(spec, {"data": str(data_path)}, out, device="cpu", threads=threads)
            m = pd.read_parquet(out / "metrics.parquet")
            state = torch.load(out / "state.pt", map_location="cpu", weights_only=False)
    finally:
        lifelong.setup_run = original_setup

    w0, b0 = captured["init"]
    w1, b1 = state["w_bar"], state["biases"]
    rows = []

    def add(metric, item, value):
        rows.append(
            {
                "benchmark": spec["benchmark"],
                "method": spec["method"],
                "variant": variant,
                "init": init,
                "drop_last": drop_last,
                "seed": seed,
                "metric": metric,
                "item": item,
                "value": float(value),
            }
        )

    untrained = captured["untrained"]
    for t, acc in enumerate(untrained):
        add("untrained_accuracy", f"task{t + 1}", acc)
    add("untrained_accuracy", "mean", sum(untrained) / len(untrained))
    last = m["epoch"].max()
    final = m[(m["metric"] == "test_accuracy") & (m["epoch"] == last)].sort_values("task", key=lambda s: s.astype(int))
    for task, acc in zip(final["task"], final["value"]):
        add("final_accuracy", f"task{task}", acc)
    add("final_accuracy", "mean", float(m[m["metric"] == "mean_accuracy"]["value"].iloc[0]))
    for i, (a, b) in enumerate(zip(w1, w0)):
        add("rel_weight_change", f"layer{i + 1}", rel(a, b))
    add("rel_weight_change", "all", rel(torch.cat([a.reshape(-1) for a in w1]), torch.cat([b.reshape(-1) for b in w0])))
    for i, (a, b) in enumerate(zip(b1, b0)):
        add("rel_bias_change", f"layer{i + 1}", rel(a, b))
    add("max_abs_weight_change", "all", max(float((a - b).abs().max()) for a, b in zip(w1, w0)))
    add("adam_steps", "all", captured["steps"])
    if "init_diff" in captured:
        add("init_max_abs_diff_vs_ours", "all", captured["init_diff"])
    return rows


def summarise(df: pd.DataFrame) -> str:
    lines = []
    n_tasks = int(
        df[(df["metric"] == "final_accuracy") & df["item"].str.startswith("task")]["item"].str[4:].astype(int).max()
    )
    for variant, d in df.groupby("variant", sort=False):
        n = d["seed"].nunique()
        lines.append(f"variant {variant}: n = {n} seeds ({d['seed'].min()}-{d['seed'].max()})")
        for metric, item in (
            [("final_accuracy", "mean"), ("untrained_accuracy", "mean")]
            + [("final_accuracy", f"task{t}") for t in range(1, n_tasks + 1)]
            + [("rel_weight_change", f"layer{i}") for i in (1, 2, 3)]
            + [("rel_weight_change", "all"), ("rel_bias_change", "layer1"), ("max_abs_weight_change", "all")]
        ):
            v = d[(d["metric"] == metric) & (d["item"] == item)].set_index("seed")["value"]
            if v.empty:
                continue
            pct = 100.0 if "accuracy" in metric else 1.0
            sd = v.std(ddof=1) if len(v) > 1 else float("nan")
            lines.append(
                f"  {metric:22s} {item:7s} mean {pct * v.mean():9.4f}  SD {pct * sd:8.4f}"
                f"  SEM {pct * sd / math.sqrt(len(v)):8.4f}  min {pct * v.min():9.4f}  max {pct * v.max():9.4f}"
            )
        v = 100 * d[(d["metric"] == "final_accuracy") & (d["item"] == "mean")].set_index("seed")["value"]
        published = published_value(d["benchmark"].iloc[0], d["method"].iloc[0])
        if len(v) > 1:
            sem = v.std(ddof=1) / math.sqrt(len(v))
            gap = v.mean() - published
            lines.append(
                f"  published {published:.2f}: our mean - published = {gap:+.2f} ({gap / sem:+.1f} SEM);"
                f" inside mean +- 2 SEM: {abs(gap) <= 2 * sem}; published below every seed: {bool((v > published).all())};"
                f" above every seed: {bool((v < published).all())}"
            )
            first3 = [s for s in (2019, 2020, 2021) if s in v.index]
            if len(first3) == 3:
                lines.append(
                    f"  seeds 2019-2021 (the pipeline's and the authors' seeds): mean {v[first3].mean():.2f}"
                    f" (SEM {v[first3].std(ddof=1) / math.sqrt(3):.2f});"
                    f" single seeds of all {len(v)}: {v.min():.2f}-{v.max():.2f}"
                )
        for s, acc in v.items():
            lines.append(f"    seed {s}: final mean {acc:.2f}")
    acc = df[(df["metric"] == "final_accuracy") & (df["item"] == "mean")].pivot(
        index="seed", columns="variant", values="value"
    )
    for variant in [v for v in acc.columns if v != "ours"]:
        if "ours" in acc.columns:
            diff = 100 * (acc[variant] - acc["ours"]).dropna()
            if len(diff) > 1 and (diff == 0).all():
                lines.append(f"paired {variant} - ours (same seeds, n = {len(diff)}): identical on every seed")
            elif len(diff) > 1:
                sem = diff.std(ddof=1) / math.sqrt(len(diff))
                lines.append(
                    f"paired {variant} - ours (same seeds, n = {len(diff)}): {diff.mean():+.3f} +- {sem:.3f} SEM"
                    f" (t = {diff.mean() / sem:+.2f}; largest |difference| {diff.abs().max():.2f})"
                )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="2019-2026", help="e.g. 2019-2026 or 2019,2020")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/no_consolidation_check.csv"), help="tidy CSV")
    ap.add_argument(
        "--variants", default="ours,authors", help="comma list of ours, authors, ours+drop_last, authors+drop_last"
    )
    ap.add_argument("--config", nargs="+", default=[str(ROOT / "config/config.yaml")])
    ap.add_argument("--method", default="no_consolidation")
    ap.add_argument("--benchmark", default="split_mnist")
    ap.add_argument("--data", default=str(ROOT / "data/processed/mnist.npz"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import logging

    logging.getLogger("presyn").setLevel(logging.WARNING)
    template = base_spec(args.config, args.method, args.benchmark)
    print(
        f"spec: {args.method}/{args.benchmark} model {template['model']} batch {template['batch_size']}"
        f" tasks {template['n_tasks']} x {template['epochs_per_task']} epochs,"
        f" inputs (x - {template['dataset']['mean']}) / {template['dataset']['std']},"
        f" config_hash {template['config_hash']}",
        flush=True,
    )
    out = Path(args.out)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame(columns=["variant", "seed"])
    rows = [done]
    for variant in args.variants.split(","):
        if variant not in ("ours", "authors", "ours+drop_last", "authors+drop_last"):
            raise SystemExit(f"--variants: unknown {variant!r}; use ours, authors, ours+drop_last, authors+drop_last")
        for seed in parse_seeds(args.seeds):
            if ((done["variant"] == variant) & (done["seed"] == seed)).any():  # resume: rows already in the CSV
                continue
            t0 = time.perf_counter()
            new = pd.DataFrame(one_run({**template, "seed": seed}, Path(args.data), variant, args.threads))
            acc = new[(new["metric"] == "final_accuracy") & (new["item"] == "mean")]["value"].iloc[0]
            print(f"{variant} seed {seed}: final mean {100 * acc:.2f} ({time.perf_counter() - t0:.0f} s)", flush=True)
            rows.append(new)
            done = pd.concat([d for d in rows if not d.empty], ignore_index=True)
            out.parent.mkdir(parents=True, exist_ok=True)
            done.to_csv(out, index=False)  # after every run: an interrupted check resumes where it stopped
    print(summarise(done))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
