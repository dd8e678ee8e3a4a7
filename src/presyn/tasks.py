"""Lifelong-learning task streams as index and permutation operations on resident tensors
(docs/protocol.md#task-streams).

A benchmark is a ``TaskStream`` over one ``presyn.data.Dataset``:

- ``split_<dataset>``: 5 tasks, digit pairs (0,1) (2,3) (4,5) (6,7) (8,9); label = class % 2; one shared
  2-unit head; no task identity at test time (domain-incremental). A task is a set of row indices.
- ``perm_<dataset>``: 10 tasks; task t sees every image with its pixels reordered by a fixed random
  permutation drawn from the run's seed (all tasks permuted). A task is a permutation; every task uses
  all rows.
- ``cont_perm_<dataset>``: the permuted tasks presented with smooth boundaries (``continuous_share``):
  each sample's task is drawn from a mixture that blends over 25% of a task's duration.

Nothing is copied per task: a batch is ``x[rows]`` (one index op) followed, for permuted tasks, by one
``gather`` with the per-row permutation (``perms[task_of_row]``), so batches that mix tasks (continuous
stream, joint training) cost the same as single-task ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from presyn.data import Dataset
from presyn.planning.core import kind_of  # the one spelling of a benchmark's kind (the planners use it too)

SPLIT_PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))


def permutations(n_tasks: int, n_pixels: int, seed: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(n_tasks, n_pixels) fixed random pixel permutations, drawn from ``seed`` on the CPU."""
    gen = torch.Generator().manual_seed(int(seed))
    return torch.stack([torch.randperm(n_pixels, generator=gen) for _ in range(n_tasks)]).to(device)


def continuous_share(u: torch.Tensor, n_tasks: int, blend: float = 0.25) -> torch.Tensor:
    """Task mixture at stream position ``u`` (in task units, 0 <= u < n_tasks), shape (len(u), n_tasks).

    Within task t (f = u - t in [0, 1)): during the first blend/2 of the task the new task's share rises
    linearly 0.5 -> 1 while task t-1's falls 0.5 -> 0; during the last blend/2 task t's share falls
    1 -> 0.5 while task t+1's rises 0 -> 0.5. The first task has no in-transition and the last none out.
    Every row sums to 1 and the mixture is continuous (0.5 / 0.5 exactly at each boundary).
    """
    u = torch.as_tensor(u, dtype=torch.float64)
    half = blend / 2
    t = torch.clamp(u.floor().long(), 0, n_tasks - 1)
    f = u - t.double()
    share = torch.zeros(len(u), n_tasks, dtype=torch.float64)
    rows = torch.arange(len(u))
    own = torch.ones(len(u), dtype=torch.float64)
    ramp_in = (f < half) & (t > 0)
    ramp_out = (f > 1 - half) & (t < n_tasks - 1)
    own = torch.where(ramp_in, 0.5 + 0.5 * f / half, own)
    own = torch.where(ramp_out, 1 - 0.5 * (f - (1 - half)) / half, own)
    share[rows, t] = own
    prev = ramp_in.nonzero().squeeze(1)
    share[prev, t[prev] - 1] = 1 - own[prev]
    nxt = ramp_out.nonzero().squeeze(1)
    share[nxt, t[nxt] + 1] = 1 - own[nxt]
    return share


