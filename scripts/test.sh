#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this):
#   1. set up .venv (scripts/setup_env.sh); as root on Debian, install chromium for the report check
#   2. lint (scripts/lint.sh: ruff check, ruff format --check, snakefmt --check)
#   3. unit + end-to-end tests (pytest)
#   4. the SLURM profile against a real single-node SLURM cluster (root + apt-get only;
#      PRESYN_SKIP_SLURM=1 skips it)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export PYTHONHASHSEED=0 MPLBACKEND=Agg
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
if can_apt && ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Debian chromium (headless check of the HTML report)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "chromium could not be installed; the report browser test will skip"
fi

echo "== step 1/3: lint"
bash scripts/lint.sh

echo "== step 2/3: unit and end-to-end tests"
.venv/bin/python -m pytest -q -ra --durations=20 -m "not slurm" tests

if [ "${PRESYN_SKIP_SLURM:-0}" != 1 ] && can_apt; then
  echo "== step 3/3: SLURM profile against a real single-node SLURM cluster"
  PRESYN_SLURM_TEST=1 .venv/bin/python -m pytest -q -ra -m slurm tests/test_slurm.py
else
  echo "== step 3/3: SLURM test skipped (needs root and apt-get; or PRESYN_SKIP_SLURM=1 was set)"
fi
