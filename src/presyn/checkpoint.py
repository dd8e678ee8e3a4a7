"""Checkpoints of long training runs (the lifelong task streams): resume after preemption.

After each task the trainer saves, atomically, ``<run dir>/checkpoint.pt`` holding everything
the rest of the run depends on, as plain data (tensors, numbers, strings, lists, dicts): the
learner's state (``learner_state``: strengths, release probabilities, biases, optimiser state,
EWC anchors, Fisher sums / BGD means and variances), the random generators (initialisation, data
order, masks: their exact states and devices), the metric rows so far and the loop position (next
task, epoch counter, timers, last accuracies). A rerun of the same job finds it, checks it belongs
to the same run spec, builds the learner afresh from the spec (``factory.build_learner``, as the
trainer does) and loads that state into it, and continues from the next task; the final numbers are
bit-identical on CPU to an uninterrupted run of the same seed. The file is read with
``weights_only=True`` (``presyn.safe_io``): one that holds anything else (a pickled object, a
function) is refused and set aside like an unreadable one, and nothing in it is run. The file is not
a declared Snakemake output (a killed job never leaves a result that looks complete); it goes when
the run's results are written (``training.save_run`` replaces the whole run folder, checkpoint and
any set-aside ``checkpoint.pt.stale`` included).

``PRESYN_CHECKPOINT=0`` in the environment turns saving and resuming off (a run then always
starts from scratch); delete ``checkpoint.pt`` to restart one run from scratch.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from presyn.io import atomic_path
from presyn.provenance import code_version
from presyn.safe_io import UnsafeFileError, torch_load, torch_save

log = logging.getLogger("presyn")

FILENAME = "checkpoint.pt"
ENV = "PRESYN_CHECKPOINT"
FORMAT = 2  # 1: the learner and generators pickled whole (read only with weights_only=False; set aside now)
GENERATORS = ("init", "data", "masks")


@dataclass
class GeneratorRecord:
    """Where one of the run's generators lives (its exact state is under ``generator_states``)."""

    device: torch.device


@dataclass
class GeneratorDevices:
    """The devices of the run's three generators, readable as ``payload["gens"].masks.device``."""

    init: GeneratorRecord
    data: GeneratorRecord
    masks: GeneratorRecord


RECORDS = (GeneratorRecord, GeneratorDevices)  # the only non-builtin types a checkpoint holds (plain records)


def learner_state(learner: Any) -> dict:
    """Everything a lifelong learner's future depends on, as tensors and plain data; the rest of the learner
    (rule constants, scratch buffers, kernels) follows from the run spec. Raises TypeError for a learner
    type that has no checkpoint format (add it here and to ``load_learner_state``)."""
    from presyn.baselines import BGDLearner, EWCLearner
    from presyn.learners import DeterministicLearner, PresynapticLearner

    net = learner.net
    kind = type(learner).__name__
    if type(learner) is BGDLearner:  # net.w and net.biases are views of mu
        return {"class": kind, "sizes": list(net.sizes), "mu": learner.mu, "sigma": learner.sigma, "p": net.p}
    if type(learner) not in (PresynapticLearner, DeterministicLearner, EWCLearner):
        raise TypeError(f"no checkpoint format for {kind}: add it to presyn.checkpoint.learner_state")
    state = {"class": kind, "sizes": list(net.sizes), "w": net.w, "p": net.p, "biases": list(net.biases)}
    if isinstance(learner, DeterministicLearner):
        state["optimizer"] = learner.optimizer.state_dict()
    if isinstance(learner, EWCLearner):
        state.update(
            tasks=[[fisher, anchor] for fisher, anchor in learner.tasks],
            f_sum=learner._f_sum,
            f_anchor=learner._f_anchor,
        )
    return state


@torch.no_grad()
def load_learner_state(learner: Any, state: dict) -> None:
    """Load ``learner_state``'s output into a learner freshly built from the same spec (in place: every view
    and optimiser reference the learner holds stays valid)."""
    from presyn.baselines import BGDLearner, EWCLearner
    from presyn.learners import DeterministicLearner

    if state["class"] != type(learner).__name__ or list(state["sizes"]) != list(learner.net.sizes):
        raise ValueError(
            f"checkpoint holds a {state['class']} {state['sizes']}, the spec builds a "
            f"{type(learner).__name__} {learner.net.sizes}"
        )
    net = learner.net
    if type(learner) is BGDLearner:
        learner.mu.copy_(state["mu"])
        learner.sigma.copy_(state["sigma"])
        net.p.copy_(state["p"])
        return
    net.w.copy_(state["w"])
    net.p.copy_(state["p"])
    if len(state["biases"]) != len(net.biases):
        raise ValueError(f"checkpoint holds {len(state['biases'])} bias vectors, the network has {len(net.biases)}")
    for b, saved in zip(net.biases, state["biases"]):
        b.copy_(saved)
    if isinstance(learner, DeterministicLearner):
        learner.optimizer.load_state_dict(state["optimizer"])
    if isinstance(learner, EWCLearner):
        device = net.w.device
        learner.tasks = [(fisher.to(device), anchor.to(device)) for fisher, anchor in state["tasks"]]
        learner._f_sum.copy_(state["f_sum"])
        learner._f_anchor.copy_(state["f_anchor"])


