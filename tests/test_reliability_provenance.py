"""Provenance: every result file carries config hash, seed, code version, library versions and
device; a table rule refuses to mix runs trained under different configs, saying what to do."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
import torch

from presyn.analysis.collect import MixedConfigError, check_single_config

RUN = "results/runs/energy/presyn_wd0/mnist/seed2019"
SMALL = {"seeds": [2019, 2020], "energy": {"epochs": 1, "weight_decays": [0.0]}}


def assert_provenance(prov: dict, seed: int):
    assert len(prov["config_hash"]) == 16 and prov["seed"] == seed
    assert prov["code_version"] and prov["code_version"] != "unknown"
    assert {"python", "torch", "numpy", "pandas", "scipy"} <= set(prov["libraries"])
    assert prov["device"].startswith("cpu")
    # the CPU capability torch dispatched on: runs are bit-identical only between CPUs of one capability
    assert f", {torch.backends.cpu.get_cpu_capability()}, " in prov["device"]
    assert prov["spec"]["seed"] == seed and prov["spec"]["config_hash"] == prov["config_hash"]


def test_check_single_config_unit():
    df = pd.DataFrame(
        {
            "experiment": "energy",
            "method": ["a", "a", "b"],
            "benchmark": "mnist",
            "seed": [1, 2, 1],
            "config_hash": ["h1", "h2", "h1"],
        }
    )
    with pytest.raises(
        MixedConfigError,
        match=r"config h1: results/runs/energy/a/mnist/seed1; config h2: results/runs/energy/a/mnist/seed2",
    ):
        check_single_config(df, "energy runs")
    check_single_config(df[df["seed"] == 1], "energy runs")  # one hash per method: fine


@pytest.mark.e2e
def test_provenance_everywhere_and_mixed_configs_refused(workdir):
    wd = workdir.path
    workdir.overlay("a", SMALL)
    cfg_a = ("config/quick.yaml", "config/a.yaml")
    workdir.snakemake("results/tables/energy_final.csv", configfiles=cfg_a)

    # --- every per-run file carries the provenance record
    prov = json.loads((wd / RUN / "provenance.json").read_text())
    assert_provenance(prov, 2019)
    meta = pq.read_schema(wd / RUN / "metrics.parquet").metadata
    assert b"PANDAS_ATTRS" in meta
    metrics = pd.read_parquet(wd / RUN / "metrics.parquet")
    assert_provenance(metrics.attrs["provenance"], 2019)
    assert (metrics["config_hash"] == prov["config_hash"]).all() and (metrics["seed"] == 2019).all()
    state = torch.load(wd / RUN / "state.pt", weights_only=False)
    assert_provenance(state["provenance"], 2019)
    # --- tables carry config hash and seed per row
    table = pd.read_csv(wd / "results/tables/energy_final.csv")
    assert {"config_hash", "seed"} <= set(table.columns)
    row = table[(table["method"] == "presyn_wd0") & (table["seed"] == 2019)]
    assert row["config_hash"].tolist() == [prov["config_hash"]]
    hash_a = prov["config_hash"]

    # --- change a hyperparameter; retrain one presyn run only
    workdir.overlay("b", {**SMALL, "energy": {**SMALL["energy"], "models": {"presyn": {"lr": 0.04}}}})
    cfg_b = ("config/quick.yaml", "config/b.yaml")
    workdir.snakemake(f"{RUN}/metrics.parquet", configfiles=cfg_b)
    hash_b = json.loads((wd / RUN / "provenance.json").read_text())["config_hash"]
    assert hash_b != hash_a
    # --- the table rule (with Snakemake's params trigger off) refuses to mix, saying what to do
    res = workdir.snakemake(
        "results/tables/energy_final.csv", configfiles=cfg_b, extra=("--rerun-triggers", "mtime"), check=False
    )
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert "MixedConfigError" in out and "['presyn_wd0']" in out, out[-3000:]
    assert f"config {hash_a}: results/runs/energy/presyn_wd0/mnist/seed2020" in out
    assert f"config {hash_b}: {RUN}" in out
    assert "rerun the same command without '--rerun-triggers mtime'" in out
    assert not (wd / "results/tables/energy_final.csv").exists()  # no stale table left to be taken as current
    # --- doing what the message says: Snakemake retrains the stale run, the table builds with one hash
    workdir.snakemake("results/tables/energy_final.csv", configfiles=cfg_b)
    table = pd.read_csv(wd / "results/tables/energy_final.csv")
    assert table.loc[table["method"] == "presyn_wd0", "config_hash"].unique().tolist() == [hash_b]


def test_code_version_dirty_unless_the_change_is_under_an_excluded_path(tmp_path):
    """The reference bundle rewrites its own tracked folder: that must not mark the bundle's code -dirty, while a
    change anywhere else still must."""
    import subprocess

    from presyn.provenance import code_version

    def git(*args):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "bundle").mkdir()
    (tmp_path / "bundle" / "table.csv").write_text("a\n1\n")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
    clean = code_version(root=tmp_path)
    assert len(clean) == 40 and not clean.endswith("-dirty")
    (tmp_path / "bundle" / "table.csv").write_text("a\n2\n")
    assert code_version(root=tmp_path).endswith("-dirty")
    assert code_version(exclude=[tmp_path / "bundle"], root=tmp_path) == clean
    (tmp_path / "code.py").write_text("x = 2\n")
    assert code_version(exclude=[tmp_path / "bundle"], root=tmp_path) == clean + "-dirty"


def test_device_description_names_the_cpu_capability_and_threads():
    from presyn.provenance import device_description

    torch.set_num_threads(1)
    text = device_description("cpu")
    assert text.startswith("cpu (") and text.endswith(f"{torch.backends.cpu.get_cpu_capability()}, 1 threads)")
