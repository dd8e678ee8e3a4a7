"""A group of energy runs trained in one job (one learner over S stacked networks, presyn.experiments.energy)
gives the same runs as one job per run (a group of one), on CPU.

Same seeds -> same Generators -> same initial weights, data order and masks; bmm over S networks may in
principle round differently from bmm over one (float32), so numbers must agree to rtol 1e-4 / atol 1e-5
after a few epochs (observed on this CPU at one thread: bit-identical, train_loss included, since the loss is
averaged per network as a run alone averages it; a release probability flipping its |g| >= g_lim decision
would show up as a jump of >= 0.05 in p and fail the test).
"""

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from presyn import planning
from presyn.experiments import energy
from presyn.experiments import run as run_one

ROOT = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-4, 1e-5


def tiny_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["seeds"] = [2019, 2020]
    cfg["data"]["subset"] = {"train": 600, "test": 200}
    e = cfg["energy"]
    e.update(epochs=2, eval_every=1, weight_decays=[0.0, 0.01])
    for extra in ("fixedp_sweep", "uniform_init", "robustness"):
        if extra in e:
            e[extra]["enabled"] = False
    return cfg


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    from presyn.data import make_synthetic, save_processed

    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    save_processed(make_synthetic(600, 200, seed=0), path, {"synthetic": True})
    return path


def specs_of(model: str) -> list[dict]:
    return [s for s in planning.energy.plan_runs(tiny_config()) if s["model_name"] == model]


def compare_runs(a: Path, b: Path) -> float:
    ma, mb = pd.read_parquet(a / "metrics.parquet"), pd.read_parquet(b / "metrics.parquet")
    assert list(ma.columns) == list(mb.columns)
    keys = ["epoch", "task", "metric"]
    assert ma[keys].equals(mb[keys])
    assert (ma.drop(columns="value") == mb.drop(columns="value")).all().all()
    torch.testing.assert_close(
        torch.tensor(mb["value"].to_numpy()), torch.tensor(ma["value"].to_numpy()), rtol=RTOL, atol=ATOL
    )
    sa, sb = torch.load(a / "state.pt"), torch.load(b / "state.pt")
    assert set(sa) == set(sb)
    worst = 0.0
    for key in ("w_bar", "p", "biases", "initial_p"):
        for ta, tb in zip(sa[key], sb[key]):
            assert ta.shape == tb.shape and ta.dtype == tb.dtype
            torch.testing.assert_close(tb, ta, rtol=RTOL, atol=ATOL)
            worst = max(worst, float((ta - tb).abs().max()))
    pa, pb = json.loads((a / "provenance.json").read_text()), json.loads((b / "provenance.json").read_text())
    assert pa["spec"] == pb["spec"] and pa["config_hash"] == pb["config_hash"]
    assert set(pa) <= set(pb)
    return worst


@pytest.mark.parametrize("model", ["presyn", "fixedp", "deterministic"])
def test_grouped_equals_single(model, data_file, tmp_path):
    specs = specs_of(model)
    assert len(specs) == 4  # 2 weight decays x 2 seeds: grouped over seeds AND weight decays
    inputs = {"data": str(data_file)}
    for s in specs:
        run_one(s, inputs, tmp_path / "single" / planning.run_key(s), device="cpu")
    # all four networks in one job (per-network weight decay), and seeds-only groups (shared rule)
    run_one(specs, inputs, [tmp_path / "all" / planning.run_key(s) for s in specs], device="cpu")
    for wd in (0.0, 0.01):
        group = [s for s in specs if s["weight_decay"] == wd]
        run_one(group, inputs, [tmp_path / "seeds" / planning.run_key(s) for s in group], device="cpu")
    for s in specs:
        for mode in ("all", "seeds"):
            compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / mode / planning.run_key(s))


def test_rejects_mixed_groups():
    specs = specs_of("presyn") + specs_of("fixedp")
    with pytest.raises(ValueError, match="cannot group"):
        energy.check_group(specs)
    adam = copy.deepcopy(specs_of("deterministic"))
    for s in adam:
        s["model"]["optimizer"] = "adam"
    with pytest.raises(ValueError, match="cannot group"):
        energy.check_group(adam)


@pytest.mark.parametrize("over, jobs", [("seeds", 9), ("seeds_and_weight_decays", 3)])
def test_switch_gives_one_producer_per_run(workdir, over, jobs):
    """With batched_training on, train_batched alone produces the Fig-1 energy runs (dry run)."""
    overlay = workdir.overlay("batched", {"batched_training": {"enabled": True, "over": over}})
    res = workdir.snakemake("figures/fig1.pdf", "--dry-run", configfiles=("config/quick.yaml", str(overlay)))
    counts = dict(
        line.split()[:2]
        for line in res.stdout.splitlines()
        if line.split()[:1] and line.split()[0] in {"train", "train_batched"} and len(line.split()) == 2
    )
    assert counts.get("train_batched") == str(jobs), res.stdout[-3000:]
    assert "train" not in counts, res.stdout[-3000:]  # quick Fig 1: 3 models x 3 weight decays x 2 seeds, all batched


@pytest.mark.e2e
def test_batched_rule_builds_fig1(workdir):
    """The train_batched jobs write every per-run file where the train rule would, and Fig 1 follows."""
    overlay = workdir.overlay("batched", {"batched_training": {"enabled": True, "over": "seeds_and_weight_decays"}})
    workdir.snakemake("figures/fig1.pdf", configfiles=("config/quick.yaml", str(overlay)))
    wd = workdir.path
    table = pd.read_csv(wd / "results/tables/energy_final.csv")
    assert len(table) == 18  # 3 models x 3 weight decays x 2 seeds, from 3 batched jobs
    runs = sorted((wd / "results/runs/energy").glob("*/mnist/seed*/provenance.json"))
    assert len(runs) == 18
    for prov_path in runs:
        prov = json.loads(prov_path.read_text())
        method, seed = prov_path.parts[-4], prov_path.parts[-2]
        assert prov["spec"]["method"] == method and f"seed{prov['spec']['seed']}" == seed  # each run in its own folder
        assert prov["batched_networks"] == 6
        assert (prov_path.parent / "state.pt").exists() and (prov_path.parent / "metrics.parquet").exists()
    assert len(list((wd / "results/benchmarks/train_batched/energy").glob("*/mnist.tsv"))) == 3
