"""Plant the bugs of issue 34 one at a time in a scratch copy and count the fast tests that fail on each.

    python benchmarks/plant_bugs.py [--scratch /tmp/plant34] [--out benchmarks/results/planted_bugs_<date>.csv]

Never plants in the working tree: the copy is ``git clone`` of HEAD (commit your tests first), each bug is
one exact text replacement (it must match once), the tests run with ``PYTHONPATH=<copy>/src`` and the
file is restored before the next bug. The goal (issue 34): every planted bug fails at least two tests.
Not in CI (about 2 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

KERNEL_TESTS = [
    "tests/test_kernel_boundaries.py",
    "tests/test_learning_rule.py",
    "tests/test_fused.py",
    "tests/test_cpu_kernels.py",
    "tests/test_ablation.py",
]
ENERGY_TESTS = ["tests/test_energy_hand.py", "tests/test_ablation.py", "tests/test_model.py"]
IO_TESTS = ["tests/test_io_atomic.py", "tests/test_reliability_interrupt.py", "tests/test_reliability_provenance.py"]
SCORE_TESTS = ["tests/test_verdict_sign.py", "tests/test_scorecard.py"]

# (bug, file, original text, planted text, tests)
BUGS = [
    (
        "write_table writes in place",
        "src/presyn/io.py",
        "    path = Path(path)\n    with atomic_path(path) as tmp:\n        if path.suffix",
        "    path = Path(path)\n    with contextlib.nullcontext(path) as tmp:\n        if path.suffix",
        IO_TESTS,
    ),
    (
        "write_json writes in place",
        "src/presyn/io.py",
        "    with atomic_path(path) as tmp:\n        tmp.write_text(json.dumps(",
        "    with contextlib.nullcontext(Path(path)) as tmp:\n        tmp.write_text(json.dumps(",
        IO_TESTS,
    ),
    # the rule is defined once (presyn_rule.update, torch) with its numba loop beside it (issue 31)
    (
        "torch rule: |g| >= g_lim -> |g| > g_lim",
        "src/presyn/presyn_rule.py",
        "(g.abs() >= g_lim)",
        "(g.abs() > g_lim)",
        KERNEL_TESTS,
    ),
    (
        "numba loop: |g| >= g_lim -> |g| > g_lim",
        "src/presyn/presyn_rule.py",
        "abs(g) >= g_lim32",
        "abs(g) > g_lim32",
        KERNEL_TESTS,
    ),
    (
        "torch rule and numba loop both: >= -> >",
        "src/presyn/presyn_rule.py+src/presyn/presyn_rule.py",
        "(g.abs() >= g_lim)|abs(g) >= g_lim32",
        "(g.abs() > g_lim)|abs(g) > g_lim32",
        KERNEL_TESTS,
    ),
    (
        "torch rule: p < p_freeze -> p <= p_freeze",
        "src/presyn/presyn_rule.py",
        "torch.where(p < p_freeze, p_new, p)",
        "torch.where(p <= p_freeze, p_new, p)",
        KERNEL_TESTS,
    ),
    (
        "numba loop: p < p_freeze -> p <= p_freeze",
        "src/presyn/presyn_rule.py",
        "not pi < freeze32",
        "not pi <= freeze32",
        KERNEL_TESTS,
    ),
    (
        "numba loop: upper clamp of p dropped",
        "src/presyn/presyn_rule.py",
        "p[i] = min(max(q, p_min32), p_max32)",
        "p[i] = max(q, p_min32)",
        KERNEL_TESTS,
    ),
    (
        "synaptic energy: abs() dropped (presyn, normalised)",
        "src/presyn/learners.py",
        "            return float(w.abs().sum())",
        "            return float(w.sum())",
        ENERGY_TESTS,
    ),
    (
        "synaptic energy: abs() dropped (presyn, no normalisation)",
        "src/presyn/learners.py",
        "(p * w.abs()).sum()",
        "(p * w).sum()",
        ENERGY_TESTS,
    ),
    (
        "synaptic energy: abs() dropped (deterministic)",
        "src/presyn/learners.py",
        "energy = [float(w.abs().sum()) for w in self.net.w.view(",
        "energy = [float(w.sum()) for w in self.net.w.view(",
        ENERGY_TESTS,
    ),
    (
        "scorecard: same-sign check of significance dropped",
        "src/presyn/scorecard/judging.py",
        "ok = bool(same_sign and p < alpha)",
        "ok = bool(p < alpha)",
        SCORE_TESTS,
    ),
    (
        "scorecard: sign of a claim's test dropped",
        "src/presyn/scorecard/judging.py",
        "ok = p < alpha and sign_ok",
        "ok = p < alpha",
        SCORE_TESTS,
    ),
]


def run_tests(copy: Path, tests: list[str]) -> tuple[int, int, list[str]]:
    env = {**os.environ, "PYTHONPATH": str(copy / "src"), "PYTHONHASHSEED": "0"}
    res = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not e2e and not slurm", "-rf", *tests],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
    )
    out = res.stdout + res.stderr
    failed = [m.group(1) for m in re.finditer(r"^FAILED (\S+)", out, re.M)]
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", out)) else 0
    errors = int(m.group(1)) if (m := re.search(r"(\d+) errors?", out)) else 0
    return passed, len(failed) + errors, failed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scratch", default="/tmp/plant34")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / f"planted_bugs_{dt.date.today()}.csv"))
    args = ap.parse_args()
    copy = Path(args.scratch)
    if copy.resolve() == ROOT.resolve():
        sys.exit("refusing to plant bugs in the working tree")
    shutil.rmtree(copy, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", str(ROOT), str(copy)], check=True)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=copy, capture_output=True, text=True
    ).stdout.strip()
    rows = []
    for bug, files, old, new, tests in BUGS:
        originals, missing = {}, []
        for f, o, n in zip(files.split("+"), old.split("|"), new.split("|")):
            path = copy / f
            originals.setdefault(path, path.read_text())
            current = path.read_text()
            if current.count(o) != 1:  # the code changed since this list was written: say so, plant the rest
                missing.append(f"{o!r} occurs {current.count(o)} times in {f}")
                continue
            path.write_text(current.replace(o, n))
        if missing:
            for path, text in originals.items():
                path.write_text(text)
            print(f"NOT PLANTED  {bug}: {'; '.join(missing)}", flush=True)
            rows.append(
                {
                    "bug": bug,
                    "file": files,
                    "failing_tests": "",
                    "passing_tests": "",
                    "test_files": " ".join(tests),
                    "failing": "not planted: " + "; ".join(missing),
                    "commit": "",
                }
            )
            continue
        try:
            passed, n_failed, failed = run_tests(copy, tests)
        finally:
            for path, text in originals.items():
                path.write_text(text)
        print(f"{n_failed:3d} failing  {bug}", flush=True)
        rows.append(
            {
                "bug": bug,
                "file": files,
                "failing_tests": n_failed,
                "passing_tests": passed,
                "test_files": " ".join(tests),
                "failing": " ".join(failed),
                "commit": commit,
            }
        )
    passed, n_failed, failed = run_tests(copy, sorted({t for b in BUGS for t in b[4]}))
    rows.append(
        {
            "bug": "(none: clean copy)",
            "file": "",
            "failing_tests": n_failed,
            "passing_tests": passed,
            "test_files": "all of the above",
            "failing": " ".join(failed),
            "commit": commit,
        }
    )
    print(f"{n_failed:3d} failing  clean copy")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
