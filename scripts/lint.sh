#!/usr/bin/env bash
# Lint (a step of scripts/test.sh; needs the extra `test`: ruff, snakefmt; settings in pyproject.toml's [tool.ruff]
# and [tool.snakefmt]):
#   1. ruff check            src scripts tests benchmarks (rules E F W I B UP; pyproject.toml says which are ignored and why)
#   2. ruff format --check   the same folders
#   3. snakefmt --check      workflow/ (Snakefile and rules/*.smk)
# Every step runs; the script fails if any of them fails. Fix formatting with
#   .venv/bin/ruff format src scripts tests benchmarks && .venv/bin/snakefmt workflow
# (and ruff's fixable findings with `.venv/bin/ruff check --fix src scripts tests benchmarks`).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${PRESYN_LINT_BIN:-.venv/bin}
PY_PATHS=(src scripts tests benchmarks)
status=0
step() {  # step <name> <command...>: run it, remember a failure
  local name=$1
  shift
  echo "-- $name"
  if ! "$@"; then
    echo "lint: $name failed" >&2
    status=1
  fi
}
step "ruff check" "$BIN/ruff" check "${PY_PATHS[@]}"
step "ruff format --check" "$BIN/ruff" format --check "${PY_PATHS[@]}"
step "snakefmt --check" "$BIN/snakefmt" --check workflow
exit $status
