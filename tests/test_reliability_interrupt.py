"""Interruption: killing training jobs or Snakemake itself mid-run never leaves a partial result
that is taken as complete, and rerunning resumes the rest of the DAG.

A run folder holds all three of its files or none: ``training.save_run`` writes them into a hidden
staging folder and swaps it in by one rename; the first tests fail or kill it between the writes.

What a user does after each kind of interruption (also in docs/reliability.md):
- a training job killed (SIGKILL/SIGTERM: OOM killer, preempted job): rerun the same command.
- Snakemake stopped with SIGTERM: it lets running jobs finish, then exits; rerun the same command.
- Ctrl-C (SIGINT to the whole process group): the running jobs are interrupted too; rerun the same command.
- Snakemake and its jobs SIGKILLed (node lost): the same command refuses (LockException: the directory
  is still locked); run the same command with `--unlock` once, then the same command again. Killed jobs
  left no output, so it resumes; a job that had finished writing just before the kill is still marked
  incomplete and Snakemake says so (IncompleteFilesException): add `--rerun-incomplete`
  (profiles/local sets rerun-incomplete: true).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

from conftest import SNAKEFILE
from presyn import io as presyn_io
from presyn import training
from presyn.training import RUN_FILES, save_run

psutil = pytest.importorskip("psutil")

TARGET = "results/tables/energy_final.csv"
EPOCHS = 60  # long enough that a job is still mid-run when the signal lands, even on a loaded machine
RUNS = [f"results/runs/energy/{m}_wd0/mnist/seed2019" for m in ("presyn", "deterministic", "fixedp")]
CONFIGS = ("config/quick.yaml", "config/small.yaml")


# ------------------------------------------------------------------ save_run: all three files or none
def save_tiny_run(out_dir) -> None:
    save_run(
        out_dir,
        pd.DataFrame({"epoch": [1], "metric": ["test_accuracy"], "value": [0.5]}),
        {"w": torch.arange(3.0)},
        {"seed": 1},
        torch.device("cpu"),
    )


def with_checkpoint(out_dir):
    """A run folder as a lifelong job leaves it mid-run: only its checkpoint."""
    out_dir.mkdir(parents=True)
    (out_dir / "checkpoint.pt").write_bytes(b"checkpoint of task 1")


def visible(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def assert_complete_run(out_dir) -> None:
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(RUN_FILES)  # the checkpoint went with the old folder
    assert pd.read_parquet(out_dir / "metrics.parquet")["value"].tolist() == [0.5]
    assert torch.equal(torch.load(out_dir / "state.pt", weights_only=False)["w"], torch.arange(3.0))
    assert '"seed": 1' in (out_dir / "provenance.json").read_text()
    assert list(out_dir.parent.iterdir()) == [out_dir]  # no staging folder left beside it


@pytest.mark.parametrize("swap", ["exchange", "rename_aside"])
@pytest.mark.parametrize("fails", ["state", "provenance"])
def test_save_run_failing_after_a_file_leaves_none_then_rerun_writes_all(tmp_path, monkeypatch, fails, swap):
    """The write of state.pt (after metrics.parquet) or of provenance.json (after both) fails: the run
    folder still holds none of the three files and its checkpoint is intact; the rerun writes all three."""
    out = tmp_path / "seed1"
    with_checkpoint(out)
    if swap == "rename_aside":  # a file system without an atomic folder swap
        monkeypatch.setattr(presyn_io, "_exchange", lambda a, b: False)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device (injected)")

    with monkeypatch.context() as m:
        m.setattr(torch, "save", disk_full) if fails == "state" else m.setattr(training, "write_json", disk_full)
        with pytest.raises(OSError, match="injected"):
            save_tiny_run(out)
    assert visible(out) == ["checkpoint.pt"] and (out / "checkpoint.pt").read_bytes() == b"checkpoint of task 1"
    assert list(tmp_path.iterdir()) == [out]  # the staging folder was removed
    save_tiny_run(out)
    assert_complete_run(out)


KILLED_SAVE = r"""
import os, signal, sys
from pathlib import Path
import torch
sys.path.insert(0, sys.argv[2])
from test_reliability_interrupt import save_tiny_run
real_save = torch.save
def save_then_die(obj, f, *args, **kwargs):  # the job dies writing state.pt, right after metrics.parquet
    assert (Path(f).parent / "metrics.parquet").exists()
    real_save(obj, f, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGKILL)
