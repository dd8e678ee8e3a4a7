"""figures/all: every figure file produced, with its sha256, and what was left out and why."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from presyn.io import atomic_path, sha256_file
from presyn.provenance import code_version


def section_disabled_reason(config: dict, section: str) -> str | None:
    """Why a figure's config section is off, or None when it is on. ``section`` may be dotted
    (``energy.robustness``): every level must be present and enabled (``enabled`` defaults to true), and the
    first level that is not gives the reason: its ``left_out_reason``, else a default sentence."""
    node = config
    parts = section.split(".")
    for i, part in enumerate(parts, start=1):
        path = ".".join(parts[:i])
        node = node.get(part) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return f"config has no {path} section"
        if not node.get("enabled", True):
            return node.get("left_out_reason") or f"config {path}.enabled is false"
    return None


def write_manifest(files: list[str], out: str | Path, config: dict, left_out: dict[str, str] | None = None) -> None:
    lines = [
        "# presyn-repro figures manifest",
        f"# generated {datetime.now(UTC).isoformat(timespec='seconds')} by code {code_version()}",
        f"# run label: {config.get('run_label') or 'paper protocol (config/config.yaml)'}",
        "# sha256  path",
    ]
    lines += [f"{sha256_file(f)}  {f}" for f in sorted(files)]
    for name, why in sorted((left_out or {}).items()):
        lines.append(f"# left out: {name}: {why}")
    with atomic_path(out) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
