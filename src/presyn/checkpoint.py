"""Checkpoints of long training runs (the lifelong task streams): resume after preemption.

After each task the trainer saves, atomically, ``<run dir>/checkpoint.pt`` holding everything
the rest of the run depends on: the learner object whole (strengths, release probabilities,
biases, optimiser state, EWC anchors / BGD means and variances, ...), the random generators
(initialisation, data order, masks: their exact states), the metric rows so far and the loop
position (next task, epoch counter, timers, last accuracies). A rerun of the same job finds it,
checks it belongs to the same run spec, and continues from the next task; the final numbers are
bit-identical on CPU to an uninterrupted run of the same seed. The file is not a declared
Snakemake output (a killed job never leaves a result that looks complete); it goes when the
run's results are written (``training.save_run`` replaces the whole run folder, checkpoint and
any set-aside ``checkpoint.pt.stale`` included).

``PRESYN_CHECKPOINT=0`` in the environment turns saving and resuming off (a run then always
starts from scratch); delete ``checkpoint.pt`` to restart one run from scratch.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import torch

from presyn.io import atomic_path
from presyn.provenance import code_version

log = logging.getLogger("presyn")

FILENAME = "checkpoint.pt"
ENV = "PRESYN_CHECKPOINT"
FORMAT = 1


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def path_for(out_dir: str | os.PathLike) -> Path:
    return Path(out_dir) / FILENAME


def save(out_dir: str | os.PathLike, spec: dict, learner: Any, gens: Any, rows: list[dict], position: dict) -> Path | None:
    """Write the checkpoint atomically (a kill mid-save leaves the previous checkpoint intact)."""
    if not enabled():
        return None
    path = path_for(out_dir)
    payload = {
        "format": FORMAT,
        "spec": spec,
        "code_version": code_version(),
        "learner": learner,  # pickled whole: every tensor, optimiser state and flag; shared generators stay shared
        "gens": gens,
        "generator_states": {k: getattr(gens, k).get_state() for k in ("init", "data", "masks")},
        "rows": list(rows),
        "position": dict(position),
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    log.info("checkpoint saved: %s (%s)", path, ", ".join(f"{k}={v}" for k, v in position.items() if not isinstance(v, list)))
    return path


def load(out_dir: str | os.PathLike, spec: dict, device: torch.device | str) -> dict | None:
    """The checkpoint of this run, or None (none there, checkpoints off, or not resumable: then it
    is set aside as ``checkpoint.pt.stale`` with a warning and the run starts from scratch)."""
    path = path_for(out_dir)
    if not enabled() or not path.exists():
        return None
    try:
        payload = torch.load(path, map_location=torch.device(device), weights_only=False)
        reason = None
        if payload.get("format") != FORMAT:
            reason = f"format {payload.get('format')} != {FORMAT}"
        elif payload.get("spec") != spec:
            reason = "it was written for a different run spec (config changed since)"
    except Exception as exc:  # unreadable (e.g. written by other code): never fatal, just not resumable
        payload, reason = None, f"unreadable ({type(exc).__name__}: {exc})"
    if reason:
        stale = path.with_name(FILENAME + ".stale")
        os.replace(path, stale)
        log.warning("checkpoint %s not resumed: %s; moved to %s, starting from scratch", path, reason, stale)
        return None
    gens = payload["gens"]
    for name, state in payload["generator_states"].items():  # the exact states, whatever pickling did
        getattr(gens, name).set_state(state)
    if payload["code_version"] != code_version():
        log.warning("checkpoint %s was written by code %s, resuming with %s", path, payload["code_version"], code_version())
    log.info("resuming from checkpoint %s (%s)", path,
             ", ".join(f"{k}={v}" for k, v in payload["position"].items() if not isinstance(v, list)))
    return payload


def provenance(payload: dict | None) -> dict:
    """What the run's provenance records about a resume (empty for an uninterrupted run)."""
    if not payload:
        return {}
    return {"resumed_from_checkpoint": {k: v for k, v in payload["position"].items() if not isinstance(v, list)}
            | {"checkpoint_code_version": payload["code_version"]}}
