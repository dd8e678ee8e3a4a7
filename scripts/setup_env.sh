#!/usr/bin/env bash
# Create .venv (idempotent) with the presyn package, its dependencies, Snakemake + the SLURM plugin, pytest.
#
# Default: exactly the pinned, hashed CPU environment of requirements/cpu.lock.txt (pip --require-hashes --no-deps;
# every package, torch 2.13.0+cpu included, at its locked version), then this package editable (--no-deps).
# torch 2.13.0+cpu is not on PyPI: pip finds it in the lock's --find-links folder (/opt/wheels on our machines);
# elsewhere point PRESYN_WHEELS at a folder holding the wheel, or set
# PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu (the lock's hash of the wheel must match).
# Refresh the lock with `bash scripts/lock.sh` (docs/reliability.md, "The pinned environment").
#
# PRESYN_UNLOCKED=1: install from pyproject.toml's ranges instead (e.g. a CUDA workstation's torch build:
# TORCH_SPEC picks the torch build, default "torch==2.13.0": here the local 2.13.0+cpu wheel, on a machine without
# it PyPI's CUDA build of 2.13.0; any torch >= 2.4 works).
# Either way the versions installed are recorded: .venv/pip-freeze.txt and .venv/install.json (mode, the lock's
# sha256, the freeze's sha256), which every run's provenance reads (presyn.lockfile).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
LOCK=requirements/cpu.lock.txt
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
"${PIP[@]}" install -q --upgrade pip >/dev/null 2>&1 || true
if [ "${PRESYN_UNLOCKED:-0}" = 1 ]; then
  mode=unlocked
  echo "== PRESYN_UNLOCKED=1: installing from pyproject.toml's ranges, not from $LOCK"
  if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
    "${PIP[@]}" install -q "${TORCH_SPEC:-torch==2.13.0}"
  fi
  "${PIP[@]}" install -q -e ".[workflow,test]"
else
  mode=lock
  extra=()
  [ -n "${PRESYN_WHEELS:-}" ] && extra+=(--find-links "$PRESYN_WHEELS")
  "${PIP[@]}" install -q --require-hashes --no-deps "${extra[@]}" -r "$LOCK"
  # the project itself: editable, no dependencies, built with the locked setuptools (no unlocked build env)
  "${PIP[@]}" install -q --no-deps --no-build-isolation -e .
fi
"${PIP[@]}" freeze --all --exclude-editable > .venv/pip-freeze.txt
.venv/bin/python - "$mode" "$LOCK" <<'PY'
import hashlib, json, sys
from pathlib import Path
mode, lock = sys.argv[1], Path(sys.argv[2])
freeze = Path(".venv/pip-freeze.txt")
rec = {"mode": mode, "lock_file": str(lock),
       "lock_sha256": hashlib.sha256(lock.read_bytes()).hexdigest() if lock.is_file() else None,
       "freeze_file": str(freeze.resolve()), "freeze_sha256": hashlib.sha256(freeze.read_bytes()).hexdigest()}
Path(sys.prefix, "install.json").write_text(json.dumps(rec, indent=1) + "\n", encoding="utf-8")
PY
if [ "$mode" = lock ]; then
  .venv/bin/python -m presyn.lockfile check >/dev/null || {
    echo "warning: .venv differs from $LOCK:"; .venv/bin/python -m presyn.lockfile check || true; }
fi
.venv/bin/python -c "import torch, snakemake, presyn; print('presyn', presyn.__version__, '| torch', torch.__version__, '| snakemake', snakemake.__version__, '| environment: $mode')"
