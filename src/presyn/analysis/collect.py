"""Collect per-run outputs into tidy tables; refuse to mix results of different configs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd


class MixedConfigError(RuntimeError):
    """Runs feeding one table were trained under different configs."""


class NoRunsError(RuntimeError):
    """An analysis was given no runs at all."""


def read_metrics(paths: Iterable[str | Path]) -> pd.DataFrame:
    paths = list(paths)
    if not paths:
        raise NoRunsError(
            "no training runs were given to this analysis; check the config section is enabled and has seeds"
        )
    return pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)


def check_single_config(df: pd.DataFrame, what: str, by: str = "method") -> None:
    """Each method's runs must share one config hash (re-run stale runs instead of mixing)."""
    if "config_hash" not in df:
        return
    mixed = df.groupby(by)["config_hash"].nunique()
    mixed = mixed[mixed > 1]
    if len(mixed):
        keys = [k for k in ("experiment", "method", "benchmark", "seed") if k in df]
        runs = df[df[by].isin(mixed.index)].drop_duplicates(keys + ["config_hash"])
        detail = "; ".join(
            f"config {h}: "
            + ", ".join(
                "results/runs/" + "/".join(str(v) if k != "seed" else f"seed{v}" for k, v in zip(keys, r))
                for r in g[keys].itertuples(index=False)
            )
            for h, g in runs.groupby("config_hash")
        )
        raise MixedConfigError(
            f"{what}: runs of {list(mixed.index)} come from different configs (config hashes differ): {detail}. "
            "Refusing to mix them in one table. To fix: rerun the same command without '--rerun-triggers mtime' "
            "(Snakemake then retrains the runs whose config changed), or delete the stale run folders listed above "
            "and rerun"
        )


def final_values(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run (and task): every metric at the run's last epoch, wide."""
    keys = ["experiment", "method", "benchmark", "seed", "task"]
    last = df[df["epoch"] == df.groupby(keys[:-1])["epoch"].transform("max")]
    wide = last.pivot_table(
        index=keys + ["config_hash"] if "config_hash" in df else keys, columns="metric", values="value"
    ).reset_index()
    wide.columns.name = None
    return wide


def read_provenance(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
