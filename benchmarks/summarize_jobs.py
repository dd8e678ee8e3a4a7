"""Summarise Snakemake benchmark files (results/benchmarks/) per job kind, and project what is left.

A job kind is the rule, plus for training jobs the experiment, the method family and, for task
streams, the benchmark family (e.g. train:energy:presyn, train:lifelong:bgd:perm, train:ablation:full:split):
jobs of one kind cost about the same. Prints a table of count, median / max wall seconds and peak
memory per kind, and as its LAST line one JSON object:

    {"jobs", "summed_job_s", "wall_span_s", "sittings_wall_s", "sittings": [{"start", "end", "wall_s", "jobs"}], "peak_rss_mb", "kinds": {kind: {"n", "median_s", "max_s", "max_rss_mb"}},
     "projection": {...}}   # only with --config

summed_job_s adds every job's wall time (what a resumed run cost in total); wall_span_s is the span
between the first job's start and the last job's end (file times), i.e. the wall time of the run.
A run resumed over several sittings has idle gaps in that span: ``sittings`` splits the jobs wherever
no job ran for more than --gap seconds (default 600), and sittings_wall_s adds the sittings' spans,
i.e. the wall time the pipeline actually ran.
With --config (the config and overlays the run used), every training run of that config without a
benchmark file, or whose result in --runs was trained with another config hash (stale), is "pending"; its cost is the median of its kind where that kind has been measured.
The projection gives pending jobs per kind, their estimated seconds, the kinds not measured yet, and
projected_wall_s = (summed + pending estimate) / cores for one-thread jobs on `--cores` cores.

Usage: python benchmarks/summarize_jobs.py [results/benchmarks] [--config config/config.yaml [overlay ...]] [--cores 2]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd


def benchmark_family(benchmark: str) -> str | None:
    """split / perm / cont for task streams (their cost differs ~10x); None for single-task data."""
    for family in ("cont", "split", "perm"):
        if benchmark.startswith(family):
            return family
    return None


def run_kind(rule: str, experiment: str, method: str, benchmark: str) -> str:
    if experiment == "energy":
        family = method.split("_wd")[0].split("_p")[0]
    else:
        family = method.split("_lam")[0].removeprefix("ablation-")
    kind = f"{rule}:{experiment}:{family}"
    bench = benchmark_family(benchmark)
    return f"{kind}:{bench}" if bench else kind


def job_kind(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    rule = parts[0]
    if rule in ("train", "train_batched", "train_stacked_lifelong") and len(parts) >= 4:
        return run_kind(rule, parts[1], parts[2], parts[3])
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
        rows.append(
            {
                "kind": job_kind(f, root),
                "file": str(f),
                "s": float(last["s"]),
                "max_rss_mb": float(last.get("max_rss", float("nan"))),
                "start": end - float(last["s"]),
                "end": end,
            }
        )
    return pd.DataFrame(rows)


def is_current(run_dir: Path, config_hash: str | None) -> bool:
    """The run's result was trained with this spec (its provenance records the same config hash)."""
    try:
        return json.loads((run_dir / "provenance.json").read_text()).get("config_hash") == config_hash
    except (OSError, ValueError):
        return False


def workflow_config(config_paths: list[str]) -> dict:
    """The config as the Snakefile sees it (workflow/rules/common.smk): overlays merged, checked, and the
    schema's defaults filled in by snakemake.utils.validate, so that run specs and config hashes match."""
    from snakemake.utils import validate

    from presyn import config_check
    from presyn.configs import load_config

    schema = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"
    config = load_config(*config_paths)
    config_check.validate(config, schema)
    validate(config, schema=str(schema))
    return config


def pending_runs(config_paths: list[str], root: Path, runs_root: Path | None = None) -> pd.DataFrame:
    """Training runs of figures/all (hyperparameter searches excluded) still to do: (key, kind, stale).

    Pending: no benchmark file, or (when ``runs_root`` holds the run) a result trained with another spec
    (stale = True: Snakemake retrains it, e.g. after a config change); its old time still counts as measured."""
    from presyn import planning

    rows = []
    for key, spec in planning.all_runs(workflow_config(config_paths)).items():
        if spec.get("search"):  # e.g. the EWC lambda search: its own target, not part of figures/all
            continue
        parts = (spec["experiment"], spec["method"], spec["benchmark"])
        tsv = root.joinpath("train", *parts, f"seed{spec['seed']}.tsv")
        run_dir = runs_root.joinpath(*parts, f"seed{spec['seed']}") if runs_root is not None else None
        stale = (
            tsv.exists()
            and run_dir is not None
            and run_dir.exists()
            and not is_current(run_dir, spec.get("config_hash"))
        )
        if not tsv.exists() or stale:
            rows.append({"run": key, "kind": run_kind("train", *parts), "stale": stale})
    return pd.DataFrame(rows, columns=["run", "kind", "stale"])


