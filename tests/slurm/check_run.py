"""Evidence that the Snakemake run went through SLURM: every job an sbatch job that COMPLETED.

usage: python tests/slurm/check_run.py WORKDIR SLURM_TEST_DIR SNAKEMAKE_LOG TARGET...
Prints one JSON line with the evidence; exits 1 with the reason when something is missing.
"""

import json
import re
import subprocess
import sys
from pathlib import Path


def fail(msg: str) -> None:
    print(f"SLURM TEST FAILED: {msg}", file=sys.stderr)
    sys.exit(1)


def main(wd: Path, slurm_dir: Path, smk_log: Path, targets: list[str]) -> None:
    for t in targets:
        f = wd / t
        if not f.exists() or f.stat().st_size == 0:
            fail(f"target {t} missing or empty in {wd}")
    log = smk_log.read_text()
    # the plugin logs one line per submission: "Job <n> has been submitted with SLURM jobid <id> (log: ...)"
    submitted = dict(re.findall(r"Job (\d+) has been submitted with SLURM jobid (\d+)", log))
    done = re.search(r"(\d+) of (\d+) steps \(100%\) done", log)
    if not done:
        fail("snakemake did not report 100% done")
    n_steps = int(done.group(2))
    if len(submitted) != n_steps:
        fail(f"{len(submitted)} sbatch submissions for {n_steps} steps: some jobs ran outside SLURM")
    # the controller's own record of the batch submissions
    ctld = (slurm_dir / "log" / "slurmctld.log").read_text()
    ctld_ids = set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", ctld))
    missing = set(submitted.values()) - ctld_ids
    if missing:
        fail(f"slurmctld never received batch jobs {sorted(missing)}")
    # final state of each job (MinJobAge=600 keeps finished jobs in squeue)
    q = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i|%j|%T|%P"], capture_output=True, text=True, check=True)
    states = {i: (name, state, part) for i, name, state, part in (l.split("|") for l in q.stdout.split())}
    bad = {j: states.get(j) for j in submitted.values() if states.get(j, ("", ""))[1] != "COMPLETED"}
    if bad:
        fail(f"jobs not COMPLETED: {bad}")
    rules = {}
    slurm_logs = sorted(p.relative_to(wd).as_posix() for p in (wd / ".snakemake" / "slurm_logs").rglob("*.log"))
    for p in slurm_logs:
        rule = p.split("/")[2] if p.count("/") >= 3 else "?"
        rules[rule] = rules.get(rule, 0) + 1
    if not any(r.endswith("train") for r in rules):
        fail(f"no train job logs under .snakemake/slurm_logs: {rules}")
    print(
        json.dumps(
            {
                "slurm_test": "passed",
                "steps": n_steps,
                "sbatch_jobs": len(submitted),
                "slurm_job_ids": sorted(int(j) for j in submitted.values()),
                "partitions": sorted({states[j][2] for j in submitted.values()}),
                "slurm_logs_per_rule": rules,
                "targets": targets,
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4:])
