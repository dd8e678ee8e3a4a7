#!/usr/bin/env bash
# End-to-end test of profiles/slurm against a REAL single-node SLURM (slurmctld + slurmd + munge):
# start the cluster, run the quick config through `--profile profiles/slurm` in a workdir outside
# the repo (tiny synthetic data), check every job went through sbatch and COMPLETED and the
# figures came out, then stop exactly the daemons started here. Needs root and Debian's apt.
#   bash tests/slurm/run_slurm_test.sh            # targets: figures/fig1.pdf figures/fig1.png
#   SLURM_TEST_TARGETS="figures/all" bash tests/slurm/run_slurm_test.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export SLURM_TEST_DIR=${SLURM_TEST_DIR:-/tmp/presyn-slurm-test}
WD=${SLURM_TEST_WORKDIR:-$SLURM_TEST_DIR/wd}
TARGETS=${SLURM_TEST_TARGETS:-figures/fig1.pdf figures/fig1.png}
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x "$ROOT/.venv/bin/python" ]; then PY=$ROOT/.venv/bin/python
else PY=python3; fi
T0=$(date +%s)

mkdir -p "$SLURM_TEST_DIR"
trap 'bash "$HERE/stop_cluster.sh"' EXIT
bash "$HERE/start_cluster.sh"
"$PY" "$HERE/make_workdir.py" "$WD"

# The project profile, adapted to the test cluster only where it must be:
#  - partition of the test cluster; small runtime/memory (CLI --default-resources replaces the profile's list)
#  - no GPU on CI: --set-resources train:gpu=0 (replaces the profile's set-resources; the rule's own
#    runtime/mem_mb then apply)
#  - no slurmdbd here: job status from squeue instead of sacct; first status check after 5 s
#  - keep the logs of successful jobs too, as evidence
cd "$WD"
set +e
"$PY" -m snakemake -s "$ROOT/workflow/Snakefile" --directory "$WD" \
  --profile "$ROOT/profiles/slurm" --configfile config/quick.yaml \
  --default-resources slurm_partition=presyntest runtime=10 mem_mb=1000 cpus_per_task=1 \
  --set-resources train:gpu=0 train:cpus_per_task=1 train:mem_mb=1000 train:runtime=10 \
  --slurm-status-command squeue --slurm-init-seconds-before-status-checks 5 \
  --slurm-keep-successful-logs --latency-wait 5 \
  $TARGETS > "$SLURM_TEST_DIR/snakemake.log" 2>&1
rc=$?
set -e
if [ $rc != 0 ]; then
  tail -60 "$SLURM_TEST_DIR/snakemake.log"
  for f in $(find "$WD/.snakemake/slurm_logs" -name '*.log' 2>/dev/null | head -3); do echo "== $f"; tail -20 "$f"; done
  echo "SLURM TEST FAILED: snakemake exit $rc (log: $SLURM_TEST_DIR/snakemake.log)" >&2
  exit $rc
fi
"$PY" "$HERE/check_run.py" "$WD" "$SLURM_TEST_DIR" "$SLURM_TEST_DIR/snakemake.log" $TARGETS
echo "SLURM test passed in $(( $(date +%s) - T0 )) s"