def enabled() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def path_for(out_dir: str | os.PathLike) -> Path:
    return Path(out_dir) / FILENAME


def save(
    out_dir: str | os.PathLike, spec: dict, learner: Any, gens: Any, rows: list[dict], position: dict
) -> Path | None:
    """Write the checkpoint atomically (a kill mid-save leaves the previous checkpoint intact)."""
    if not enabled():
        return None
    path = path_for(out_dir)
    payload = {
        "format": FORMAT,
        "spec": spec,
        "code_version": code_version(),
        "learner": learner_state(learner),
        "gens": GeneratorDevices(*(GeneratorRecord(getattr(gens, k).device) for k in GENERATORS)),
        "generator_states": {k: getattr(gens, k).get_state() for k in GENERATORS},
        "rows": list(rows),
        "position": dict(position),
    }
    with atomic_path(path) as tmp:
        torch_save(payload, tmp, RECORDS)  # plain data only: checked before it is written
    log.info(
        "checkpoint saved: %s (%s)", path, ", ".join(f"{k}={v}" for k, v in position.items() if not isinstance(v, list))
    )
    return path


def _resume(payload: dict, spec: dict, device: torch.device) -> tuple[Any, Any]:
    """The learner and generators of ``spec`` built afresh (as the trainer builds them), then the checkpoint's
    learner state and exact generator states loaded into them."""
    from presyn.factory import build_learner
    from presyn.training import Generators

    gens = Generators.from_seed(spec["seed"], device)
    for name in GENERATORS:
        saved, now = getattr(payload["gens"], name).device, getattr(gens, name).device
        if saved.type != now.type:
            raise ValueError(f"its {name} generator was on {saved}, this run's is on {now}")
    learner = build_learner(spec["model"], list(payload["learner"]["sizes"]), gens, device, spec["p_min"])
    load_learner_state(learner, payload["learner"])
    for name in GENERATORS:
        getattr(gens, name).set_state(payload["generator_states"][name].cpu())
    return learner, gens


def load(out_dir: str | os.PathLike, spec: dict, device: torch.device | str) -> dict | None:
    """The checkpoint of this run, or None (none there, checkpoints off, or not resumable: then it
    is set aside as ``checkpoint.pt.stale`` with a warning and the run starts from scratch)."""
    path = path_for(out_dir)
    if not enabled() or not path.exists():
        return None
    device = torch.device(device)
    try:
        payload = torch_load(path, map_location=device, allowed=RECORDS)
        reason = None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            got = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
            reason = f"format {got} != {FORMAT}"
        elif payload.get("spec") != spec:
            reason = "it was written for a different run spec (config changed since)"
        else:
            payload["learner"], payload["gens"] = _resume(payload, spec, device)
    except UnsafeFileError as exc:  # a pickled object or function: never run, never resumed
        payload, reason = None, str(exc)
    except Exception as exc:  # unreadable (e.g. written by other code): never fatal, just not resumable
        payload, reason = None, f"unreadable ({type(exc).__name__}: {exc})"
    if reason:
        stale = path.with_name(FILENAME + ".stale")
        os.replace(path, stale)
        log.warning("checkpoint %s not resumed: %s; moved to %s, starting from scratch", path, reason, stale)
        return None
    if payload["code_version"] != code_version():
        log.warning(
            "checkpoint %s was written by code %s, resuming with %s", path, payload["code_version"], code_version()
        )
    log.info(
        "resuming from checkpoint %s (%s)",
        path,
        ", ".join(f"{k}={v}" for k, v in payload["position"].items() if not isinstance(v, list)),
    )
    return payload


def provenance(payload: dict | None) -> dict:
    """What the run's provenance records about a resume (empty for an uninterrupted run)."""
    if not payload:
        return {}
    return {
        "resumed_from_checkpoint": {k: v for k, v in payload["position"].items() if not isinstance(v, list)}
        | {"checkpoint_code_version": payload["code_version"]}
    }
