"""Seconds per epoch per network: S networks trained one after another vs grouped in one job (one stacked learner, presyn.experiments.energy).

Full-size MNIST protocol (784-200-200-10, batch 100, 60000 training items = 600 steps per epoch);
data are synthetic MNIST-shaped arrays unless --data names a processed npz (speed does not depend
on the pixels). Each mode is timed over --steps steps after --warmup steps and scaled to an epoch.
On CPU the headline number is this process's CPU time (one torch thread: what a dedicated core
would take; wall time on a shared machine mostly measures the neighbours), on CUDA the wall time.
Usage: python benchmarks/bench_batched.py [--device auto|cpu|cuda] [--networks 1 3 6 18]
       [--kinds presyn fixedp deterministic] [--threads N] [--steps 60]
The LAST line printed is one JSON object: {"device", "threads", "results": [{kind, networks,
unbatched_s_per_epoch_per_network, batched_s_per_epoch_per_network, speedup}, ...]}.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from presyn.data import load_processed, make_synthetic, save_processed
from presyn.factory import build_learner
from presyn.training import Generators, minibatches, resolve_device, set_threads

MODELS = {
    "presyn": {"kind": "presyn", "lr": 0.05, "p_up": 0.07, "p_down": 0.07, "g_lim": 1e-3, "weight_decay": 0.01},
    "fixedp": {"kind": "fixedp", "lr": 0.05, "p": 0.4, "weight_decay": 0.01},
    "deterministic": {"kind": "deterministic", "optimizer": "sgd", "lr": 0.08, "weight_decay": 0.01},
}
STEPS_PER_EPOCH = 600


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def learners_for(kind: str, s: int, device: torch.device):
    gens = [Generators.from_seed(2019 + i, device) for i in range(s)]
    return gens, [build_learner(MODELS[kind], [784, 200, 200, 10], g, device) for g in gens]


def clock(device: torch.device) -> float:
    return time.perf_counter() if device.type == "cuda" else time.process_time()


def time_unbatched(kind, s, data, device, warmup, steps) -> float:
    gens, learners = learners_for(kind, s, device)
    n = data.x_train.shape[0]
    batches = [minibatches(n, 100, g.data, device) for g in gens]
    for i in range(warmup):
        for l, b in zip(learners, batches):
            l.step(data.x_train[b[i]], data.y_train[b[i]])
    sync(device)
    t = clock(device)
    for i in range(warmup, warmup + steps):
        for l, b in zip(learners, batches):  # one job per network: networks run one after another
            l.step(data.x_train[b[i]], data.y_train[b[i]])
    sync(device)
    return (clock(device) - t) / steps * STEPS_PER_EPOCH / s


def time_batched(kind, s, data, device, warmup, steps) -> float:
    gens = [Generators.from_seed(2019 + i, device) for i in range(s)]
    net = build_learner([MODELS[kind]] * s, [784, 200, 200, 10], gens, device)
    n = data.x_train.shape[0]
    order = torch.stack([torch.cat(minibatches(n, 100, g.data, device)) for g in gens])
    idx = torch.split(order, 100, dim=1)
    for i in range(warmup):
        net.step(data.x_train[idx[i]], data.y_train[idx[i]])
    sync(device)
    t = clock(device)
    for i in range(warmup, warmup + steps):
        net.step(data.x_train[idx[i]], data.y_train[idx[i]])
    sync(device)
    return (clock(device) - t) / steps * STEPS_PER_EPOCH / s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--networks", type=int, nargs="+", default=[1, 3, 6])
    ap.add_argument("--kinds", nargs="+", default=["presyn", "deterministic"], choices=list(MODELS))
    ap.add_argument("--steps", type=int, default=60, help="timed steps per mode (an epoch is 600)")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--data", default=None, help="processed npz (default: synthetic, 60000 train items)")
    args = ap.parse_args()
    set_threads(args.threads)
    device = resolve_device(args.device)
    path = Path(args.data) if args.data else Path("/tmp/presyn_bench_synthetic.npz")
    if not args.data and not path.exists():
        save_processed(make_synthetic(60000, 1000, seed=0), path, {"synthetic": True})
    data = load_processed(path, 0.1307, 0.3081, device)
    if data.x_train.shape[0] < 100 * (args.warmup + args.steps):
        raise SystemExit(
            f"{path} has {data.x_train.shape[0]} items; need {100 * (args.warmup + args.steps)} for the timed steps"
        )
    results = []
    for kind in args.kinds:
        for s in args.networks:
            u = time_unbatched(kind, s, data, device, args.warmup, args.steps)
            b = time_batched(kind, s, data, device, args.warmup, args.steps)
            row = {
                "kind": kind,
                "networks": s,
                "unbatched_s_per_epoch_per_network": round(u, 4),
                "batched_s_per_epoch_per_network": round(b, 4),
                "speedup": round(u / b, 2),
            }
            results.append(row)
            print(
                f"{kind:14s} S={s:3d}  unbatched {u:7.3f} s/epoch/network   batched {b:7.3f} s/epoch/network   x{u / b:.2f}",
                flush=True,
            )
    desc = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(
        json.dumps(
            {
                "device": desc,
                "clock": "wall" if device.type == "cuda" else "process CPU time",
                "threads": torch.get_num_threads(),
                "steps_timed": args.steps,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
