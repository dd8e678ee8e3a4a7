"""EWC's diagonal Fisher at a task end: the matmul form of ``presyn.baselines`` against per-example autograd
(``torch.func``: vmap of grad / jacrev, what the code used before 2026-12-05), on the lifelong network.

    .venv/bin/python benchmarks/bench_fisher.py --samples 1024 --threads 1

Prints one JSON line: seconds per Fisher (best of --reps) and the largest absolute difference."""

from __future__ import annotations

import argparse
import json
import time

import torch
from torch.func import grad, jacrev, vmap

from presyn.baselines import FISHERS, flat_params, unflatten
from presyn.models import SynapticMLP


def _log_probs(theta: torch.Tensor, x: torch.Tensor, net: SynapticMLP) -> torch.Tensor:
    weights, biases = unflatten(net, theta)
    h = x
    for i, (W, b) in enumerate(zip(weights, biases)):
        h = W @ h + b
        if i < len(weights) - 1:
            h = torch.relu(h)
    return torch.log_softmax(h, -1)


def autograd_fisher(kind: str, net: SynapticMLP, x: torch.Tensor, y: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    theta = flat_params(net)
    total = torch.zeros_like(theta)
    for s in range(0, x.shape[0], chunk):
        xb, yb = x[s : s + chunk], y[s : s + chunk]
        if kind == "empirical":
            g = vmap(
                grad(lambda t, xi, yi: _log_probs(t, xi, net).gather(0, yi.reshape(1)).squeeze(0)), in_dims=(None, 0, 0)
            )(theta, xb, yb)
            total += g.square().sum(0)
        else:
            jac = vmap(jacrev(_log_probs), in_dims=(None, 0, None))(theta, xb, net)
            probs = vmap(_log_probs, in_dims=(None, 0, None))(theta, xb, net).exp()
            total += torch.einsum("bc,bcp->p", probs, jac.square())
    return total / x.shape[0]


def best_of(fn, reps: int) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=1024)
    ap.add_argument("--hidden", type=int, nargs="+", default=[200, 200])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    net = SynapticMLP([784, *args.hidden, 10], gen, p_init=1.0)
    x, y = torch.rand(args.samples, 784, generator=gen), torch.randint(0, 10, (args.samples,), generator=gen)
    result = {"samples": args.samples, "hidden": args.hidden, "threads": args.threads}
    for kind in ("empirical", "exact"):
        fast_s, fast = best_of(lambda kind=kind: FISHERS[kind](net, x, y), args.reps)
        slow_s, slow = best_of(lambda kind=kind: autograd_fisher(kind, net, x, y), 1)
        result[kind] = {
            "matmul_s": round(fast_s, 4),
            "autograd_s": round(slow_s, 3),
            "max_abs_diff": float((fast - slow).abs().max()),
            "max_abs": float(slow.abs().max()),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
