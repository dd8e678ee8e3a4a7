"""Lifelong learning in a perceptron (Fig 5b, c; docs/protocol.md#fig-5b-c-perceptron).

A single sign unit with N inputs memorises T tasks of P random patterns x in {-1, 1}^N with
random labels y in {-1, 1}, one task after the other, ``passes`` passes per task in a fixed
order, each update averaged over a batch of ``batch_size`` patterns; weights start at 0.

* standard: y_hat = sign(x . w);  w += mean_batch((y - y_hat) x)
* presyn (stochastic synapses, presynaptically consolidated): an independent Bernoulli(p)
  mask s per pattern, y_hat = sign((x * s) . (w / p));  u = mean_batch((y - y_hat) x * s);
  w += u * (1 - p) (modulation; u without it);  for unfrozen synapses (p < p_freeze)
  p <- clip(p + (1 - p) * (+p_up if |u| > g_lim else -p_down), p_min, p_max).
* test: standard sign(x . w); presyn a majority vote of ``eval_samples`` sampled outputs.
  An output of 0 (or a tied vote) counts as wrong.

Everything is vectorised over repetitions (independent perceptrons with their own patterns)
and over the patterns of a batch: tensors are (R, batch, N); the only Python loops are over
tasks, passes, batches and test samples. The runs (Fig 5 and the near-capacity series) are planned by
``presyn.planning.perceptron``.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from presyn import presyn_rule

log = logging.getLogger("presyn")

METHOD_KINDS = ("standard", "presyn")


DTYPE = torch.float64  # exact enough that an output which is 0 in exact arithmetic is seen as a tie
TIE_TOL = 1e-9  # |x . w| at or below this is an output of 0 (rounding noise of float64 sums is ~1e-13)


def output_sign(z: torch.Tensor) -> torch.Tensor:
    """sign(z) with exact-arithmetic zeros kept at 0 (sums of +-1 x lattice weights round to ~1e-13, not 0)."""
    return torch.where(z.abs() <= TIE_TOL, torch.zeros_like(z), torch.sign(z))


def bernoulli_mask(p: torch.Tensor, generator: torch.Generator | None, out: torch.Tensor | None = None) -> torch.Tensor:
    """Float {0, 1} mask with P(1) = p elementwise: ceil(p - u), u ~ U[0, 1) (1 exactly when u < p)."""
    u = torch.rand(p.shape, generator=generator, dtype=torch.float32, out=out)  # float32 draws: twice as fast
    return torch.sub(p, u).ceil_()


@dataclass
class PerceptronRule:
    """The stochastic perceptron's metaplasticity (g_lim 0.1, p_up = p_down = 0.2, p in [0.25, 0.9]; docs/protocol.md#fig-5b-c-perceptron)."""

    p_up: float = 0.2
    p_down: float = 0.2
    g_lim: float = 0.1  # |u| > g_lim counts as a large update (strict, as in the paper's eq. 4)
    p_min: float = 0.25  # lower clip and initial value of p
    p_max: float = 0.9  # upper clip
    p_freeze: float = 0.9  # p >= p_freeze never changes again
    modulation: bool = True  # scale the strength update by (1 - p)


@dataclass
class Tasks:
    """Patterns x (R, T, P, N) in {-1, 1} and labels y (R, T, P) in {-1, 1}."""

    x: torch.Tensor
    y: torch.Tensor

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.x.shape)


def make_tasks(repetitions: int, n_tasks: int, n_patterns: int, n_inputs: int, generator: torch.Generator) -> Tasks:
    """Uniform random +-1 patterns and labels, independent per repetition and task."""
    x = torch.randint(0, 2, (repetitions, n_tasks, n_patterns, n_inputs), generator=generator).to(DTYPE).mul_(2).sub_(1)
    y = torch.randint(0, 2, (repetitions, n_tasks, n_patterns), generator=generator).to(DTYPE).mul_(2).sub_(1)
    return Tasks(x, y)


