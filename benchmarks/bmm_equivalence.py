"""Is a stacked step (torch.bmm / baddbmm over S networks) bit-identical to S unstacked steps (mm / addmm)? (issue 31)

Measures, on this CPU and torch build, at the layer sizes of the config (784-200-200-10 energy and permuted,
784-200-200-2 split, 1024-200-200-10 BGD's padded inputs, the tests' toy [16, 16] / [32, 32]) and batch sizes
100 (BGD: 128, with K = 10 samples per network, S * K networks per bmm):

1. op by op: baddbmm vs addmm (forward), bmm(d^T, a) vs mm (weight gradient: a sum over the batch), bmm(d, W)
   vs mm (input gradient: a sum over the outputs), the loss and bias reductions (mean / sum over the batch of an
   (S, B, .) tensor vs of each (B, .) slice);
2. the whole step the two engines run: ``SynapticMLP``'s forward / backward on S = 3 stacked networks
   vs ``SynapticMLP.forward`` / ``backward`` of each network (loss, weight and bias gradients).

Each at 1 and 2 torch threads, over several random draws. Writes benchmarks/results/bmm_equivalence.md.

    python benchmarks/bmm_equivalence.py
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "bmm_equivalence.md"
SIZES = {  # name: (layer sizes, batch, networks per bmm)
    "energy / perm 784-200-200-10, B 100": ([784, 200, 200, 10], 100, 3),
    "S = 1 energy / perm 784-200-200-10, B 100": ([784, 200, 200, 10], 100, 1),
    "split 784-200-200-2, B 100": ([784, 200, 200, 2], 100, 3),
    "BGD perm 784-200-200-10, B 128, S 3 x K 10": ([784, 200, 200, 10], 128, 30),
    "BGD padded32 1024-200-200-10, B 128, S 3 x K 10": ([1024, 200, 200, 10], 128, 30),
    "S = 32 jobs 784-200-200-10, B 100": ([784, 200, 200, 10], 100, 32),
    "tests 784-16-16-10, B 100": ([784, 16, 16, 10], 100, 3),
    "tests 784-32-32-2, B 100": ([784, 32, 32, 2], 100, 3),
}
DRAWS = 5


def _cmp(a: torch.Tensor, b: torch.Tensor) -> tuple[int, int, float]:
    diff = a != b
    return int(diff.sum()), a.numel(), float((a.double() - b.double()).abs().max()) if diff.any() else 0.0


def op_by_op(sizes: list[int], batch: int, S: int, gen: torch.Generator) -> dict[str, list[int]]:
    """Mismatching elements / total, per op, summed over layers and draws."""
    out: dict[str, list] = {}

    def add(name, a, b):
        n, tot, worst = _cmp(a, b)
        acc = out.setdefault(name, [0, 0, 0.0])
        acc[0] += n
        acc[1] += tot
        acc[2] = max(acc[2], worst)

    for _ in range(DRAWS):
        h = torch.randn(S, batch, sizes[0], generator=gen)
        for i in range(len(sizes) - 1):
            n_in, n_out = sizes[i], sizes[i + 1]
            scale = (torch.rand(S, n_out, n_in, generator=gen) < 0.5).float() / 0.5  # a Bernoulli(0.5) mask / p
            W = torch.randn(S, n_out, n_in, generator=gen) * n_in**-0.5 * scale
            b = torch.randn(S, n_out, generator=gen) * 0.01
            z = torch.baddbmm(b.unsqueeze(1), h, W.transpose(1, 2))
            add("forward baddbmm vs addmm", z, torch.stack([torch.addmm(b[s], h[s], W[s].t()) for s in range(S)]))
            d = torch.randn(S, batch, n_out, generator=gen) / batch
            add(
                "weight grad bmm(d^T, a) vs mm",
                torch.bmm(d.transpose(1, 2), h),
                torch.stack([torch.mm(d[s].t(), h[s]) for s in range(S)]),
            )
            add("input grad bmm(d, W) vs d @ W", torch.bmm(d, W), torch.stack([d[s] @ W[s] for s in range(S)]))
            add("bias grad d.sum(1) vs d[s].sum(0)", d.sum(1), torch.stack([d[s].sum(0) for s in range(S)]))
            h = torch.relu(z)
        logp = torch.log_softmax(torch.randn(S, batch, sizes[-1], generator=gen), 2)
        add(
            "loss mean(1) vs per-network mean()",
            logp[..., 0].mean(1),
            torch.stack([logp[s, :, 0].mean() for s in range(S)]),
        )
    return out


def whole_step(sizes: list[int], batch: int, S: int, seed: int) -> dict[str, list]:
    """A stacked SynapticMLP's forward / backward vs each network's alone, fixed-p presynaptic nets."""
    from presyn.factory import build_learner
    from presyn.training import Generators

    dev = torch.device("cpu")
    learners = [
        build_learner({"kind": "presyn", "lr": 0.05}, sizes, Generators.from_seed(seed + s, dev), dev) for s in range(S)
    ]
    gen = torch.Generator().manual_seed(seed)
    stacked = build_learner(
        [{"kind": "presyn", "lr": 0.05}] * S, sizes, [Generators.from_seed(seed + s, dev) for s in range(S)], dev
    ).net
    out: dict[str, list] = {}
    for _ in range(DRAWS):
        x = torch.randn(S, batch, sizes[0], generator=gen)
        y = torch.randint(0, sizes[-1], (S, batch), generator=gen)
        scale = (torch.rand(stacked.w.shape, generator=gen) < 0.5).float() / 0.5
        w_eff = stacked.w * scale
        grad = torch.empty_like(stacked.w)
        loss, grad_b = stacked.backward(stacked.forward(x, w_eff), y, w_eff, grad)
        for s, l in enumerate(learners):
            g1 = torch.empty_like(l.net.w)
            fwd = l.net.forward(x[s], w_eff[s])
            loss1, gb1 = l.net.backward(fwd, y[s], w_eff[s], g1)
            for name, a, b in [
                ("loss", loss[s].reshape(1), loss1.reshape(1)),
                ("weight grads", grad[s], g1),
                *(("bias grads", grad_b[i][s], gb1[i]) for i in range(len(gb1))),
            ]:
                n, tot, worst = _cmp(a, b)
                acc = out.setdefault(name, [0, 0, 0.0])
                acc[0] += n
                acc[1] += tot
                acc[2] = max(acc[2], worst)
    return out


def main() -> None:
    lines = [
        "# bmm over S vs S separate mm: bit-identical? (issue 31, step 3)",
        "",
        f"Written by `benchmarks/bmm_equivalence.py` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{torch.backends.cpu.get_cpu_capability()} kernels, CPU only (no GPU measured). "
        f"{DRAWS} random draws per row; 'differ' = elements not bit-equal / all compared, 'max |diff|' the largest.",
        "",
    ]
    tables, summary = [], []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        gen = torch.Generator().manual_seed(0)
        tables += [
            f"## {threads} torch thread{'s' if threads > 1 else ''}",
            "",
            "| sizes | op | differ | max abs diff |",
            "|---|---|---|---|",
        ]
        differing = []
        for name, (sizes, batch, S) in SIZES.items():
            rows = [(op, r) for op, r in op_by_op(sizes, batch, S, gen).items()]
            if "BGD" not in name:
                rows += [
                    (f"whole step (stacked S networks vs each alone): {op}", r)
                    for op, r in whole_step(sizes, batch, S, 2019).items()
                ]
            for op, (n, tot, worst) in rows:
                tables.append(f"| {name} | {op} | {n} / {tot} | {worst:.3g} |")
                if n:
                    differing.append(f"{op} [{name}]")
        tables.append("")
        summary.append(
            f"- {threads} thread{'s' if threads > 1 else ''}: "
            + ("every op bit-identical" if not differing else "not bit-identical: " + "; ".join(differing))
        )
    notes = [
        "Notes: the 'whole step ... loss' rows compare two loss formulas, not bmm with mm: the stacked engine averages",
        "`-log_softmax.gather(..).mean(1)` over the (S, B) batch, `SynapticMLP.backward` calls `F.nll_loss` (another",
        "summation order); the loss is only logged (train_loss), the gradients do not use it. The S = 1 rows are what",
        "a per-run job would compute through a stacked code path. Training jobs run with `train_threads: 1`.",
        "",
    ]
    lines += ["## Summary", "", *summary, "", *notes, *tables]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
