"""The perceptron near capacity with the authors' own notebook code (issue 29 (B)).

Nothing of theirs is copied here: the script reads ``run_lifelong-perceptron.ipynb`` from a local checkout of
the authors' repository (``--authors-repo``), takes the code cell that defines ``run_perceptron`` (with
``make_patterns_labels``, ``perceptron``, ``perceptron_batch``, ``perceptron_probabilistic``) and executes it,
unchanged, in a namespace of its own. Then it calls their ``run_perceptron(pattern_size, pattern_num, epochs,
batch_size, g_thresh, p_diff, probabilistic, seed)`` as their cell 4 does (N = 1000, 25 passes per task, batch 5,
g_thresh 0.1, p_diff 0.2, seeds 1000-1009, both methods per seed: the same patterns, since the seed is set before
the patterns are drawn), at every ``--loads`` patterns per task (5 tasks, as their code fixes).

One thing the driver changes, and why: their ``run_perceptron`` evaluates all 5 tasks after every pass (for the
task-1 curve of Fig 5b), and the stochastic perceptron's ``evaluate`` draws 10 x P x N Bernoulli samples per task
each time: ~98 % of a run's time (88 s for one stochastic run at P = 100 on this shared CPU; 6 loads x 10 seeds
would take hours). Only the evaluation after the last pass of the last task enters the final average that Fig 5c
and the capacity claim use. With ``--eval final`` (default) the stochastic perceptron's ``evaluate`` returns NaN
except for those last 5 calls (their method runs there, unchanged). Training is untouched, but the random draws
the skipped evaluations would have made are not made, so a seed's masks after the first pass differ from a plain
run of the notebook (the same distribution). The standard perceptron's ``evaluate`` draws nothing and is never
skipped, so its numbers equal the notebook's exactly. ``--eval all`` runs their function with no change at all
(slow). Their ``run_perceptron`` appends a line to ``summary_multiple.txt`` in the working directory: it runs in
a temporary directory.

Output (``--out``): one row per load x seed x method (final accuracy of each task and their mean, wall time);
``--summary``: per load, both methods' mean +- SEM and the gap (probabilistic - deterministic) per seed, paired
(same patterns), mean +- SEM, paired t-test, and Student's t-test (``ttest_ind``, equal variances) as the notebook's cell 5.

    .venv/bin/python benchmarks/authors_perceptron_check.py --authors-repo /tmp/authors
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy import stats

FIELDS = [
    "n_patterns",
    "load",
    "seed",
    "method",
    "mean_accuracy",
    "task1",
    "task2",
    "task3",
    "task4",
    "task5",
    "eval",
    "wall_s",
    "authors_commit",
]


def load_notebook_code(repo: Path) -> dict:
    """Execute the notebook cell defining run_perceptron (their code, as it is) and return its namespace."""
    nb = json.loads((repo / "run_lifelong-perceptron.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    matches = [c for c in cells if "def run_perceptron" in c]
    if len(matches) != 1:
        sys.exit(f"expected one notebook cell defining run_perceptron, found {len(matches)}")
    ns: dict = {"np": np, "__name__": "authors_notebook"}
    exec(compile(matches[0], "run_lifelong-perceptron.ipynb:run_perceptron-cell", "exec"), ns)
    return ns


def skip_intermediate_evaluations(ns: dict, n_tasks: int, epochs: int) -> dict:
    """Wrap perceptron_probabilistic.evaluate: NaN except for the last n_tasks calls of a run (the final ones)."""
    original = ns["perceptron_probabilistic"].evaluate
    calls = {"n": 0, "total": n_tasks * epochs * n_tasks}

    def evaluate(self, patterns, labels):
        calls["n"] += 1
        if calls["n"] > calls["total"] - n_tasks:
            return original(self, patterns, labels)
        return float("nan")

    ns["perceptron_probabilistic"].evaluate = evaluate
    return calls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--authors-repo", type=Path, required=True)
    ap.add_argument("--loads", type=int, nargs="+", default=[100, 125, 150, 175, 200, 400], help="patterns per task")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(1000, 1010)), help="their cell 4: 1000-1009")
    ap.add_argument("--n-inputs", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--batch-size", type=int, default=5)
    ap.add_argument("--g-thresh", type=float, default=0.1)
    ap.add_argument("--p-diff", type=float, default=0.2)
    ap.add_argument("--eval", choices=["final", "all"], default="final")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/authors_perceptron_check.csv"))
    ap.add_argument("--summary", type=Path, default=Path("benchmarks/results/authors_perceptron_check_summary.csv"))
    ap.add_argument(
        "--ours-stats",
        type=Path,
        default=None,
        help="our results/stats/perceptron_capacity.csv: also write its per-load table to --ours-out",
    )
    ap.add_argument("--ours-out", type=Path, default=Path("benchmarks/results/perceptron_capacity_loads.csv"))
    args = ap.parse_args()
    if args.ours_stats is not None:
        write_ours(args.ours_stats, args.ours_out)

    repo = args.authors_repo.resolve()
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    ns = load_notebook_code(repo)
    n_tasks = 5  # fixed inside their run_perceptron
    rows = []
    if args.out.exists():  # resume
        with args.out.open() as f:
            rows = [r for r in csv.DictReader(f)]
    done = {(int(r["n_patterns"]), int(r["seed"]), r["method"], r["eval"]) for r in rows}
    calls = skip_intermediate_evaluations(ns, n_tasks, args.epochs) if args.eval == "final" else None
    cwd = os.getcwd()
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for P in args.loads:
            for seed in args.seeds:
                for method, probabilistic in (("deterministic", False), ("probabilistic", True)):
                    if (P, seed, method, args.eval) in done:
                        continue
                    if calls is not None:
                        calls["n"] = 0
                    os.chdir(tmp)
                    t0 = time.perf_counter()
                    with contextlib.redirect_stdout(io.StringIO()) as printed:
                        _, average = ns["run_perceptron"](
                            args.n_inputs,
                            P,
                            args.epochs,
                            args.batch_size,
                            args.g_thresh if probabilistic else 0,
                            args.p_diff if probabilistic else 0,
                            probabilistic=probabilistic,
                            seed=seed,
                        )
                    wall = time.perf_counter() - t0
                    os.chdir(cwd)
                    # their printout: 'Final performance on Tasks 1-5', then one accuracy per task
                    lines = printed.getvalue().split("\n")
                    finals = [float(x) for x in lines[1 : 1 + n_tasks]]
                    row = dict(
                        n_patterns=P,
                        load=n_tasks * P / (2 * args.n_inputs),
                        seed=seed,
                        method=method,
                        mean_accuracy=float(average),
                        **{f"task{i + 1}": a for i, a in enumerate(finals)},
                        eval=args.eval,
                        wall_s=round(wall, 2),
                        authors_commit=commit,
                    )
                    rows.append(row)
                    new = not out.exists()
                    with out.open("a", newline="") as f:
                        w = csv.DictWriter(f, FIELDS)
                        if new:
                            w.writeheader()
                        w.writerow(row)
                    print(f"P={P} seed={seed} {method}: {float(average):.4f} ({wall:.1f} s)", flush=True)
    os.chdir(cwd)
    write_summary(rows, args.summary, args.eval)


def write_summary(rows: list[dict], path: Path, eval_mode: str) -> None:
    import pandas as pd

    df = pd.DataFrame(rows)
    df = df[df["eval"] == eval_mode].astype({"n_patterns": int, "seed": int, "mean_accuracy": float, "load": float})
    out = []
    for P, g in df.groupby("n_patterns"):
        wide = g.pivot_table(index="seed", columns="method", values="mean_accuracy").dropna()
        det, prob = wide["deterministic"], wide["probabilistic"]
        gap = prob - det
        paired = stats.ttest_rel(prob, det)
        welch = stats.ttest_ind(det, prob)  # their cell 5: ttest_ind(avg_det, avg_prob) (equal variances)
        out.append(
            dict(
                n_patterns=P,
                load=float(g["load"].iloc[0]),
                n=len(wide),
                deterministic_mean=det.mean(),
                deterministic_sem=det.sem(),
                probabilistic_mean=prob.mean(),
                probabilistic_sem=prob.sem(),
                gap_mean=gap.mean(),
                gap_sem=gap.sem(),
                gap_paired_t=paired.statistic,
                gap_paired_p=paired.pvalue,
                ttest_ind_t_det_vs_prob=welch.statistic,
                ttest_ind_p=welch.pvalue,
                eval=eval_mode,
            )
        )
    pd.DataFrame(out).to_csv(path, index=False)
    print(
        pd.DataFrame(out)[
            ["n_patterns", "load", "deterministic_mean", "probabilistic_mean", "gap_mean", "gap_sem", "gap_paired_p"]
        ].to_string(index=False)
    )


def write_ours(stats_csv: Path, path: Path) -> None:
    """Our pipeline's near-capacity stats rows -> one row per load (same columns as the authors' summary)."""
    import pandas as pd

    st = pd.read_csv(stats_csv).set_index("name")
    fig = "perceptron_capacity"
    loads = sorted({int(n.rsplit("patterns", 1)[1]) for n in st.index if n.startswith(f"{fig}.gap.patterns")})
    out = []
    for P in loads:
        gap, test = st.loc[f"{fig}.gap.patterns{P}"], st.loc[f"{fig}.gap_ttest.patterns{P}"]
        std, pre = st.loc[f"{fig}.final.standard.patterns{P}"], st.loc[f"{fig}.final.presyn.patterns{P}"]
        load = float(gap["groups"].split("load=")[1].split(";")[0])
        out.append(
            dict(
                n_patterns=P,
                load=load,
                n=int(gap["n"]),
                standard_mean=std["value"],
                standard_sem=std["sem"],
                presyn_mean=pre["value"],
                presyn_sem=pre["sem"],
                gap_mean=gap["value"],
                gap_sem=gap["sem"],
                gap_paired_t=test["statistic"],
                gap_paired_p=test["p_value"],
            )
        )
    pd.DataFrame(out).to_csv(path, index=False)
    print(pd.DataFrame(out).to_string(index=False))


if __name__ == "__main__":
    main()
