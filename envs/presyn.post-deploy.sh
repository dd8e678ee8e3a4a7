#!/usr/bin/env bash
# Snakemake runs this inside the new conda environment (envs/presyn.yaml) after creating it: the repository's
# presyn package, editable, without dependencies (they come from requirements/cpu.lock.txt), built with the
# locked setuptools.
set -euo pipefail
python -m pip install --no-deps --no-build-isolation -e "$(cd "$(dirname "$0")/.." && pwd)"
