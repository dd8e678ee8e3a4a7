"""GEMM floor of the full grid: the matrix products the protocol cannot skip, timed on this machine.

Why: the 90-minute target of issue 10 is a claim about hardware. Every training step of the protocol
does, per layer, the forward product, the weight-gradient product and (above the first layer) the
input-gradient product at the protocol's batch size (x K networks for BGD), and every evaluation does
the forward products on the test set (x the sampled networks). This script counts those products for
every training run of ``figures/all`` (from ``presyn.planning``, as the Snakefile does), times each
distinct shape with torch on this machine (best of --reps calls: a lower bound), and adds them up.
Nothing else is counted (the learning rules, data batching, Python), so no implementation of the
protocol in fp32 on this machine can run the grid faster than this floor with these threads per job.

The random numbers are counted apart (``rng_floor``): one 16-bit uniform per synapse per sampled network
of the presynaptic and fixed-p models (``fused.random_u16``, a quarter of a 64-bit draw each) and one
normal per parameter per sampled BGD network (``torch.randn``), each timed with torch's CPU generator,
the one the pipeline's seeded streams come from. A different generator could be faster, but every
random stream, hence every stochastic result, would change with it.

Also compared, per job kind, with the measured job times in results/benchmarks/ (``summarize_jobs``):
``gemm_share`` = floor / measured, the fraction of a job's time spent in the unavoidable products.

Usage: python benchmarks/compute_floor.py --config config/config.yaml [overlay ...] [--cores 2] [--threads 1]
Last line: one JSON object {"runs", "gemm_floor_job_s", "gemm_floor_wall_s", "train_s", "eval_s",
"rng_floor_job_s", "floor_job_s", "floor_wall_s", "cores", "threads", "gflops", "target_wall_s",
"kinds": {kind: {"n", "floor_s", "rng_floor_s", "measured_median_s", "gemm_share", "floor_share"}}}
(``floor_*`` = GEMM + random numbers; ``floor_share`` = that floor / measured).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from summarize_jobs import collect, run_kind, workflow_config  # noqa: E402

from presyn.tasks import SPLIT_PAIRS  # noqa: E402

Shape = tuple[int, int, int, int]  # (K networks, M, K_inner, N): K x (M x Kin) @ (Kin x N)
Draw = tuple[str, int]  # ("u16", synapses) or ("normal", K x parameters): one generator call
MASKED_KINDS = ("presyn", "fixedp")  # one Bernoulli mask per synapse per sampled network


def label_counts(data_dir: Path, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-class train and test counts from data/processed/<name>.npz; balanced 60k / 10k when absent."""
    path = data_dir / f"{name}.npz"
    if path.exists():
        with np.load(path) as z:
            return np.bincount(z["y_train"], minlength=10), np.bincount(z["y_test"], minlength=10)
    return np.full(10, 6000), np.full(10, 1000)


def task_sizes(spec: dict, data_dir: Path) -> tuple[list[int], list[int]]:
    """Training and test items of each task of the run's benchmark (energy: one task, all data)."""
    train, test = label_counts(data_dir, spec["dataset"]["name"])
    subset = spec["dataset"].get("subset") or {}
    n_train, n_test = (
        min(int(train.sum()), subset.get("train") or 10**9),
        min(int(test.sum()), subset.get("test") or 10**9),
    )
    n_train -= int(spec.get("holdout", 0) or 0)
    bench = spec["benchmark"]
    if spec["experiment"] == "energy":
        return [n_train], [n_test]
    n_tasks = int(spec["n_tasks"])
    if bench.startswith("split"):
        scale_tr, scale_te = n_train / train.sum(), n_test / test.sum()
        pairs = SPLIT_PAIRS[:n_tasks]
        return (
            [round((train[a] + train[b]) * scale_tr) for a, b in pairs],
            [round((test[a] + test[b]) * scale_te) for a, b in pairs],
        )
    return [n_train] * n_tasks, [n_test] * n_tasks


def layer_sizes(spec: dict) -> list[int]:
    n_out = 2 if spec["benchmark"].startswith("split") else 10
    return [784, *spec["hidden"], n_out]


def step_products(sizes: list[int], batch: int, k: int) -> list[Shape]:
    """The products of one training step: forward, weight gradient, and input gradient above layer 1."""
    shapes: list[Shape] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes.append((k, batch, n_in, n_out))  # h @ W^T
        shapes.append((k, n_out, batch, n_in))  # d^T @ h
        if i > 0:
            shapes.append((k, batch, n_out, n_in))  # d @ W
    return shapes