torch.save = save_then_die
save_tiny_run(Path(sys.argv[1]))
"""


def test_save_run_killed_between_the_writes_leaves_none_then_rerun_writes_all(tmp_path):
    """SIGKILL after metrics.parquet and state.pt were written: the run folder holds none of its files
    (only the checkpoint it had); a hidden staging folder is all that is left, and the rerun removes it."""
    out = tmp_path / "seed1"
    with_checkpoint(out)
    res = subprocess.run(
        [sys.executable, "-c", KILLED_SAVE, str(out), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    assert visible(out) == ["checkpoint.pt"] and (out / "checkpoint.pt").read_bytes() == b"checkpoint of task 1"
    (stage,) = [p for p in tmp_path.iterdir() if p != out]
    assert stage.name.startswith(".seed1.") and stage.name.endswith(".staging")
    assert sorted(p.name for p in stage.iterdir()) == ["metrics.parquet", "state.pt"]  # killed between the writes
    save_tiny_run(out)
    assert_complete_run(out)


# ------------------------------------------------------------------ Snakemake and its jobs interrupted
def cmd(workdir, *extra):
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir.path),
        "--cores",
        "2",
        TARGET,
        *extra,
        "--configfile",
        *CONFIGS,
    ]


def start(workdir) -> subprocess.Popen:
    workdir.overlay("small", {"seeds": [2019], "energy": {"epochs": EPOCHS, "weight_decays": [0.0]}})
    log = open(workdir.path / "snakemake.out", "w")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.Popen(
        cmd(workdir),
        cwd=workdir.path,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
        preexec_fn=interactive_signals,
    )


def interactive_signals() -> None:
    """Snakemake as a terminal starts it: a test suite run in the background (``cmd &`` in a script, nohup)
    inherits SIGINT ignored, and Python then never turns Ctrl-C into KeyboardInterrupt."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_mid_run(workdir, proc, epoch=4, timeout=240) -> None:
    """Until some training job has logged epoch >= ``epoch`` (it is then mid-run)."""
    deadline = time.time() + timeout
    logs = workdir.path / "logs" / "train"
    while time.time() < deadline:
        assert proc.poll() is None, (workdir.path / "snakemake.out").read_text()[-3000:]
        for f in logs.rglob("*.log") if logs.exists() else []:
            text = f.read_text()
            if any(f"epoch {e}/{EPOCHS}" in text for e in range(epoch, EPOCHS)):
                return
        time.sleep(0.2)
    raise AssertionError("no training job reached mid-run in time")


def train_jobs(proc) -> list:
    """The training jobs alive now (an exited job can linger as a zombie until Snakemake reaps it)."""
    jobs = []
    for c in psutil.Process(proc.pid).children(recursive=True):
        try:
            if c.status() != psutil.STATUS_ZOMBIE and "train.py" in " ".join(c.cmdline()):
                jobs.append(c)
        except psutil.Error:  # ended meanwhile
            continue
    return jobs


