#!/usr/bin/env bash
# Create .venv (idempotent) with torch, the presyn package, Snakemake + the SLURM plugin, pytest.
# TORCH_SPEC overrides the torch requirement (default torch==2.13.0: a CPU build on our machines;
# on a CUDA workstation any torch >= 2.4 works, e.g. TORCH_SPEC="torch==2.13.0" from PyPI's CUDA wheels).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
if ! .venv/bin/python -c "import torch" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --disable-pip-version-check "${TORCH_SPEC:-torch==2.13.0}"
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[workflow,test]"
.venv/bin/python -c "import torch, snakemake, presyn; print('presyn', presyn.__version__, '| torch', torch.__version__, '| snakemake', snakemake.__version__)"
