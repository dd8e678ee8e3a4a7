#!/usr/bin/env bash
# The test command (README; .ci/run calls exactly this): set up .venv, then unit + end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
export PYTHONHASHSEED=0 MPLBACKEND=Agg
.venv/bin/python -m pytest -q -ra --durations=15 tests
