"""Shared fixtures and helpers: tiny synthetic datasets, an isolated Snakemake working directory, Pearson r by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats as sps

from presyn.data import digests, make_synthetic, save_processed

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "workflow" / "Snakefile"


def write_tiny_dataset(path: Path, n_train: int = 600, n_test: int = 200, seed: int = 0, n_classes: int = 10) -> dict:
    arrays = make_synthetic(n_train, n_test, n_classes=n_classes, seed=seed)
    save_processed(arrays, path, {"synthetic": True})
    return digests(arrays)


def pearson_by_hand(x, y) -> tuple[float, float]:
    """r from centred sums; two-sided p from t = r sqrt(n - 2) / sqrt(1 - r^2) with n - 2 degrees of freedom."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    xc, yc = x - x.mean(), y - y.mean()
    r = float((xc * yc).sum() / np.sqrt((xc**2).sum() * (yc**2).sum()))
    t = r * np.sqrt(len(x) - 2) / np.sqrt(1 - r**2)
    return r, float(2 * sps.t.sf(abs(t), len(x) - 2))


class Workdir:
    """A Snakemake working directory outside the repo: config copied, tiny data in place."""

    def __init__(self, path: Path) -> None:
        self.path = path
        shutil.copytree(ROOT / "config", path / "config")
        for seed, name in enumerate(("mnist", "fashion")):
            write_tiny_dataset(path / "data" / "processed" / f"{name}.npz", seed=seed)

    def overlay(self, name: str, content: dict) -> Path:
        """Write an extra config overlay (deep-merged over config.yaml) and return its path."""
        p = self.path / "config" / f"{name}.yaml"
        p.write_text(yaml.safe_dump(content))
        return p

    def snakemake(
        self,
        *targets: str,
        configfiles: tuple[str, ...] = ("config/quick.yaml",),
        extra: tuple[str, ...] = (),
        cores: int = 2,
        check: bool = True,
    ) -> subprocess.CompletedProcess:
        cmd = [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(SNAKEFILE),
            "--directory",
            str(self.path),
            "--cores",
            str(cores),
            *targets,
            *extra,
        ]
        if configfiles:
            cmd += ["--configfile", *configfiles]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        res = subprocess.run(cmd, cwd=self.path, capture_output=True, text=True, env=env)
        if check and res.returncode != 0:
            raise AssertionError(f"snakemake failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-6000:]}")
        return res


@pytest.fixture
def one_torch_thread():
    """Small tensors: one torch thread (no oversubscription of a shared machine)."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def workdir(tmp_path: Path) -> Workdir:
    return Workdir(tmp_path / "wd")