def standard_update(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One averaged Rosenblatt update in place. w (R, N), x (R, B, N), y (R, B). Returns the update."""
    y_hat = output_sign(torch.einsum("rbn,rn->rb", x, w))
    u = ((y - y_hat).unsqueeze(-1) * x).mean(1)
    w.add_(u)
    return u


def presyn_update(
    w: torch.Tensor,
    p: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    rule: PerceptronRule,
    generator: torch.Generator | None = None,
    mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """One averaged update of the stochastic perceptron in place (w, p: (R, N)); returns u.

    ``mask`` (R, B, N) may be given (tests); otherwise one Bernoulli(p) mask per pattern is drawn.
    """
    if mask is None:
        mask = bernoulli_mask(p.unsqueeze(1).expand(x.shape).contiguous(), generator)
    xs = x * mask
    y_hat = output_sign(torch.einsum("rbn,rn->rb", xs, w / p))
    u = ((y - y_hat).unsqueeze(-1) * xs).mean(1)
    w_new, p_new = presyn_rule.update(w, p, u.neg(), **rule_constants(rule))
    w.copy_(w_new)
    p.copy_(p_new)
    return u


def rule_constants(rule: PerceptronRule) -> dict:
    """The perceptron's rule as ``presyn_rule.update``'s arguments, for the gradient g = -u (w += u is w -= 1 * g).

    w <- w + u (1 - p)^[modulation] exactly (lr 1, no decay); p's clip at p_max; the strict |u| > g_lim is
    |u| >= the next float64 above g_lim (exactly the same test for float64 u). p_up and p_down enter as their
    float32 values, as the perceptron has always run them (its former torch.where(.., p_up, -p_down) of two
    Python floats was a float32 tensor): the recorded Fig 5 runs keep their numbers bit for bit."""
    return dict(
        lr=1.0,
        weight_decay=0.0,
        p_up=_as_float32(rule.p_up),
        p_down=_as_float32(rule.p_down),
        g_lim=math.nextafter(rule.g_lim, math.inf),
        p_min=rule.p_min,
        p_max=rule.p_max,
        p_freeze=rule.p_freeze,
        modulation=rule.modulation,
        learn_p=True,
    )


def _as_float32(x: float) -> float:
    return float(torch.tensor(x, dtype=torch.float32))


@torch.no_grad()
def accuracy(
    kind: str,
    w: torch.Tensor,
    p: torch.Tensor | None,
    x: torch.Tensor,
    y: torch.Tensor,
    n_samples: int = 10,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-repetition accuracy (R,) on patterns x (R, M, N), labels y (R, M).

    standard: sign(x . w) == y. presyn: the sign of the summed signs of ``n_samples`` sampled
    outputs (fresh mask per pattern and sample) == y. Zero outputs and tied votes are wrong.
    """
    if kind == "standard":
        out = output_sign(torch.einsum("rmn,rn->rm", x, w))
    else:
        scaled = w / p
        out = torch.zeros_like(y)
        p_full = p.unsqueeze(1).expand(x.shape).contiguous()
        buf = torch.empty(p_full.shape, dtype=torch.float32)
        for _ in range(n_samples):
            mask = bernoulli_mask(p_full, generator, out=buf)
            out += output_sign(torch.einsum("rmn,rn->rm", x * mask, scaled))
        out = torch.sign(out)
    return (out == y).float().mean(1)


def run(
    kind: str,
    tasks: Tasks,
    passes: int,
    batch_size: int,
    rule: PerceptronRule | None = None,
    eval_samples: int = 10,
    eval_every: int = 1,
    generator: torch.Generator | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Train one method on all tasks in order. Every task is evaluated before learning and after
    each task's last pass; task 1 also after every ``eval_every`` passes (Fig 5b; 0 = task ends only).

    Returns tidy rows (repetition, task_trained, pass, epoch, task, metric, value) and the final
    state {w, p}. ``epoch`` counts passes over all tasks (1 .. T * passes); epoch 0 is before learning.
    """
    if kind not in METHOD_KINDS:
        raise ValueError(f"unknown perceptron method kind {kind!r}; known: {', '.join(METHOD_KINDS)}")
    rule = rule or PerceptronRule()
    R, T, P, N = tasks.shape
    if P % batch_size:
        raise ValueError(f"{P} patterns per task do not split into batches of {batch_size}")
    dtype = tasks.x.dtype
    w = torch.zeros(R, N, dtype=dtype)
    p = torch.full((R, N), float(rule.p_min), dtype=dtype) if kind == "presyn" else torch.ones(R, N, dtype=dtype)
    rows: list[dict] = []
    last: list[torch.Tensor] = []  # per-task accuracies (R,) of the latest evaluation

    def measure(epoch: int, task_trained: int, pass_in_task: int, n_eval: int = T) -> None:
        last[:n_eval] = [
            accuracy(kind, w, p, tasks.x[:, t], tasks.y[:, t], eval_samples, generator) for t in range(n_eval)
        ]
        values = {str(t + 1): ("accuracy", last[t]) for t in range(n_eval)}
        frozen = (p >= rule.p_freeze).float().mean(1) if kind == "presyn" else torch.zeros(R)
        extra = [("mean_p", p.mean(1)), ("fraction_frozen", frozen), ("mean_abs_w", w.abs().mean(1))]
        ids = {"task_trained": task_trained, "pass": pass_in_task, "epoch": epoch}
        for task, (metric, vals) in [*values.items(), *(("all", m) for m in extra)]:
            rows.extend(
                {"repetition": r, **ids, "task": task, "metric": metric, "value": float(v)}
                for r, v in enumerate(vals.tolist())
            )

    measure(0, 0, 0)
    epoch, t0 = 0, time.perf_counter()
    for t in range(T):
        x_t = tasks.x[:, t].reshape(R, P // batch_size, batch_size, N)
        y_t = tasks.y[:, t].reshape(R, P // batch_size, batch_size)
        for k in range(1, passes + 1):
            for b in range(P // batch_size):
                if kind == "standard":
                    standard_update(w, x_t[:, b], y_t[:, b])
                else:
                    presyn_update(w, p, x_t[:, b], y_t[:, b], rule, generator)
            epoch += 1
            if k == passes:
                measure(epoch, t + 1, k)  # every task after each task
            elif eval_every and k % eval_every == 0:
                measure(epoch, t + 1, k, n_eval=1)  # task 1 only in between (Fig 5b)
        log.info(
            "perceptron %s: task %d/%d learned, task-1 accuracy %.3f, mean accuracy so far %.3f [%.1fs]",
            kind,
            t + 1,
            T,
            float(last[0].mean()),
            float(torch.stack(last[: t + 1]).mean()),
            time.perf_counter() - t0,
        )
    return pd.DataFrame(rows), {"w": w.clone(), "p": p.clone()}


def rule_from(method: dict) -> PerceptronRule:
    """A config method block -> PerceptronRule (only the rule's own keys)."""
    keys = PerceptronRule.__dataclass_fields__
    return PerceptronRule(**{k: v for k, v in method.items() if k in keys})


def train(spec: dict, inputs: dict, out_dir: Path, device: torch.device | str = "cpu") -> None:
    """One perceptron run (method x seed, all repetitions at once): metrics.parquet, state.pt, provenance.json.

    The patterns come from the seed alone (generator ``seed``), so every method of one seed sees the
    same tasks (paired repetitions); the synapse samples come from ``seed + 2``. Runs on the CPU.
    """
    from presyn.training import save_run

    torch.manual_seed(spec["seed"])
    tasks = make_tasks(
        spec["repetitions"],
        spec["n_tasks"],
        spec["n_patterns"],
        spec["n_inputs"],
        torch.Generator().manual_seed(spec["seed"]),
    )
    masks = torch.Generator().manual_seed(spec["seed"] + 2)
    model = spec["model"]
    t0 = time.perf_counter()
    df, state = run(
        model["kind"],
        tasks,
        spec["passes"],
        spec["batch_size"],
        rule_from(model),
        spec["eval_samples"],
        spec.get("eval_every", 1),
        masks,
    )
    seconds = time.perf_counter() - t0
    ids = {k: spec[k] for k in ("experiment", "method", "benchmark", "seed")}
    df = pd.concat([pd.DataFrame({k: [v] * len(df) for k, v in ids.items()}), df], axis=1)
    save_run(out_dir, df, state, spec, torch.device("cpu"), {"train_seconds": seconds})
