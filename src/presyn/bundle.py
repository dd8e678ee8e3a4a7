"""The reference bundle: the small tables a finished full-protocol run's stats, figures and scorecard read, shipped
in the repository with what that run produced from them, so that anyone (and CI) can rebuild every figure and the
scorecard without training and check that today's analysis code still turns them into the same numbers.

Layout of a bundle folder (paths inside mirror the workflow's):

    manifest.json                  code commit, config hash, date, machine, sha256 and role of every file
    config.yaml                    the resolved config of the run (reviewer mode builds with exactly this)
    results/tables/...             role "table": inputs of the stats and figure rules (rebuilt from, never trained)
    results/stats/*.csv            role "expected": the run's stats rows (the rebuild must equal them)
    results/reproduction.{md,csv}  role "expected": the run's scorecard
    figures/*.png                  role "figure": every figure drawn from the bundle's own tables in reviewer mode
                                   (``render_figures``); bundle_check redraws and compares them pixel by pixel
    job_summary.csv                role "summary": one row per job of the run (kind, wall seconds, peak memory)

Writing (``write_bundle``) is the Snakemake target ``reference_bundle``; reading it back (``verify``) refuses a
bundle whose files do not match the manifest; ``compare`` sets a rebuild's stats and scorecard beside the
bundle's and lists every difference.
"""

from __future__ import annotations

import json
import math
import platform
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml

from presyn.io import atomic_dir, atomic_path, sha256_file
from presyn.lockfile import compare_packages, environment, installed_versions
from presyn.provenance import code_version, config_hash, library_versions

FORMAT = 1
MANIFEST = "manifest.json"
CONFIG = "config.yaml"
JOB_SUMMARY = "job_summary.csv"
ROLES = ("table", "expected", "figure", "summary")
# the bundle ships these reductions instead of per-synapse tables (600k rows each, ~12 MB): what was aggregated
AGGREGATED = {
    "results/tables/energy_synapses.parquet": "per-synapse p, w_bar, Fisher of the analysed runs -> "
    "results/tables/energy_histograms.csv (Fig 2a/c/d, App. fig 1d histograms), "
    "results/tables/energy_synapse_stats.csv (Fig 2's synapse-level statistics) and "
    "results/tables/energy_important_fractions.csv (App. fig 1d)",
    "results/tables/energy_synapses_uniform.parquet": "per-synapse table of the uniform-init runs -> "
    "the uniform_ panels of results/tables/energy_histograms.csv and results/tables/energy_important_fractions.csv",
    "results/tables/robustness/<variant>/synapses.parquet": "per-synapse table of each robustness variant -> "
    "results/tables/robustness/<variant>/synapse_stats.csv",
}
# numeric columns compared with a tolerance; every other column must match exactly (NaN equals NaN)
RTOL, ATOL = 1e-9, 1e-12
STATS_NUMERIC = ("value", "sem", "n", "statistic", "p_value")
SCORECARD_KEY = "id"
SCORECARD_COMPARED = ("verdict", "ours", "ours_sem", "n", "difference")


class BundleError(RuntimeError):
    """A bundle that is missing, incomplete or altered; the message names the file and the fix."""


def _cpu_capability() -> str:
    import torch

    return str(torch.backends.cpu.get_cpu_capability())


def machine_description() -> dict:
    """Where the bundled run was computed (the analysis host; each run's own device is in its provenance)."""
    import os

    return {
        "host_platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_capability": _cpu_capability(),  # CPU results are bit-identical only between CPUs of one capability
        "python": platform.python_version(),
        "libraries": library_versions(),
    }


def figure_run_keys(runs: dict[str, dict]) -> list[str]:
    """Keys of the runs ``figures/all`` needs: not search trials (EWC search, ablation search) or diagnostic runs
    (BGD evidence), which are separate targets; the bundle's job summary describes the figures' run only."""
    return sorted(k for k, spec in runs.items() if not spec.get("search") and not spec.get("diagnostic"))


