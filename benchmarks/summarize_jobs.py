"""Summarise Snakemake benchmark files (results/benchmarks/) per job kind.

A job kind is the rule, plus for training jobs the experiment and the method family
(e.g. train:energy:presyn, train:lifelong:bgd). Prints a table of count, median / max wall
seconds and peak memory per kind, and as its LAST line one JSON object:
{"jobs", "summed_job_s", "wall_span_s", "peak_rss_mb", "kinds": {kind: {"n", "median_s", "max_s", "max_rss_mb"}}}
summed_job_s adds every job's wall time (what a resumed run cost in total); wall_span_s is the span
between the first job's start and the last job's end (file times), i.e. the wall time of the run.
Usage: python benchmarks/summarize_jobs.py [results/benchmarks]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd


def job_kind(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    rule = parts[0]
    if rule in ("train", "train_batched") and len(parts) >= 3:
        family = parts[2].split("_wd")[0].split("_p")[0] if parts[1] == "energy" else parts[2].split("_lam")[0]
        return f"{rule}:{parts[1]}:{family}"
    return rule


def collect(root: Path) -> pd.DataFrame:
    rows = []
    for f in sorted(root.rglob("*.tsv")):
        try:
            df = pd.read_csv(f, sep="\t")
        except (pd.errors.EmptyDataError, pd.errors.ParserError):
            continue
        if df.empty:
            continue
        last = df.iloc[-1]
        end = f.stat().st_mtime
        rows.append({"kind": job_kind(f, root), "file": str(f), "s": float(last["s"]),
                     "max_rss_mb": float(last.get("max_rss", float("nan"))), "start": end - float(last["s"]), "end": end})
    return pd.DataFrame(rows)


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "results/benchmarks")
    df = collect(root)
    if df.empty:
        print(json.dumps({"jobs": 0, "error": f"no benchmark files under {root}"}))
        return
    per = df.groupby("kind").agg(n=("s", "size"), median_s=("s", "median"), max_s=("s", "max"), max_rss_mb=("max_rss_mb", "max"))
    per = per.sort_values("max_s", ascending=False)
    print(per.round(1).to_string())
    out = {
        "jobs": int(len(df)),
        "summed_job_s": round(float(df["s"].sum()), 1),
        "wall_span_s": round(float(df["end"].max() - df["start"].min()), 1),
        "peak_rss_mb": round(float(df["max_rss_mb"].max()), 1),
        "kinds": {k: {kk: (round(float(v), 1) if kk != "n" else int(v)) for kk, v in row.items()} for k, row in per.iterrows()},
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
