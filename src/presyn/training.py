"""Pieces every training job shares: device and threads, seeded generators, batches,
a tidy metrics log, progress lines and the atomic write of a run's three outputs (all or none)."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import torch

from presyn.io import atomic_dir, write_json, write_table
from presyn.provenance import record
from presyn.safe_io import torch_save

log = logging.getLogger("presyn")

RUN_FILES = ("metrics.parquet", "state.pt", "provenance.json")


def resolve_device(requested: str = "auto") -> torch.device:
    """'auto' -> cuda when present, else cpu; an explicit 'cuda' without a GPU is an error."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"config device={requested!r} but no CUDA device is visible; set device: auto or cpu")
    return torch.device(requested)


def set_threads(threads: int) -> None:
    """Pin torch's intra-op threads to what the scheduler gave this job (no oversubscription)."""
    torch.set_num_threads(max(1, int(threads)))


@dataclass
class Generators:
    """Independent, seeded random streams: initialisation, data order, synapse sampling."""

    init: torch.Generator
    data: torch.Generator
    masks: torch.Generator

    @classmethod
    def from_seed(cls, seed: int, device: torch.device) -> Generators:
        init = torch.Generator().manual_seed(seed)
        data = torch.Generator(device=device).manual_seed(seed + 1)
        masks = torch.Generator(device=device).manual_seed(seed + 2)
        return cls(init, data, masks)


def minibatches(n: int, batch_size: int, generator: torch.Generator, device: torch.device):
    """Shuffled index slices covering n items once (the last batch may be smaller)."""
    order = torch.randperm(n, generator=generator, device=device)
    return torch.split(order, batch_size)


@dataclass
class MetricsLog:
    """Tidy rows: one per epoch x evaluated task x metric."""

    ids: dict
    rows: list = field(default_factory=list)

    def add(self, epoch: int, metrics: dict[str, float], task: str = "all") -> None:
        for name, value in metrics.items():
            self.rows.append({**self.ids, "epoch": epoch, "task": str(task), "metric": name, "value": float(value)})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)


class Progress:
    """One line per epoch on the job's log: where it is, how fast, how well."""

    def __init__(self, label: str, total_epochs: int) -> None:
        self.label, self.total, self.t0 = label, total_epochs, time.perf_counter()

    def epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        elapsed = time.perf_counter() - self.t0
        eta = elapsed / max(epoch, 1) * (self.total - epoch)
        shown = " ".join(f"{k}={v:.4g}" for k, v in metrics.items())
        log.info("%s epoch %d/%d %s [%.1fs, eta %.0fs]", self.label, epoch, self.total, shown, elapsed, eta)


def check_finite(loss: torch.Tensor, label: str, epoch: int, step: int) -> None:
    """Stop a diverging run with the place it diverged; nothing is written afterwards."""
    if not torch.isfinite(loss):
        raise FloatingPointError(
            f"{label}: loss is {float(loss)} at epoch {epoch}, step {step}; "
            "the run diverged (lower the learning rate); no results were written"
        )


class FiniteWatch:
    """Remembers the first minibatch of an epoch whose loss was not finite, on the device
    (no host sync per step); ``check`` raises naming run, epoch and that step."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.reset()

    def reset(self) -> None:
        self._step = torch.full((), -1, dtype=torch.long, device=self.device)
        self._loss = torch.zeros((), device=self.device)

    def update(self, loss: torch.Tensor, step: int) -> None:
        new = ~torch.isfinite(loss) & (self._step < 0)
        self._step = torch.where(new, step, self._step)
        self._loss = torch.where(new, loss.detach().float(), self._loss)

    def check(self, label: str | list[str], epoch: int) -> None:
        """``label``: the run's, or one per network when the loss is one per network (a stacked job)."""
        labels = [label] if isinstance(label, str) else label
        for lab, step, loss in zip(labels, self._step.reshape(-1).tolist(), self._loss.reshape(-1).tolist()):
            if step >= 0:
                raise FloatingPointError(
                    f"{lab}: loss is {loss} at epoch {epoch}, step {step} (first non-finite "
                    "minibatch of the epoch); the run diverged (lower the learning rate); no results were written"
                )
        self.reset()


def save_run(
    out_dir: str | Path, metrics: pd.DataFrame, state: dict, spec: dict, device: torch.device, extra: dict | None = None
) -> None:
    """Write metrics.parquet, state.pt and provenance.json as one unit: into a hidden staging folder
    beside ``out_dir``, which then replaces ``out_dir`` by one rename (``presyn.io.atomic_dir``). A kill
    at any point leaves the run folder with all three files or none, never one or two; anything else in
    the old run folder (the lifelong checkpoint) goes with it."""
    prov = record(spec, spec["seed"], str(device), extra)
    metrics = metrics.assign(config_hash=prov["config_hash"])
    metrics.attrs["provenance"] = prov  # stored in the parquet file's metadata (pd.read_parquet(...).attrs)
    with atomic_dir(out_dir) as stage:
        write_table(metrics, stage / "metrics.parquet")
        # plain data only (tensors, numbers, strings, lists, dicts; the provenance as in provenance.json), so that
        # state.pt is read with weights_only=True wherever it goes (presyn.safe_io)
        torch_save({**state, "provenance": json.loads(json.dumps(prov, default=str))}, stage / "state.pt")
        write_json(prov, stage / "provenance.json")