@dataclass
class TaskStream:
    """A lifelong benchmark over resident tensors: which rows and which permutation each task uses."""

    benchmark: str
    data: Dataset
    n_tasks: int
    n_outputs: int
    y_train: torch.Tensor  # labels as the network sees them (class % 2 for split)
    y_test: torch.Tensor
    train_rows: list[torch.Tensor]  # per task: row indices into data.x_train
    test_rows: list[torch.Tensor]
    perms: torch.Tensor | None  # (n_tasks, n_pixels) for permuted benchmarks, else None
    continuous: bool = False
    blend: float = 0.25

    @property
    def kind(self) -> str:
        return kind_of(self.benchmark)

    def inputs(self, x: torch.Tensor, rows: torch.Tensor, tasks: torch.Tensor | int | None) -> torch.Tensor:
        """x[rows], each row permuted by its task's permutation (one gather) when the benchmark permutes."""
        xb = x[rows]
        if self.perms is None:
            return xb
        if isinstance(tasks, int):
            return xb[:, self.perms[tasks]]
        return torch.gather(xb, 1, self.perms[tasks])

    def train_batch(self, rows: torch.Tensor, tasks: torch.Tensor | int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.inputs(self.data.x_train, rows, tasks), self.y_train[rows]

    def test_set(self, task: int) -> tuple[torch.Tensor, torch.Tensor]:
        rows = self.test_rows[task]
        return self.inputs(self.data.x_test, rows, task), self.y_test[rows]

    def task_batches(self, task: int, batch_size: int, generator: torch.Generator):
        """One epoch of task ``task``: shuffled batches of its rows, as (x, y)."""
        rows = self.train_rows[task]
        order = torch.randperm(len(rows), generator=generator, device=rows.device)
        for idx in torch.split(order, batch_size):
            yield self.train_batch(rows[idx], task)

    def continuous_batches(
        self, task: int, epoch: int, epochs_per_task: int, batch_size: int, generator: torch.Generator
    ):
        """One epoch's worth of samples of the continuous stream at (task, epoch): each sample's task is drawn
        from ``continuous_share`` at its own position; its image is a uniformly drawn row of that task."""
        n = len(self.train_rows[task])
        order = torch.randperm(n, generator=generator, device=self.y_train.device)
        start = task + epoch / epochs_per_task
        pos = start + torch.arange(n, dtype=torch.float64) / (n * epochs_per_task)
        share = continuous_share(pos, self.n_tasks, self.blend).to(self.y_train.device, torch.float32)
        tasks = torch.multinomial(share, 1, generator=generator).squeeze(1)
        for idx in torch.split(torch.arange(n, device=self.y_train.device), batch_size):
            t = tasks[idx]
            rows = self.train_rows[0][order[idx]]  # permuted tasks share every row
            yield self.train_batch(rows, t)

    def joint_batches(self, batch_size: int, generator: torch.Generator):
        """One epoch of joint training: every (task, row) pair once, shuffled, tasks mixed within batches."""
        all_rows = torch.cat(self.train_rows)
        sizes = torch.tensor([len(r) for r in self.train_rows], device=all_rows.device)
        task_of = torch.repeat_interleave(torch.arange(self.n_tasks, device=all_rows.device), sizes)
        order = torch.randperm(len(all_rows), generator=generator, device=all_rows.device)
        for idx in torch.split(order, batch_size):
            yield self.train_batch(all_rows[idx], task_of[idx])

    def task_train_set(self, task: int, limit: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The first ``limit`` rows of a task's training data (EWC's Fisher estimate)."""
        rows = self.train_rows[task]
        if limit:
            rows = rows[:limit]
        return self.train_batch(rows, task)


def make_stream(
    benchmark: str, data: Dataset, seed: int, n_tasks: int | None = None, blend: float = 0.25
) -> TaskStream:
    """The task stream of ``benchmark`` over ``data``; permutations drawn from ``seed``.

    ``n_tasks`` (default 5 split / 10 permuted) may be lowered for toy configs.
    """
    kind = kind_of(benchmark)
    device = data.x_train.device
    if kind == "split":
        pairs = SPLIT_PAIRS[: n_tasks or len(SPLIT_PAIRS)]
        train_rows = [torch.nonzero((data.y_train == a) | (data.y_train == b)).squeeze(1) for a, b in pairs]
        test_rows = [torch.nonzero((data.y_test == a) | (data.y_test == b)).squeeze(1) for a, b in pairs]
        for i, (rows, (a, b)) in enumerate(zip(train_rows, pairs)):
            if len(rows) == 0:
                raise ValueError(f"{benchmark}: task {i + 1} (digits {a}, {b}) has no training items in this data")
        return TaskStream(
            benchmark, data, len(pairs), 2, data.y_train % 2, data.y_test % 2, train_rows, test_rows, None
        )
    n = n_tasks or 10
    perms = permutations(n, data.x_train.shape[1], seed, device)
    all_train = torch.arange(data.x_train.shape[0], device=device)
    all_test = torch.arange(data.x_test.shape[0], device=device)
    return TaskStream(
        benchmark,
        data,
        n,
        data.n_classes,
        data.y_train,
        data.y_test,
        [all_train] * n,
        [all_test] * n,
        perms,
        continuous=(kind == "cont_perm"),
        blend=blend,
    )