def job_summary(bench_root: Path, run_keys: Iterable[str]) -> pd.DataFrame:
    """One row per job of the run from Snakemake's benchmark files: training jobs of ``run_keys`` (a file of any
    other run, e.g. a search trial or a run of another config, is left out) and every analysis job."""
    keys = set(run_keys)
    rows = []
    for f in sorted(Path(bench_root).rglob("*.tsv")):
        rel = f.relative_to(bench_root).with_suffix("")
        rule = rel.parts[0]
        if rule in ("train",) and "/".join(rel.parts[1:]) not in keys:
            continue
        if rule in ("ablation_search_trial",):
            continue
        try:
            last = pd.read_csv(f, sep="\t").iloc[-1]
        except (pd.errors.EmptyDataError, pd.errors.ParserError, IndexError):
            continue
        rows.append(
            {
                "rule": rule,
                "job": "/".join(rel.parts[1:]) or rule,
                "wall_s": round(float(last["s"]), 2),
                "max_rss_mb": round(float(last.get("max_rss", float("nan"))), 1),
            }
        )
    return pd.DataFrame(rows, columns=["rule", "job", "wall_s", "max_rss_mb"])


def write_bundle(
    out_dir: str | Path,
    files: dict[str, list[str]],
    config: dict,
    jobs: pd.DataFrame,
    left_out: dict[str, str] | None = None,
    root: str | Path = ".",
) -> dict:
    """Write the bundle folder in one rename (``atomic_dir``). ``files``: role -> workflow-relative paths
    (``table``, ``expected``, ``figure``); ``config``: the resolved config of the run; ``jobs``: ``job_summary``."""
    root = Path(root)
    unknown = set(files) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown bundle roles {sorted(unknown)}; roles are {ROLES}")
    entries = {}
    with atomic_dir(out_dir) as tmp:
        tmp = Path(tmp)
        for role, paths in files.items():
            for rel in paths:
                src = root / rel
                if not src.is_file():
                    raise BundleError(f"{rel} is not there: build it first (snakemake {rel}) or switch off its section")
                dst = tmp / rel
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, dst)
                entries[rel] = {"role": role, "sha256": sha256_file(dst), "bytes": dst.stat().st_size}
        cfg = {k: v for k, v in config.items() if k != "reference_bundle"}
        (tmp / CONFIG).write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        jobs.to_csv(tmp / JOB_SUMMARY, index=False)
        for rel in (CONFIG, JOB_SUMMARY):
            entries[rel] = {
                "role": "summary" if rel == JOB_SUMMARY else "config",
                "sha256": sha256_file(tmp / rel),
                "bytes": (tmp / rel).stat().st_size,
            }
        manifest = {
            "format": FORMAT,
            "code_version": code_version(exclude=[out_dir]),  # rewriting the tracked bundle is not a code change
            "config_hash": config_hash(cfg),
            "run_label": cfg.get("run_label") or "paper protocol (config/config.yaml)",
            "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "machine": machine_description(),
            # the lock's sha256, whether the environment matched it, the version of every locked package
            "environment": environment(packages=True),
            "jobs": {"n": int(len(jobs)), "summed_wall_s": round(float(jobs["wall_s"].sum()), 1) if len(jobs) else 0.0},
            "left_out": dict(sorted((left_out or {}).items())),
            "aggregated": AGGREGATED,
            "files": dict(sorted(entries.items())),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def read_manifest(bundle: str | Path) -> dict:
    path = Path(bundle) / MANIFEST
    if not path.is_file():
        raise BundleError(
            f"{path} does not exist: {bundle} is not a reference bundle (build one with "
            f"`snakemake --cores 2 reference_bundle` after a full run, or point reference_bundle at one)"
        )
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: bundle format {manifest.get('format')!r}, this code reads format {FORMAT}")
    return manifest


def verify(bundle: str | Path, only: Iterable[str] | None = None) -> dict:
    """The manifest, after checking the sha256 of every listed file (or of ``only`` those); an altered or
    missing file raises naming it."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    files = manifest["files"]
    for rel in only if only is not None else files:
        if rel not in files:
            raise BundleError(
                f"{rel} is not in the reference bundle {bundle} (its manifest lists {len(files)} files): "
                f"the bundled run did not produce it; rebuild the bundle from a run that does"
            )
        path = bundle / rel
        if not path.is_file():
            raise BundleError(
                f"{path} is listed in the bundle manifest but missing: restore it (git checkout -- {path})"
            )
        if sha256_file(path) != files[rel]["sha256"]:
            raise BundleError(
                f"{path} differs from the sha256 in {bundle / MANIFEST}: the bundle was edited by hand; "
                f"restore it (git checkout -- {path}) or rebuild it with `snakemake reference_bundle`"
            )
    return manifest


def files_of(manifest: dict, role: str) -> list[str]:
    return sorted(p for p, e in manifest["files"].items() if e["role"] == role)


TABLES = "results/tables"  # the tables' folder, in a run's working directory and in a bundle alike


def tables_dir(bundle: str | Path, manifest: dict) -> Path:
    """Reviewer mode's only source of tables: the bundle's table folder, read in place by the stats and figure rules
    (workflow ``TABLES``). ``manifest`` comes from ``verify`` (every listed sha256 checked); a file in the folder
    that the manifest does not list as a table is refused by name too, so nothing unchecked is ever read."""
    bundle = Path(bundle).resolve()
    listed = set(files_of(manifest, "table"))
    for path in sorted((bundle / TABLES).rglob("*")):
        rel = path.relative_to(bundle).as_posix()
        if path.is_file() and rel not in listed:
            raise BundleError(
                f"{path} is not listed as a table in {bundle / MANIFEST}: the bundle was edited by hand; remove it "
                f"(or restore the bundle: git checkout -- {bundle}) or rebuild it with `snakemake reference_bundle`"
            )
    return bundle / TABLES


def missing_table_message(bundle: str | Path, manifest: dict, rel: str, needed_by: Iterable[str]) -> str:
    """Why a table that a target needs is not in the bundle: the figure(s) the bundled run left out (its manifest's
    ``left_out``, with the reason) or a run that did not produce it; never a training run in reviewer mode."""
    left_out = manifest.get("left_out") or {}
    why = "; ".join(
        f"{name} is not in the reference bundle {bundle}: {left_out[name]}" for name in needed_by if name in left_out
    )
    return (
        f"{rel} is not in the reference bundle {bundle} ({why or 'the bundled run did not make it'}): rebuild the "
        "bundle from a run that makes it (snakemake reference_bundle, with that figure's config section enabled), "
        "or leave this target out"
    )


# ------------------------------------------------------------------ comparison of a rebuild with the bundle


@dataclass(frozen=True)
class Difference:
    file: str
    key: str
    column: str
    bundle: object
    rebuilt: object

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.column}: bundle {self.bundle!r}, rebuilt {self.rebuilt!r}"


def _same(a: object, b: object, numeric: bool) -> bool:
    if numeric:
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return str(a) == str(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=RTOL, abs_tol=ATOL)
    na = a is None or (isinstance(a, float) and math.isnan(a))
    nb = b is None or (isinstance(b, float) and math.isnan(b))
    return (na and nb) or (not na and not nb and str(a) == str(b))


def _plain(x: object) -> object:
    """numpy scalars as Python ones (readable messages)."""
    return x.item() if hasattr(x, "item") else x


def compare_frames(
    file: str,
    bundle: pd.DataFrame,
    rebuilt: pd.DataFrame,
    key: str,
    columns: Iterable[str],
    numeric: Iterable[str],
    may_fill: Iterable[str] = (),
) -> tuple[list[Difference], list[str]]:
    """Differences of ``rebuilt`` from ``bundle`` row by ``key`` (every bundle row must be rebuilt, equal in
    ``columns``); and the keys only the rebuild has (new rows: reported, not an error). A column of ``may_fill`` that
    the bundle left empty may be filled by the rebuild (issue 33: the n of claims, absent before)."""
    numeric, may_fill = set(numeric), set(may_fill)
    for name, df in (("bundle", bundle), ("rebuilt", rebuilt)):
        if df[key].duplicated().any():
            raise BundleError(f"{file} ({name}): duplicate {key} {sorted(df.loc[df[key].duplicated(), key])[:3]}")
    b, r = bundle.set_index(key), rebuilt.set_index(key)
    diffs = []
    for k, row in b.iterrows():
        if k not in r.index:
            diffs.append(Difference(file, str(k), "(row)", "present", "missing"))
            continue
        for col in columns:
            if col not in b.columns:
                continue
            got = r.at[k, col] if col in r.columns else None
            if col in may_fill and (row[col] is None or (not isinstance(row[col], str) and pd.isna(row[col]))):
                continue
            if not _same(row[col], got, col in numeric):
                diffs.append(Difference(file, str(k), col, _plain(row[col]), _plain(got)))
    return diffs, sorted(str(k) for k in r.index.difference(b.index))


def compare(bundle: str | Path, rebuilt_root: str | Path) -> tuple[list[Difference], dict[str, list[str]]]:
    """Every stats file and the scorecard CSV of the bundle against the same paths under ``rebuilt_root``.
    Returns (differences, new keys per file). Stats rows are matched by name: all stats columns compared
    (numeric ones to RTOL / ATOL); scorecard rows by id: verdict, ours, ours_sem, n, difference."""
    bundle, rebuilt_root = Path(bundle), Path(rebuilt_root)
    manifest = verify(bundle)
    diffs, new = [], {}
    for rel in files_of(manifest, "expected"):
        if not rel.endswith(".csv"):
            continue
        path = rebuilt_root / rel
        if not path.is_file():
            diffs.append(Difference(rel, "(file)", "(file)", "present", "missing"))
            continue
        b, r = pd.read_csv(bundle / rel), pd.read_csv(path)
        if rel.startswith("results/stats/"):
            cols = [c for c in b.columns if c != "name"]
            d, n = compare_frames(rel, b, r, "name", cols, STATS_NUMERIC)
        else:
            d, n = compare_frames(
                rel, b, r, SCORECARD_KEY, SCORECARD_COMPARED, ("ours", "ours_sem", "n", "difference"), may_fill=("n",)
            )
        diffs += d
        if n:
            new[rel] = n
    return diffs, new


FIGURE_TOLERANCE = 0.002  # share of pixels that may differ when the bundle's matplotlib differs from today's


def _pixels(path: Path):
    import matplotlib.image as mpimg

    return mpimg.imread(path)


def compare_figures(bundle: str | Path, rebuilt_root: str | Path) -> list[Difference]:
    """Every shipped figure (role ``figure``) against the rebuild's: PNGs pixel by pixel (exact when the bundle's
    matplotlib version is today's, else at most FIGURE_TOLERANCE of the pixels may differ), text files (App. table
    1) byte for byte. A figure whose drawing code changed since the bundle's figures were rendered fails here by
    name, so the shipped pictures cannot go stale (issue 30)."""
    import matplotlib
    import numpy as np

    bundle, rebuilt_root = Path(bundle), Path(rebuilt_root)
    manifest = verify(bundle)
    drawn_with = (manifest.get("machine", {}).get("libraries", {}) or {}).get("matplotlib")
    tolerance = 0.0 if drawn_with == matplotlib.__version__ else FIGURE_TOLERANCE
    diffs = []
    for rel in files_of(manifest, "figure"):
        mine, theirs = bundle / rel, rebuilt_root / rel
        if not theirs.is_file():
            diffs.append(Difference(rel, "(file)", "(file)", "present", "missing"))
        elif mine.read_bytes() == theirs.read_bytes():
            continue
        elif rel.endswith(".png"):
            a, b = _pixels(mine), _pixels(theirs)
            if a.shape != b.shape:
                diffs.append(Difference(rel, "(figure)", "size", f"{a.shape}", f"{b.shape}"))
                continue
            share = float(np.any(a != b, axis=-1).mean()) if a.ndim == 3 else float((a != b).mean())
            if share > tolerance:
                diffs.append(
                    Difference(
                        rel,
                        "(figure)",
                        "pixels",
                        f"drawn by matplotlib {drawn_with}",
                        f"{share:.2%} of the pixels differ (allowed {tolerance:.2%})",
                    )
                )
        else:
            diffs.append(Difference(rel, "(file)", "text", "as shipped", "differs"))
    return diffs


def render_figures(
    bundle: str | Path, render_dir: str | Path, repo: str | Path, cores: int = 1, env: dict | None = None
) -> dict:
    """Draw the bundle's figures from its own tables, in reviewer mode, and ship those (issue 30): a figure in the
    bundle is then exactly what ``bundle_check`` redraws from it, title included ("reference bundle: code ...")
    and never a picture of the run's working tree. Runs ``snakemake figures/all`` in reviewer mode (a separate
    Snakemake process, working directory ``render_dir``), requires its stats and scorecard to equal the bundle's
    (the analysis is a function of the tables; a difference is a bug and raises), then replaces every file of role
    ``figure`` and records ``figures_rendered`` in the manifest, written last (atomically)."""
    import os
    import subprocess
    import sys

    bundle, render_dir, repo = Path(bundle).resolve(), Path(render_dir).resolve(), Path(repo).resolve()
    if render_dir.exists():
        shutil.rmtree(render_dir)
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(repo / "workflow" / "Snakefile"),
        "--cores",
        str(max(1, cores)),
        "figures/all",
        "--configfile",
        str(repo / "config" / "reviewer.yaml"),
        "--config",
        f"reference_bundle={bundle}",
        f"reviewer_dir={render_dir}",
    ]
    res = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if res.returncode != 0:
        raise BundleError(
            f"rendering the bundle's figures from its tables failed (snakemake exit {res.returncode}); "
            f"its log: {render_dir / 'logs'}\n{res.stderr[-3000:]}"
        )
    diffs, _ = compare(bundle, render_dir)
    if diffs:
        raise BundleError(
            f"the stats / scorecard drawn from the bundle's tables differ from the run's ({len(diffs)} "
            f"differences, first: {diffs[0]}): the analysis is not a function of the bundled tables; fix that"
        )
    manifest = verify(bundle)
    files = dict(manifest["files"])
    for rel in files_of(manifest, "figure"):
        src = render_dir / rel
        if not src.is_file():
            raise BundleError(f"the reviewer rendering under {render_dir} lacks {rel}")
        with atomic_path(bundle / rel) as tmp:
            shutil.copyfile(src, tmp)
        files[rel] = {**files[rel], "sha256": sha256_file(bundle / rel), "bytes": (bundle / rel).stat().st_size}
    manifest["files"] = dict(sorted(files.items()))
    manifest["figures_rendered"] = (
        "every figure drawn from this bundle's tables in reviewer mode by code_version "
        "(snakemake figures/all --configfile config/reviewer.yaml), as bundle_check redraws it"
    )
    with atomic_path(bundle / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


# ------------------------------------------------------------------ refreshing the analysis layer (issue 28)

ANALYSIS_ROLES = ("expected", "figure")


def reanalyse(bundle: str | Path, rebuilt_root: str | Path, repo: str | Path | None = None) -> dict:
    """Refresh the bundle's analysis layer from a reviewer-mode rebuild (``snakemake bundle_reanalyse --configfile
    config/reviewer.yaml``): every file of role ``expected`` (stats, scorecard) and ``figure`` (PNGs, App. table 1)
    is replaced by the rebuild's (which today's code computed from the bundle's own tables), a stats file the rebuild
    has and the bundle lacks is added as ``expected``; tables, config, job summary and the run's ``code_version``
    stay as they are. The manifest gains ``analysis_code_version`` (the commit that recomputed stats, scorecard and
    figures), ``analysis_created_utc`` and the new sha256s; the manifest is written last (atomically), so an
    interrupted refresh leaves a bundle that ``verify`` refuses rather than one that looks consistent."""
    bundle, rebuilt_root = Path(bundle), Path(rebuilt_root)
    manifest = verify(bundle)
    files = dict(manifest["files"])
    todo = [rel for rel, e in files.items() if e["role"] in ANALYSIS_ROLES]
    todo += sorted(
        p.relative_to(rebuilt_root).as_posix()
        for p in (rebuilt_root / "results/stats").glob("*.csv")
        if p.relative_to(rebuilt_root).as_posix() not in files
    )
    missing = [rel for rel in todo if not (rebuilt_root / rel).is_file()]
    if missing:
        raise BundleError(
            f"the rebuild under {rebuilt_root} lacks {missing[:5]}: run the reviewer rebuild of every figure "
            f"(snakemake figures/all --configfile config/reviewer.yaml) first"
        )
    for rel in todo:
        dst = bundle / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(dst) as tmp:
            shutil.copyfile(rebuilt_root / rel, tmp)
        role = files.get(rel, {}).get("role", "expected")
        files[rel] = {"role": role, "sha256": sha256_file(dst), "bytes": dst.stat().st_size}
    manifest["files"] = dict(sorted(files.items()))
    manifest["analysis_code_version"] = code_version(exclude=[bundle], root=repo)
    manifest["analysis_created_utc"] = datetime.now(UTC).isoformat(timespec="seconds")
    manifest["analysis_note"] = (
        "stats, scorecard and figures recomputed from this bundle's tables by analysis_code_version "
        "(reviewer mode, target bundle_reanalyse); tables, config and code_version are the run's"
    )
    with atomic_path(bundle / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def update_tables(
    bundle: str | Path,
    tables: dict[str, str | Path],
    note: str,
    config_sections: dict | None = None,
    repo: str | Path | None = None,
) -> dict:
    """Replace some of the bundle's tables by tables of a partial rerun (runs whose config changed, or evaluation-only
    extras on the same runs), or add a new table (a new analysis of the bundled runs: rows_before is None), without pretending the whole bundle was rerun: each replaced file keeps its role,
    gets its new sha256, and ``table_updates`` in the manifest records what changed, by which code, when and why
    (``note``: which runs were rerun and how the rows shared with the old table were checked). ``config_sections``
    (top-level key -> new value) replace those sections of the bundle's config, so that the config describes the
    runs behind the tables. Stats, scorecard and figures are not touched: refresh them with ``reanalyse``."""
    bundle = Path(bundle)
    manifest = verify(bundle)
    files = dict(manifest["files"])
    unknown = [
        rel
        for rel in tables
        if files.get(rel, {"role": "table"}).get("role") != "table"
        or (rel not in files and not rel.startswith("results/tables/"))
    ]
    if unknown:
        raise BundleError(
            f"{unknown} are not tables of the bundle {bundle}: only tables (results/tables/...) can be updated or added"
        )
    record = {
        "code_version": code_version(exclude=[bundle], root=repo),
        "created_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "note": note,
        "files": {},
    }
    for rel, src in tables.items():
        dst = bundle / rel
        old_rows = len(pd.read_csv(dst)) if dst.suffix == ".csv" and rel in files else None
        dst.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        files[rel] = {**files.get(rel, {"role": "table"}), "sha256": sha256_file(dst), "bytes": dst.stat().st_size}
        record["files"][rel] = {
            "rows_before": old_rows,
            "rows_after": len(pd.read_csv(dst)) if dst.suffix == ".csv" else None,
        }
    if config_sections:
        cfg = yaml.safe_load((bundle / CONFIG).read_text(encoding="utf-8"))
        cfg.update(config_sections)
        with atomic_path(bundle / CONFIG) as tmp:
            Path(tmp).write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
        files[CONFIG] = {
            **files[CONFIG],
            "sha256": sha256_file(bundle / CONFIG),
            "bytes": (bundle / CONFIG).stat().st_size,
        }
        record["config_sections"] = sorted(config_sections)
        record["config_hash_after"] = config_hash(cfg)
    manifest["files"] = dict(sorted(files.items()))
    manifest.setdefault("table_updates", []).append(record)
    with atomic_path(bundle / MANIFEST) as tmp:
        Path(tmp).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


# ------------------------------------------------------------------ reviewer mode

REVIEWER_KEYS = ("reference_bundle", "reviewer_dir")


def reviewer_setup(config: dict, repo: str | Path) -> dict:
    """Reviewer mode, before the workflow validates its config: check the bundle (every sha256) and replace
    ``config`` in place by the bundle's own config (plus the two reviewer keys), so that nothing of a local config
    can mix into the rebuild. Returns the bundle folder, its manifest, its checked table folder (``tables_dir``: what
    the stats and figure rules read), the working directory of the rebuild (``reviewer_dir``, default ``reviewer``,
    beside the repository's own results) and the figure note."""
    repo = Path(repo)
    path = Path(config["reference_bundle"])
    path = path if path.is_absolute() else repo / path
    manifest = verify(path)
    tables = tables_dir(path, manifest)
    try:
        bundle_cfg = yaml.safe_load((path / CONFIG).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise BundleError(
            f"{path / CONFIG} cannot be read ({e}): rebuild the bundle with `snakemake reference_bundle`"
        ) from e
    workdir = Path(config.get("reviewer_dir") or "reviewer")
    workdir = workdir if workdir.is_absolute() else repo / workdir
    if workdir.resolve() == repo.resolve():
        raise BundleError("reviewer_dir must not be the repository itself: the rebuild would mix with local results")
    config.clear()
    config.update(bundle_cfg)
    config.update({"reference_bundle": str(path), "reviewer_dir": str(workdir)})
    env_diff = environment_differences(manifest)
    if env_diff:
        import sys

        print(f"warning: {environment_warning(env_diff)}", file=sys.stderr)
    commit = str(manifest.get("code_version", "?"))
    note = f"reference bundle: code {commit[:7]}{'-dirty' if commit.endswith('-dirty') else ''}, run of {manifest.get('created_utc', '?')[:10]}"
    return {
        "bundle": path,
        "manifest": manifest,
        "tables": tables,
        "workdir": str(workdir),
        "note": note,
        "environment_differences": env_diff,
    }


def environment_differences(manifest: dict) -> dict[str, list]:
    """{package: [bundle's version, today's]} for every package whose installed version today differs from the
    bundled run's: the manifest's ``environment.packages`` (every locked package) and ``machine.libraries``
    (bundles written before the lock)."""
    recorded = dict((manifest.get("machine") or {}).get("libraries") or {})
    recorded.pop("python", None)
    recorded.update((manifest.get("environment") or {}).get("packages") or {})
    return compare_packages(recorded, installed_versions(recorded))


def environment_warning(diff: dict[str, list]) -> str:
    return (
        f"today's environment differs from the reference bundle's in {len(diff)} package(s): "
        + ", ".join(f"{k} {a} (bundle) vs {b} (now)" for k, (a, b) in diff.items())
        + "; rebuilt numbers may differ from the bundle's for that reason (scripts/setup_env.sh installs the "
        "locked environment, requirements/cpu.lock.txt)"
    )


# ------------------------------------------------------------------ README's "where the reproduction stands"

README_BEGIN = (
    "<!-- BEGIN reproduction status: generated by `snakemake readme_status` from the reference bundle; do not edit -->"
)
README_END = "<!-- END reproduction status -->"


def _num(x: object) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if math.isnan(f):
        return ""
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else f"{f:.4g}"


def figure_order(name: str) -> tuple:
    """The paper's order: Fig 1-5, then the appendix figures and table, then our extra figures."""
    m = re.fullmatch(r"(app)?(fig|table)(\d+)", name)
    if m:
        return (1 if m.group(1) else 0, m.group(2) == "table", int(m.group(3)), name)
    return (2, False, 0, name)


def _claim_words(r: pd.Series) -> str:
    """A failed claim in words: the scorecard's sentence where it has one (issue 33), else its check, shortened."""
    text = str(r.get("explanation") or "") if isinstance(r.get("explanation"), str) else ""
    text = text or str(r["detail"])
    return text[:300] + " ..." if len(text) > 300 else text


def _misses_lines(card: pd.DataFrame, bundle_rel: str, notes: dict | None) -> list[str]:
    """One plain sentence per miss (grouped where one note covers several) with its reason and links (issue 33)."""
    notes = notes or {}
    st = card["status"].fillna("current") if "status" in card else pd.Series("current", index=card.index)
    m = card[(card["verdict"] == "not reproduced") & (st == "current")]
    if not len(m):
        return []
    from presyn.scorecard_page import REASONS, SECTION_TITLE, anchor, section_order

    groups: dict[str, list] = {}
    for _, r in sorted(m.iterrows(), key=lambda kv: section_order(kv[1]["figure"])):
        note = notes.get(r["id"]) or {}
        key = note.get("finding") or r["id"]
        groups.setdefault(key, []).append((r, note))
    lines = [
        "",
        "What is not reproduced, and why (each miss once; reasons and measurements in `config/README.md`, "
        "notes in `config/scorecard_notes.yaml`):",
        "",
    ]
    for rows in groups.values():
        r, note = rows[0]
        title = SECTION_TITLE.get(r["figure"], r["figure"])
        ids = ", ".join(f"[`{x['id']}`]({bundle_rel}/results/reproduction.md#{anchor(x['id'])})" for x, _ in rows)
        finding = note.get("finding") or (
            _claim_words(r)
            if r["kind"] == "claim"
            else f"{r['statement']}: ours {_num(r['ours'])}, published {_num(r['published'])}"
        )
        reason = REASONS.get(note.get("reason"), "unexplained (no note yet)")
        see = f" [{note['see'].split('#')[-1]}]({note['see']})" if note.get("see") else ""
        lines.append(f"- **{title}** ({ids}), *{reason}*: {finding}{see}")
    return lines


def status_section(bundle: str | Path, bundle_rel: str = "reference/bundle", notes: dict | None = None) -> str:
    """The README section from the bundle's scorecard: counts, every miss with ours vs published, what the run
    left out, and the bundle's figures side by side. Every number is read from ``bundle`` (paths printed as
    ``bundle_rel``, relative to the README)."""
    bundle = Path(bundle)
    manifest = verify(bundle)
    card = pd.read_csv(bundle / "results/reproduction.csv")
    commit = str(manifest.get("code_version", "?"))
    analysed = manifest.get("analysis_code_version")
    lines = [
        README_BEGIN,
        "",
        f"From the reference bundle `{bundle_rel}/` (code {commit[:12]}, run of {manifest['created_utc']}, "
        f"{manifest['run_label']}; seeds and every setting in `{bundle_rel}/config.yaml`; "
        f"{manifest['jobs']['n']} jobs, {manifest['jobs']['summed_wall_s'] / 3600:.1f} job-hours"
        + (
            f"; stats, scorecard and figures recomputed from its tables by code {str(analysed)[:12]} on "
            f"{str(manifest.get('analysis_created_utc', '?'))[:10]}"
            if analysed
            else ""
        )
        + "). "
        f"Full table: [`{bundle_rel}/results/reproduction.md`]({bundle_rel}/results/reproduction.md).",
        "",
    ]
    distinct = "status" in card.columns  # scorecards from issue 28 on: three levels, each distinct test once
    if distinct:
        from presyn.scorecard import distinct_counts

        dc = distinct_counts(card)
        lines += [
            "Each distinct test once (a row that repeats another's test is counted there; earlier tests replaced "
            "by better ones are counted apart):",
            "",
            "| | distinct | reproduced | close | not reproduced | not run | repeats (not counted) | superseded: reproduced / not reproduced (not counted) | added after results were known |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for kind, label in (("number", "published numbers"), ("claim", "qualitative claims")):
            d, cur = dc[kind], dc[kind]["current"]
            lines.append(
                f"| {label} | {d['n_current']} | {cur['reproduced']} | {cur['close']} | {cur['not reproduced']} | "
                f"{cur['not run']} | {d['duplicates']} | {d['superseded']['reproduced']} / "
                f"{d['superseded']['not reproduced']} | {d['after_results']} |"
            )
    else:
        lines += ["| | reproduced | not reproduced | not run |", "|---|---|---|---|"]
        for kind, label in (("number", "published numbers"), ("claim", "qualitative claims")):
            c = card[card["kind"] == kind]["verdict"].value_counts()
            lines.append(
                f"| {label} | {int(c.get('reproduced', 0))} | {int(c.get('not reproduced', 0))} | {int(c.get('not run', 0))} |"
            )
    numbers = card[(card["kind"] == "number") & (card["verdict"] != "not run")]
    if len(numbers):
        lines += ["", "<details><summary>Every published number, published beside ours</summary>"]
        if distinct:
            lines += [
                "",
                "| published number | published | ours (± SEM, n) | verdict | rule | earlier rule: verdict |",
                "|---|---|---|---|---|---|",
            ]
        else:
            lines += ["", "| published number | published | ours (± SEM, n) | verdict |", "|---|---|---|---|"]
        for _, r in numbers.iterrows():
            sem = f" ± {_num(r['ours_sem'])}" if _num(r["ours_sem"]) else ""
            pub_sem = f" ± {_num(r['published_sem'])}" if _num(r["published_sem"]) else ""
            n = _num(r["n"])
            row = f"| `{r['id']}` | {_num(r['published'])}{pub_sem} | {_num(r['ours'])}{sem} (n={n}) | {r['verdict']} |"
            if distinct:
                rule = str(r["tolerance"]) + (
                    f"; repeats {r['counted_under']}" if r.get("status") == "duplicate" else ""
                )
                earlier = (
                    f"{r['earlier_verdict']}"
                    if isinstance(r.get("earlier_verdict"), str) and r["earlier_verdict"]
                    else ""
                )
                row += f" {rule.replace('|', '/')} | {earlier} |"
            lines.append(row)
        lines += ["", "</details>"]
    if notes is None:  # the repository's notes on each miss (config/scorecard_notes.yaml)
        path = Path(__file__).resolve().parents[2] / "config" / "scorecard_notes.yaml"
        notes = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("misses", {}) if path.exists() else {}
    lines += _misses_lines(card, bundle_rel, notes)
    left = manifest.get("left_out") or {}
    if left:
        lines += ["", "Not in this run:", ""] + [
            f"- {k}: {v}" for k, v in sorted(left.items(), key=lambda kv: figure_order(kv[0]))
        ]
    pngs = sorted(
        (f for f in files_of(manifest, "figure") if f.endswith(".png")), key=lambda f: figure_order(Path(f).stem)
    )
    if pngs:
        lines += (
            ["", "<p>"] + [f'<img src="{bundle_rel}/{f}" alt="{Path(f).stem}" width="32%">' for f in pngs] + ["</p>"]
        )
    lines += ["", README_END]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """``text`` (README) with the part between the markers replaced by ``section`` (which carries them)."""
    if README_BEGIN not in text or README_END not in text:
        raise BundleError(
            f"README has no generated section: put the two marker lines\n{README_BEGIN}\n{README_END}\n"
            f"where the reproduction status belongs"
        )
    head, rest = text.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    return head + section.rstrip("\n") + tail
