"""Time one training epoch and one evaluation pass (10-sample accuracy + MI) of the presynaptic model.

Full MNIST, 784-200-200-10, batch 100, the energy protocol's presynaptic hyperparameters (``--model``:
or the deterministic MLP, the fixed-p model, BGD with K = 10 samples and batch 128 as in the lifelong runs).
Usage: python benchmarks/bench_train.py [--threads N] [--device auto|cpu|cuda] [--compile] [--epochs K]
The LAST line printed is one JSON object: {"epoch_s", "eval_s", "peak_rss_mb", "threads", "device", ...}.
epoch_s / eval_s are the medians over the timed epochs (the first, warm-up epoch is not timed).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import torch

from presyn.data import load_processed
from presyn.factory import build_learner
from presyn.metrics import evaluate
from presyn.training import Generators, minibatches, resolve_device, set_threads


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/processed/mnist.npz")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="auto")
    ap.add_argument("--compile", action="store_true", help="torch.compile the fused sampling/update kernels")
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    ap.add_argument("--model", default="presyn", choices=["presyn", "deterministic", "fixedp", "bgd"])
    args = ap.parse_args()
    if not Path(args.data).exists():
        sys.exit(f"{args.data} not found: run `snakemake --cores 1 {args.data}` first")
    set_threads(args.threads)
    device = resolve_device(args.device)
    data = load_processed(args.data, 0.1307, 0.3081, device)
    models = {
        "presyn": {"kind": "presyn", "lr": 0.05, "p_up": 0.07, "p_down": 0.07, "g_lim": 1e-3, "weight_decay": 0.01},
        "deterministic": {"kind": "deterministic", "lr": 0.08, "weight_decay": 0.01},
        "fixedp": {"kind": "fixedp", "lr": 0.05, "p": 0.4, "weight_decay": 0.01},
        "bgd": {"kind": "bgd", "std_init": 0.05, "eta": 1.0, "mc_samples": 10},  # permuted-MNIST BGD, K = 10
    }
    batch = 128 if args.model == "bgd" else 100
    model = dict(models[args.model], compile=args.compile)
    gens = Generators.from_seed(2019, device)
    t0 = time.perf_counter()
    learner = build_learner(model, [784, 200, 200, 10], gens, device)
    epoch_times, eval_times = [], []
    for epoch in range(args.epochs + 1):
        sync(device)
        t = time.perf_counter()
        for idx in minibatches(data.x_train.shape[0], batch, gens.data, device):
            learner.step(data.x_train[idx], data.y_train[idx])
        sync(device)
        t_train = time.perf_counter() - t
        t = time.perf_counter()
        result = evaluate(learner, data.x_test, data.y_test, 10)
        sync(device)
        t_eval = time.perf_counter() - t
        if epoch == 0:
            warmup = time.perf_counter() - t0
        else:
            epoch_times.append(t_train)
            eval_times.append(t_eval)
        print(
            f"epoch {epoch}{' (warm-up)' if epoch == 0 else ''}: train {t_train:.3f}s eval {t_eval:.3f}s "
            f"test_acc {result['test_accuracy']:.4f} MI {result['mutual_information']:.3f}",
            flush=True,
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "epoch_s": round(statistics.median(epoch_times), 3),
                "eval_s": round(statistics.median(eval_times), 3),
                "peak_rss_mb": round(peak, 1),
                "threads": torch.get_num_threads(),
                "device": str(device),
                "model": args.model,
                "compile": args.compile,
                "warmup_s": round(warmup, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
