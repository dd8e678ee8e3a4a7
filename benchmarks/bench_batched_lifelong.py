"""Seconds per epoch per network of the lifelong kinds: S networks one after another vs stacked
(``<learner class>.stack``, as the lifelong trainer trains a group of runs), on a Permuted MNIST task (the pixel gather included).

Model blocks are the protocol's (config/config.yaml) on perm_mnist: ``presyn`` (lifelong presyn: modulation,
freezing; equal rules, one update call), ``ablation`` (the six Fig 5a variants cycled over the S networks:
differing flags, one update call per variant), ``sgd`` (no_consolidation), ``adam`` (joint), ``bgd`` (K = 10
Monte Carlo samples, batch 128: S x K networks per bmm when stacked). Each network has
its own seed, generators and task stream, as in a stacked job. Timed over --steps steps after --warmup and
scaled to an epoch of --n-train items (600 steps of 100 for MNIST, 469 of 128 for BGD). On CPU the number is this process's CPU time,
on CUDA the wall time.
Usage: python benchmarks/bench_batched_lifelong.py [--device auto|cpu|cuda] [--networks 1 6 21]
       [--kinds presyn ablation sgd adam bgd] [--steps 60] [--hidden 200 200] [--n-train 60000]
The LAST line printed is one JSON object: {"device", "clock", "results": [{kind, networks,
unbatched_s_per_epoch_per_network, stacked_s_per_epoch_per_network, speedup}, ...]}.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path

import torch
import yaml

from presyn import planning
from presyn.data import load_processed, make_synthetic, save_processed
from presyn.factory import build_learner
from presyn.tasks import make_stream
from presyn.training import Generators, resolve_device, set_threads

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK = "perm_mnist"


def model_blocks() -> dict[str, list[dict]]:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    runs = planning.all_runs(cfg, ["lifelong", "ablation"])

    def first(experiment, method=None):
        out = {}
        for s in runs.values():
            if (
                s["experiment"] == experiment
                and s["benchmark"] == BENCHMARK
                and (method is None or s["method"] == method)
            ):
                out.setdefault(s["method"], s["model"])
        return [copy.deepcopy(m) for m in out.values()]

    return {
        "presyn": first("lifelong", "presyn"),
        "ablation": first("ablation"),
        "sgd": first("lifelong", "no_consolidation"),
        "adam": first("lifelong", "joint"),
        "bgd": first("lifelong", "bgd"),
    }


BATCH = {"bgd": 128}  # the protocol's BGD batch (lifelong.methods.bgd.batch_size); 100 otherwise


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def clock(device: torch.device) -> float:
    return time.perf_counter() if device.type == "cuda" else time.process_time()


def networks(models: list[dict], s: int, data, hidden: list[int], device: torch.device, batch: int = 100):
    out = []
    for i in range(s):
        gens = Generators.from_seed(2019 + i, device)
        stream = make_stream(BENCHMARK, data, 2019 + i, 2)
        learner = build_learner(
            models[i % len(models)], [data.x_train.shape[1], *hidden, stream.n_outputs], gens, device
        )
        out.append((learner, stream.task_batches(0, batch, gens.data)))
    return out


def time_unbatched(models, s, data, hidden, device, warmup, steps, per_epoch, batch) -> float:
    nets = networks(models, s, data, hidden, device, batch)
    for _ in range(warmup):
        for learner, batches in nets:
            learner.step(*next(batches))
    sync(device)
    t = clock(device)
    for _ in range(steps):
        for learner, batches in nets:  # one job per network: networks one after another
            learner.step(*next(batches))
    sync(device)
    return (clock(device) - t) / steps * per_epoch / s


def time_stacked(models, s, data, hidden, device, warmup, steps, per_epoch, batch) -> float:
    nets = networks(models, s, data, hidden, device, batch)
    learners = [learner for learner, _ in nets]
    stack = type(learners[0]).stack(learners)
    its = [batches for _, batches in nets]

    def step():
        pairs = [next(b) for b in its]
        stack.step(torch.stack([p[0] for p in pairs]), torch.stack([p[1] for p in pairs]))

    for _ in range(warmup):
        step()
    sync(device)
    t = clock(device)
    for _ in range(steps):
        step()
    sync(device)
    return (clock(device) - t) / steps * per_epoch / s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--networks", type=int, nargs="+", default=[1, 3, 6])
    ap.add_argument("--kinds", nargs="+", default=["presyn", "ablation", "sgd", "adam", "bgd"])
    ap.add_argument("--steps", type=int, default=60, help="timed steps per mode")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    ap.add_argument("--n-train", type=int, default=60000, help="items per task epoch (synthetic data)")
    args = ap.parse_args()
    set_threads(args.threads)
    device = resolve_device(args.device)
    n_train = max(args.n_train, 128 * (args.warmup + args.steps))
    path = Path(f"/tmp/presyn_bench_lifelong_{n_train}.npz")
    if not path.exists():
        save_processed(make_synthetic(n_train, 200, seed=0), path, {"synthetic": True})
    data = load_processed(path, 0.1307, 0.3081, device)
    blocks = model_blocks()
    results = []
    for kind in args.kinds:
        for s in args.networks:
            batch = BATCH.get(kind, 100)
            per_epoch = -(-args.n_train // batch)
            u = time_unbatched(blocks[kind], s, data, args.hidden, device, args.warmup, args.steps, per_epoch, batch)
            b = time_stacked(blocks[kind], s, data, args.hidden, device, args.warmup, args.steps, per_epoch, batch)
            results.append(
                {
                    "kind": kind,
                    "networks": s,
                    "unbatched_s_per_epoch_per_network": round(u, 4),
                    "stacked_s_per_epoch_per_network": round(b, 4),
                    "speedup": round(u / b, 2),
                }
            )
            print(
                f"{kind:9s} S={s:3d}  unbatched {u:8.4f} s/epoch/network   stacked {b:8.4f} s/epoch/network   x{u / b:.2f}",
                flush=True,
            )
    desc = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    print(
        json.dumps(
            {
                "device": desc,
                "clock": "wall" if device.type == "cuda" else "process CPU time",
                "hidden": args.hidden,
                "items_per_epoch": args.n_train,
                "steps_timed": args.steps,
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