def run(workdir, *extra, check=True) -> subprocess.CompletedProcess:
    res = subprocess.run(
        cmd(workdir, *extra),
        cwd=workdir.path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    if check and res.returncode != 0:
        raise AssertionError(f"snakemake failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    return res


def assert_no_partial_results(workdir) -> None:
    """Each run folder holds either nothing or its three files, complete and readable."""
    for r in RUNS:
        d = workdir.path / r
        names = sorted(p.name for p in d.iterdir()) if d.exists() else []
        visible = [n for n in names if not n.startswith(".")]
        assert visible in ([], ["metrics.parquet", "provenance.json", "state.pt"]), (r, names)
        if visible:
            assert pd.read_parquet(d / "metrics.parquet")["epoch"].max() == EPOCHS


def assert_complete_and_consistent(workdir) -> None:
    assert_no_partial_results(workdir)
    table = pd.read_csv(workdir.path / TARGET)
    assert len(table) == 3 and (table.groupby("method")["config_hash"].nunique() == 1).all()
    for r in RUNS:  # each row comes from the run file now on disk (no stale table)
        prov = pd.read_parquet(workdir.path / r / "metrics.parquet")["config_hash"].iloc[0]
        assert table.loc[table["method"] == r.split("/")[3], "config_hash"].tolist() == [prov]
    for r in RUNS:
        m = pd.read_parquet(workdir.path / r / "metrics.parquet")
        last = m[m["epoch"] == EPOCHS].set_index("metric")["value"]
        row = table[table["method"] == r.split("/")[3]].iloc[0]
        assert row["test_accuracy"] == pytest.approx(last["test_accuracy"], abs=0)
    dry = run(workdir, "-n")
    assert "Nothing to be done" in dry.stdout + dry.stderr


def finish(proc, timeout=240) -> int:
    try:
        return proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.e2e
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_training_job_then_rerun_same_command(workdir, sig):
    proc = start(workdir)
    try:
        wait_mid_run(workdir, proc)
        victims = train_jobs(proc)
        assert victims
        victim_dirs = {v.pid: v for v in victims}
        for v in victims:
            v.send_signal(sig)
    finally:
        rc = finish(proc)
    assert rc != 0
    assert_no_partial_results(workdir)
    assert victim_dirs
    # the killed jobs' outputs are missing, so the dry run plans them again
    dry = run(workdir, "-n")
    assert "rule train:" in dry.stdout
    run(workdir)  # the very same command
    assert_complete_and_consistent(workdir)


def running_runs(proc) -> set[str]:
    """The run folders of the training jobs running now (each job holds its log file open)."""
    runs = set()
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            files = child.open_files()
        except psutil.Error:  # the process ended meanwhile
            continue
        for f in files:
            parts = Path(f.path).parts
            if "train" in parts and parts[-1].endswith(".log") and parts[parts.index("train") - 1] == "logs":
                experiment, method, benchmark, seed = parts[parts.index("train") + 1 :]
                runs.add(f"results/runs/{experiment}/{method}/{benchmark}/{seed[: -len('.log')]}")
    return runs


def stamps(workdir, run: str) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of a run's three files and of its benchmark file: any rewrite changes them."""
    bench = run.replace("results/runs/", "results/benchmarks/train/") + ".tsv"
    paths = [f"{run}/{f}" for f in RUN_FILES] + [bench]
    return {p: ((workdir.path / p).stat().st_ino, (workdir.path / p).stat().st_mtime_ns) for p in paths}


@pytest.mark.e2e
def test_snakemake_sigterm_finishes_running_jobs_then_rerun(workdir):
    """SIGTERM to Snakemake mid-run: the jobs running then finish with all their files (and Snakemake's
    benchmark files), nothing new starts, and the rerun trains only the rest: the finished runs' files
    are the same files (inode and mtime), and only the other jobs appear in the rerun's log."""
    proc = start(workdir)
    try:
        wait_mid_run(workdir, proc)
        running = running_runs(proc)
        proc.send_signal(signal.SIGTERM)
    finally:
        rc = finish(proc)
    assert rc != 0
    out = (workdir.path / "snakemake.out").read_text()
    assert "Will exit after finishing currently running jobs" in out
    assert running and running < set(RUNS), running  # 2 cores, 1-thread jobs: 1 or 2 of the 3 were running
    assert_no_partial_results(workdir)
    for r in RUNS:
        done = [f for f in RUN_FILES if (workdir.path / r / f).exists()]
        assert done == (list(RUN_FILES) if r in running else []), (
            r,
            done,
            running,
        )  # running: finished; others: not started
    assert not (workdir.path / TARGET).exists()
    before = {r: stamps(workdir, r) for r in running}
    res = run(workdir)
    log = res.stdout + res.stderr
    assert log.count("rule train:") == len(RUNS) - len(running), log[-3000:]
    for r in RUNS:  # planned again: only the jobs that had not started (the table job lists every run as input)
        assert (f"output: {r}/metrics.parquet" in log) == (r not in running), (r, running)
    for r in running:
        assert stamps(workdir, r) == before[r], r  # not rewritten
    assert_complete_and_consistent(workdir)


@pytest.mark.e2e
def test_ctrl_c_interrupts_running_jobs_then_rerun(workdir):
    """Ctrl-C in a terminal sends SIGINT to the whole foreground process group, the jobs included: unlike
    a SIGTERM to Snakemake alone, the running jobs are interrupted (KeyboardInterrupt) and leave none of
    their files; the same command then trains every run."""
    proc = start(workdir)
    try:
        wait_mid_run(workdir, proc)
        running = train_jobs(proc)  # cheap (command lines only): the Ctrl-C follows at once, mid-run even under load
        os.killpg(proc.pid, signal.SIGINT)
    finally:
        rc = finish(proc)
    assert running and rc != 0, (workdir.path / "snakemake.out").read_text()[-3000:]
    assert "died with <Signals.SIGINT" in (workdir.path / "snakemake.out").read_text()
    assert_no_partial_results(workdir)
    assert not [f"{r}/{f}" for r in RUNS for f in RUN_FILES if (workdir.path / r / f).exists()]
    res = run(workdir)
    assert (res.stdout + res.stderr).count("rule train:") == len(RUNS)
    assert_complete_and_consistent(workdir)


@pytest.mark.e2e
def test_snakemake_and_jobs_sigkilled_then_unlock_and_rerun_incomplete(workdir):
    proc = start(workdir)
    try:
        wait_mid_run(workdir, proc)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole node goes: Snakemake and every job at once
    finally:
        finish(proc)
    assert_no_partial_results(workdir)
    res = run(workdir, check=False)  # the same command refuses rather than trusting anything
    out = res.stdout + res.stderr
    assert res.returncode != 0 and ("LockException" in out or "IncompleteFilesException" in out), out[-2000:]
    subprocess.run(cmd(workdir, "--unlock"), cwd=workdir.path, check=True, capture_output=True)
    # killed jobs left no output (atomic writes), so the same command now resumes; only a job that had
    # written its files before the kill is still marked incomplete, which needs --rerun-incomplete
    res = run(workdir, check=False)
    if res.returncode != 0:
        assert "IncompleteFilesException" in res.stdout + res.stderr, res.stderr[-2000:]
        run(workdir, "--rerun-incomplete")
    assert_complete_and_consistent(workdir)
