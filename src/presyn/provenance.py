"""Provenance: every result records config, seed, code version, library versions, the environment against the
lock (requirements/cpu.lock.txt), device."""

from __future__ import annotations

import hashlib
import json
import platform
import socket
import subprocess
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import presyn
from presyn.lockfile import environment

LIBRARIES = ("torch", "numpy", "scipy", "pandas", "matplotlib", "seaborn", "statsmodels", "snakemake")


def config_hash(obj: Any) -> str:
    """Stable short hash of a JSON-able config fragment (key order does not matter)."""
    blob = json.dumps(obj, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def code_version(exclude: Iterable[str | Path] = (), root: str | Path | None = None) -> str:
    """git commit of the checkout (with -dirty) or, outside git, the package version. ``exclude``: paths whose
    changes do not make the checkout dirty: a job's own tracked output (the reference bundle rewrites
    ``reference/bundle/``, which would otherwise mark every bundle -dirty). ``root``: the checkout (default: this
    package's)."""
    root = Path(root).resolve() if root is not None else Path(presyn.__file__).resolve().parents[2]
    specs = []
    for p in exclude:
        p = Path(p).resolve()
        if p.is_relative_to(root):
            specs.append(f":(exclude,top){p.relative_to(root).as_posix()}")
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5
        )
        if commit.returncode == 0:
            dirty = subprocess.run(
                [
                    "git",
                    "-C",
                    str(root),
                    "status",
                    "--porcelain",
                    "--untracked-files=no",
                    *(["--", ".", *specs] if specs else []),
                ],
                capture_output=True,
                text=True,
                timeout=5,
            )
            return commit.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return f"presyn-{presyn.__version__}"


def library_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def device_description(device: str) -> str:
    import torch

    if device.startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    # the instruction set torch's CPU kernels dispatch on (AVX2, AVX512, ...): the same code, seed and thread count
    # give the same bits on CPUs of one capability, not across them (float sums are ordered by the vector width)
    capability = torch.backends.cpu.get_cpu_capability()
    return f"cpu ({platform.processor() or platform.machine()}, {capability}, {torch.get_num_threads()} threads)"


def record(spec: dict, seed: int, device: str, extra: dict | None = None) -> dict:
    """The provenance record written beside every run's results."""
    rec = {
        "spec": spec,
        "config_hash": spec.get("config_hash") or config_hash(spec),
        "seed": seed,
        "code_version": code_version(),
        "libraries": library_versions(),
        # the lock's sha256 and whether every locked package is installed at its locked version (presyn.lockfile)
        "environment": environment(),
        "device": device_description(device),
        "host": socket.gethostname(),
        "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    rec.update(extra or {})
    return rec