def sittings(df: pd.DataFrame, gap_s: float) -> list[dict]:
    """Busy periods: jobs grouped wherever no job ran for more than ``gap_s`` (a stopped and resumed run)."""
    periods: list[dict] = []
    for start, end in sorted(zip(df["start"], df["end"])):
        if periods and start - periods[-1]["end"] <= gap_s:
            periods[-1]["end"] = max(periods[-1]["end"], end)
            periods[-1]["jobs"] += 1
        else:
            periods.append({"start": start, "end": end, "jobs": 1})
    iso = lambda t: pd.Timestamp(t, unit="s", tz="UTC").isoformat(timespec="seconds")  # noqa: E731
    return [
        {"start": iso(p["start"]), "end": iso(p["end"]), "wall_s": round(p["end"] - p["start"], 1), "jobs": p["jobs"]}
        for p in periods
    ]


def projection(done: pd.DataFrame, pending: pd.DataFrame, cores: int, stale_s: float = 0.0) -> dict:
    """Measured + estimated cost of the whole grid; ``stale_s``: measured seconds of stale runs (retrained,
    so their old time is not part of the grid's total; it still informs the kind medians)."""
    medians = done.groupby("kind")["s"].median() if not done.empty else pd.Series(dtype=float)
    per = pending.groupby("kind").size() if not pending.empty else pd.Series(dtype=int)
    estimated = {k: int(n) * float(medians[k]) for k, n in per.items() if k in medians}
    unmeasured = {k: int(n) for k, n in per.items() if k not in medians}
    summed = (float(done["s"].sum()) if not done.empty else 0.0) - stale_s
    total = summed + sum(estimated.values())
    return {
        "pending_jobs": int(len(pending)),
        "stale_jobs": int(pending["stale"].sum()) if "stale" in pending else 0,
        "pending_by_kind": {k: int(n) for k, n in per.items()},
        "pending_estimated_s": round(sum(estimated.values()), 1),
        "unmeasured_kinds": unmeasured,
        "projected_total_job_s": round(total, 1),
        "cores": cores,
        "projected_wall_s": round(total / cores, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", default="results/benchmarks")
    ap.add_argument("--config", nargs="+", help="config.yaml and overlays of the run, to project the pending jobs")
    ap.add_argument("--cores", type=int, default=2, help="cores running one-thread jobs side by side (projection)")
    ap.add_argument(
        "--runs", default="results/runs", help="trained runs: a result with another config hash is pending (stale)"
    )
    ap.add_argument(
        "--gap", type=float, default=600.0, help="idle seconds that end a sitting (a stopped, later resumed run)"
    )
    args = ap.parse_args()
    root = Path(args.root)
    df = collect(root)
    out: dict = {"jobs": int(len(df))}
    if df.empty:
        out["error"] = f"no benchmark files under {root}"
    else:
        per = df.groupby("kind").agg(
            n=("s", "size"), median_s=("s", "median"), max_s=("s", "max"), max_rss_mb=("max_rss_mb", "max")
        )
        per = per.sort_values("max_s", ascending=False)
        periods = sittings(df, args.gap)
        print(per.round(1).to_string())
        out.update(
            {
                "summed_job_s": round(float(df["s"].sum()), 1),
                "wall_span_s": round(float(df["end"].max() - df["start"].min()), 1),
                "sittings_wall_s": round(sum(p["wall_s"] for p in periods), 1),
                "sittings": periods,
                "peak_rss_mb": round(float(df["max_rss_mb"].max()), 1),
                "kinds": {
                    k: {kk: (round(float(v), 1) if kk != "n" else int(v)) for kk, v in row.items()}
                    for k, row in per.iterrows()
                },
            }
        )
    if args.config:
        pending = pending_runs(args.config, root, Path(args.runs))
        stale_files = {str(root / "train" / f"{run}.tsv") for run in pending.loc[pending["stale"], "run"]}
        stale_s = float(df.loc[df["file"].isin(stale_files), "s"].sum()) if not df.empty else 0.0
        out["projection"] = projection(df, pending, args.cores, stale_s)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