def forward_products(sizes: list[int], batch: int, k: int) -> list[Shape]:
    return [(k, batch, n_in, n_out) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def eval_networks(spec: dict) -> int:
    """Sampled networks per evaluation: 1 for deterministic learners (and EWC), eval_samples otherwise."""
    return 1 if spec["model"]["kind"] in ("deterministic", "ewc") else int(spec["eval_samples"])


def network_draws(spec: dict, sizes: list[int], networks: int) -> list[Draw]:
    """The generator calls that sample ``networks`` networks of this run's model (none if deterministic)."""
    kind = spec["model"]["kind"]
    n_weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if kind in MASKED_KINDS:
        return [("u16", n_weights)] * networks  # one random_u16 per sampled network
    if kind == "bgd":
        return [("normal", networks * (n_weights + sum(sizes[1:])))]  # one randn((K, weights + biases))
    return []


def run_products(spec: dict, data_dir: Path) -> tuple[Counter, Counter, Counter]:
    """(training, evaluation) products of one run: shape -> how many times it is computed; and the
    run's generator calls: draw -> how many times it is made."""
    train_n, test_n = task_sizes(spec, data_dir)
    sizes, batch = layer_sizes(spec), int(spec["batch_size"])
    k = int(spec["model"].get("mc_samples", 1)) if spec["model"]["kind"] == "bgd" else 1
    train, evals, draws = Counter(), Counter(), Counter()
    step_draws, eval_draws = network_draws(spec, sizes, k), network_draws(spec, sizes, eval_networks(spec))

    def add_epoch(n_items: int) -> None:
        full, rest = divmod(n_items, batch)
        for s in step_products(sizes, batch, k):
            train[s] += full
        if rest:
            for s in step_products(sizes, rest, k):
                train[s] += 1
        for d in step_draws:
            draws[d] += full + bool(rest)

    def add_eval(task: int) -> None:
        for s in forward_products(sizes, test_n[task], eval_networks(spec)):
            evals[s] += 1
        for d in eval_draws:
            draws[d] += 1

    if spec["experiment"] == "energy":  # as presyn.experiments.energy.train
        every = int(spec.get("eval_every", 0) or 0)
        for epoch in range(1, int(spec["epochs"]) + 1):
            add_epoch(train_n[0])
            if epoch == int(spec["epochs"]) or (every and epoch % every == 0):
                add_eval(0)
        return train, evals, draws
    from presyn.experiments.lifelong import curve_task_indices  # as presyn.experiments.lifelong.train

    n_tasks = len(train_n)
    joint = bool(spec.get("joint"))
    epochs = int(spec["joint_epochs"] if joint else spec["epochs_per_task"])
    phases = [None] if joint else list(range(n_tasks))
    total, every, epoch = len(phases) * epochs, int(spec.get("eval_every", 1) or 0), 0
    curve, task_end = curve_task_indices(spec, n_tasks), bool(spec.get("task_end_eval", True))
    for task in phases:
        for e in range(epochs):
            epoch += 1
            add_epoch(sum(train_n) if joint else train_n[task])
            if epoch == total or (e == epochs - 1 and task_end):
                for t in range(n_tasks):
                    add_eval(t)
            elif every and epoch % every == 0:
                for t in curve:
                    add_eval(t)
    return train, evals, draws


def best_of(fn: Callable[[], object], calls: int, reps: int, warmup: int) -> float:
    """Seconds per call of ``fn``: the best of ``reps`` timings of ``calls`` calls each, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    best = math.inf
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls)
    return best


def time_product(shape: Shape, threads: int, reps: int) -> float:
    """Best-of-``reps`` seconds of one product of this shape (bmm for K > 1), fp32, ``threads`` threads."""
    torch.set_num_threads(threads)
    k, m, kin, n = shape
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(k, m, kin, generator=gen), torch.randn(k, kin, n, generator=gen)
    out = torch.empty(k, m, n)
    fn = (lambda: torch.mm(a[0], b[0], out=out[0])) if k == 1 else (lambda: torch.bmm(a, b, out=out))
    calls = max(1, min(50, int(2e8 // max(1, k * m * kin * n))))  # ~0.2 GFLOP per timing, at least one call
    return best_of(fn, calls, reps, warmup=3)


def time_draw(draw: Draw, threads: int, reps: int) -> float:
    """Best-of-``reps`` seconds of one generator call as the pipeline makes it (torch's CPU generator)."""
    from presyn.fused import random_u16

    torch.set_num_threads(threads)
    what, n = draw
    gen, cpu = torch.Generator().manual_seed(0), torch.device("cpu")
    if what == "u16":
        words = torch.empty((n + 3) // 4, dtype=torch.int64)
        fn = lambda: random_u16(n, gen, cpu, out=words)  # noqa: E731
    elif what == "normal":
        fn = lambda: torch.randn(n, generator=gen)  # noqa: E731
    else:
        raise ValueError(f"unknown draw {what!r}")
    return best_of(fn, max(1, min(50, int(2e7 // n))), reps, warmup=1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", nargs="+", default=["config/config.yaml"], help="config.yaml and overlays (as the run)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per job (config train_threads)")
    ap.add_argument("--reps", type=int, default=20, help="timings per shape; the best counts")
    ap.add_argument(
        "--data", default="data/processed", help="processed datasets (label counts); balanced counts if absent"
    )
    ap.add_argument("--benchmarks", default="results/benchmarks", help="measured job times to compare with")
    ap.add_argument("--target-min", type=float, default=90.0, help="the target wall time in minutes (issue 10)")
    args = ap.parse_args()

    from presyn import planning

    runs = {
        key: spec for key, spec in planning.all_runs(workflow_config(args.config)).items() if not spec.get("search")
    }
    per_run = {key: run_products(spec, Path(args.data)) for key, spec in runs.items()}
    shapes = sorted({s for tr, ev, _ in per_run.values() for s in (*tr, *ev)})
    seconds = {s: time_product(s, args.threads, args.reps) for s in shapes}
    draw_kinds = sorted({d for _, _, dr in per_run.values() for d in dr})
    draw_seconds = {d: time_draw(d, args.threads, args.reps) for d in draw_kinds}
    flops = sum(
        2 * np.prod(s, dtype=np.float64) * n for tr, ev, _ in per_run.values() for c in (tr, ev) for s, n in c.items()
    )

    kinds: dict[str, dict] = {}
    train_s = eval_s = rng_s = 0.0
    for key, spec in runs.items():
        tr, ev, dr = per_run[key]
        t_tr = sum(seconds[s] * n for s, n in tr.items())
        t_ev = sum(seconds[s] * n for s, n in ev.items())
        t_rng = sum(draw_seconds[d] * n for d, n in dr.items())
        train_s, eval_s, rng_s = train_s + t_tr, eval_s + t_ev, rng_s + t_rng
        kind = run_kind("train", spec["experiment"], spec["method"], spec["benchmark"])
        kinds.setdefault(kind, {"n": 0, "floors": [], "rng": []})
        kinds[kind]["n"] += 1
        kinds[kind]["floors"].append(t_tr + t_ev)
        kinds[kind]["rng"].append(t_rng)
    done = collect(Path(args.benchmarks)) if Path(args.benchmarks).exists() else None
    medians = done.groupby("kind")["s"].median() if done is not None and not done.empty else {}
    for kind, row in kinds.items():
        floors, rngs = row.pop("floors"), row.pop("rng")
        row["floor_s"] = round(float(np.median(floors)), 3)
        row["rng_floor_s"] = round(float(np.median(rngs)), 6)
        if kind in medians:
            row["measured_median_s"] = round(float(medians[kind]), 1)
            row["gemm_share"] = round(row["floor_s"] / float(medians[kind]), 3)
            row["floor_share"] = round(float(np.median(np.add(floors, rngs))) / float(medians[kind]), 3)
    parallel = max(1, args.cores // args.threads)
    total = train_s + eval_s
    for kind, row in sorted(kinds.items(), key=lambda kv: -kv[1]["floor_s"] * kv[1]["n"]):
        print(
            f"{kind:42s} n={row['n']:3d} floor {row['floor_s']:8.1f} s/run + rng {row['rng_floor_s']:7.1f}"
            f"   measured {row.get('measured_median_s', float('nan')):8.1f}"
            f"   gemm share {row.get('gemm_share', float('nan')):.2f}   floor share {row.get('floor_share', float('nan')):.2f}"
        )
    print(
        json.dumps(
            {
                "runs": len(runs),
                "gemm_floor_job_s": round(total, 3),
                "gemm_floor_wall_s": round(total / parallel, 3),
                "train_s": round(train_s, 3),
                "eval_s": round(eval_s, 3),
                "rng_floor_job_s": round(rng_s, 6),
                "floor_job_s": round(total + rng_s, 6),
                "floor_wall_s": round((total + rng_s) / parallel, 3),
                "cores": args.cores,
                "threads": args.threads,
                "gflops": round(flops / total / 1e9, 1) if total else None,
                "target_wall_s": args.target_min * 60,
                "kinds": kinds,
            }
        )
    )


if __name__ == "__main__":
    main()
