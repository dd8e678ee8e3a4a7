"""SLURM profile against a real single-node SLURM cluster (tests/slurm/run_slurm_test.sh).

Starts slurmctld/slurmd/munge (installed with apt-get when absent), so it needs root and Debian's
registry; it only runs when asked: `PRESYN_SLURM_TEST=1 pytest -m slurm tests/test_slurm.py`
(CI runs `bash tests/slurm/run_slurm_test.sh` directly as its own step).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parent / "slurm" / "run_slurm_test.sh"


@pytest.mark.slurm
@pytest.mark.skipif(
    os.environ.get("PRESYN_SLURM_TEST") != "1", reason="set PRESYN_SLURM_TEST=1 to start a real SLURM cluster"
)
def test_quick_config_through_slurm_profile():
    res = subprocess.run(["bash", str(HARNESS)], capture_output=True, text=True, timeout=1800)
    assert res.returncode == 0, f"{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    evidence = json.loads(next(l for l in res.stdout.splitlines() if l.startswith('{"slurm_test"')))
    assert evidence["steps"] == evidence["sbatch_jobs"] > 0
    assert evidence["slurm_logs_per_rule"].get("rule_train", 0) >= 1
    assert "stopped slurmctld" in res.stdout and "stopped slurmd" in res.stdout


def test_workflow_parses_under_the_slurm_profile_without_cores(tmp_path):
    """The SLURM executor passes no --cores: a rule whose threads read workflow.cores fails to parse there.

    `--summary` parses every rule file and builds the DAG without submitting a job, so no SLURM is needed.
    """
    repo = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--profile",
            "profiles/slurm",
            "--configfile",
            "config/quick.yaml",
            "--summary",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "requires a total number of cores" not in res.stderr
