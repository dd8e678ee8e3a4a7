#!/usr/bin/env bash
# Refresh requirements/cpu.lock.txt, the pinned, hashed CPU environment that scripts/setup_env.sh installs:
#   bash scripts/lock.sh                # re-resolve after a change of pyproject.toml; keeps every pin that still fits
#   bash scripts/lock.sh --upgrade      # newest versions in pyproject.toml's ranges (any pip-compile option passes on)
#   bash scripts/lock.sh --upgrade-package numpy
# Tool: pip-tools' pip-compile (uses pip's own resolver and finder, so the hashes are those of the files pip
# installs), in its own venv (PRESYN_LOCK_VENV, default /tmp/presyn-lock-venv), never in .venv.
# Inputs: pyproject.toml ([project] dependencies + extras workflow, test) and requirements/cpu.in (the torch build).
# Sources: PyPI and the folder with the torch CPU wheel (PRESYN_WHEELS, default /opt/wheels) only: pip's config
# files are ignored (PIP_CONFIG_FILE=/dev/null), so no local mirror or constraint file leaks into the lock.
# The header records the sha256 of pyproject.toml's dependency section (tests/test_lock.py fails when it changes
# without a refresh); envs/presyn.yaml records the lock's sha256.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
LOCK_VENV=${PRESYN_LOCK_VENV:-/tmp/presyn-lock-venv}
WHEELS=${PRESYN_WHEELS:-/opt/wheels}
PIP_TOOLS=${PRESYN_PIP_TOOLS:-pip-tools==7.7.0}
LOCK=requirements/cpu.lock.txt
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
[ -f /etc/ssl/certs/ca-certificates.crt ] && export PIP_CERT=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
if [ ! -x "$LOCK_VENV/bin/pip-compile" ]; then
  "$PYTHON" -m venv "$LOCK_VENV"
  "$LOCK_VENV/bin/python" -m pip install -q "$PIP_TOOLS"
fi
ls "$WHEELS"/torch-2.13.0+cpu-*.whl >/dev/null 2>&1 || { echo "no torch 2.13.0+cpu wheel in $WHEELS (set PRESYN_WHEELS)" >&2; exit 1; }
CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh" "$LOCK_VENV/bin/pip-compile" --quiet --generate-hashes --allow-unsafe --strip-extras \
  --extra workflow --extra test \
  --index-url https://pypi.org/simple --find-links "$WHEELS" --no-emit-index-url --emit-find-links \
  --output-file "$LOCK" "$@" pyproject.toml requirements/cpu.in
# pip-compile rewrites its own header; add the dependency-section digest after it
digest=$("$PYTHON" -c 'import sys; sys.path.insert(0, "src"); from presyn.lockfile import pyproject_digest; print(pyproject_digest())')
"$PYTHON" - "$LOCK" "$digest" <<'PY'
import sys
path, digest = sys.argv[1], sys.argv[2]
lines = [l for l in open(path, encoding="utf-8").read().splitlines() if not l.startswith("# pyproject-deps-sha256:")]
i = next(i for i, l in enumerate(lines) if not l.startswith("#"))
lines.insert(i, f"# pyproject-deps-sha256: {digest}  (project.dependencies, requires-python, extras workflow + test; scripts/lock.sh)")
open(path, "w", encoding="utf-8").write("\n".join(lines) + "\n")
PY
# envs/presyn.yaml names the lock's sha256, so that Snakemake's conda environment (hashed from that file) follows it
sed -i "s|^# lock sha256: .*|# lock sha256: $(sha256sum "$LOCK" | cut -d' ' -f1)|" envs/presyn.yaml
echo "$LOCK: $(grep -c '^[A-Za-z0-9].*==' "$LOCK") packages, pyproject-deps-sha256 $digest"
