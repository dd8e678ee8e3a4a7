"""The lifelong trainer with a group of runs (stacked networks) gives the same runs as one job per run, on CPU.

Same seeds -> same Generators, task streams (permutations), initial weights, data order and masks; only
bmm vs mm and the loss reduction may round differently (float32), so numbers must agree to rtol 1e-4 /
atol 1e-5 (the tolerance of tests/test_batched.py; observed here: weights, p, biases and accuracies
bit-identical, train_loss within float32 rounding). A resumed stacked job (per-run checkpoints after every
task, also when the job died between two runs' checkpoints) equals an uninterrupted one, bit for bit.
Toy sizes: 600 / 200 synthetic items, hidden [32, 32], 2 tasks x 2 epochs.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from presyn import checkpoint, planning
from presyn.experiments import lifelong as trainer
from presyn.experiments import run as run_one

ROOT = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-4, 1e-5


def tiny_config() -> dict:
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["seeds"] = [2019, 2020]
    cfg["data"]["subset"] = {"train": 600, "test": 200}
    cfg["model"]["hidden"] = [32, 32]
    cfg["lifelong"].update(
        n_tasks={"split": 2, "perm": 2}, epochs_per_task=2, joint_epochs=2, bgd_evidence=None, ewc_search=None
    )
    cfg["ablation"].update(n_tasks={"split": 2, "perm": 2}, epochs_per_task=2)
    return cfg


@pytest.fixture(scope="module")
def runs() -> dict:
    return planning.all_runs(tiny_config(), ["lifelong", "ablation"])


@pytest.fixture(scope="module")
def data_file(tmp_path_factory) -> Path:
    from presyn.data import make_synthetic, save_processed

    path = tmp_path_factory.mktemp("data") / "mnist.npz"
    save_processed(make_synthetic(600, 200, seed=0), path, {"synthetic": True})
    return path


def select(runs: dict, experiment: str, methods: list[str] | None, benchmark: str) -> list[dict]:
    return [
        copy.deepcopy(s)
        for s in runs.values()
        if s["experiment"] == experiment and s["benchmark"] == benchmark and (methods is None or s["method"] in methods)
    ]


def compare_runs(a: Path, b: Path, exact: bool = False) -> float:
    """Same metrics rows, values within tolerance (or equal), same state tensors, same spec and hash."""
    ma, mb = pd.read_parquet(a / "metrics.parquet"), pd.read_parquet(b / "metrics.parquet")
    assert list(ma.columns) == list(mb.columns)
    assert (ma.drop(columns="value") == mb.drop(columns="value")).all().all()
    va, vb = torch.tensor(ma["value"].to_numpy()), torch.tensor(mb["value"].to_numpy())
    if exact:
        assert torch.equal(va, vb)
    else:
        torch.testing.assert_close(vb, va, rtol=RTOL, atol=ATOL)
    sa, sb = torch.load(a / "state.pt"), torch.load(b / "state.pt")
    assert set(sa) == set(sb)
    worst = 0.0
    for key in ("w_bar", "p", "biases", "permutations"):
        la, lb = sa.get(key), sb.get(key)
        if la is None:
            assert lb is None
            continue
        if isinstance(la, torch.Tensor):
            la, lb = [la], [lb]
        assert len(la) == len(lb)
        for ta, tb in zip(la, lb):
            assert ta.shape == tb.shape and ta.dtype == tb.dtype
            if exact:
                assert torch.equal(ta, tb), key
            else:
                torch.testing.assert_close(tb, ta, rtol=RTOL, atol=ATOL)
            worst = max(worst, float((ta.double() - tb.double()).abs().max()))
    pa, pb = json.loads((a / "provenance.json").read_text()), json.loads((b / "provenance.json").read_text())
    assert pa["spec"] == pb["spec"] and pa["config_hash"] == pb["config_hash"]  # stacking is not part of the run
    return worst


def unbatched(specs: list[dict], data_file: Path, root: Path) -> None:
    for s in specs:
        run_one(s, {"data": str(data_file)}, root / planning.run_key(s), device="cpu")


def stacked(specs: list[dict], data_file: Path, root: Path) -> dict:
    return run_one(specs, {"data": str(data_file)}, [root / planning.run_key(s) for s in specs], device="cpu")


CASES = {
    "presyn-split-curve": ("lifelong", ["presyn"], "split_mnist"),  # eval_every 1 on task 1 (Fig 4b curve runs)
    "presyn-cont-perm": ("lifelong", ["presyn"], "cont_perm_mnist"),
    "nocons-split-adam": ("lifelong", ["no_consolidation"], "split_mnist"),
    "nocons-perm-sgd": ("lifelong", ["no_consolidation"], "perm_mnist"),
    "joint-adam": ("lifelong", ["joint"], "perm_mnist"),
    "bgd-split": ("lifelong", ["bgd"], "split_mnist"),  # K = 10 samples per network: S * K networks per bmm
    "bgd-perm": ("lifelong", ["bgd"], "perm_mnist"),
    "ewc-split": ("lifelong", ["ewc"], "split_mnist"),  # Fisher + anchor per network at every task end
    "ewc-perm": ("lifelong", ["ewc"], "perm_mnist"),
}


def stackable_ablation(runs: dict, benchmark: str = "perm_mnist") -> list[dict]:
    return select(runs, "ablation", None, benchmark)


def test_both_ghost_normalisers_stack(runs, data_file, tmp_path):
    """The ghost control's two normalisers (the authors' mask / learned p~, fixedP; mask / sample_p,
    fixedPfixedNorm) stack alone and beside each other: one sampling call per network."""
    ghosts = select(runs, "ablation", ["ablation-fixedP", "ablation-fixedPfixedNorm"], "perm_mnist")
    assert len(ghosts) == 4 and all(trainer.stackable(s) for s in ghosts)
    trainer.check_group(ghosts)
    unbatched(ghosts, data_file, tmp_path / "single")
    stacked(ghosts, data_file, tmp_path / "stacked")
    for s in ghosts:
        compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / "stacked" / planning.run_key(s))


@pytest.mark.parametrize("case", sorted(CASES))
def test_stacked_equals_unbatched(case, runs, data_file, tmp_path):
    specs = select(runs, *CASES[case])
    assert len(specs) == 2  # two seeds
    unbatched(specs, data_file, tmp_path / "single")
    timing = stacked(specs, data_file, tmp_path / "stacked")
    assert timing["batched_networks"] == 2
    for s in specs:
        compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / "stacked" / planning.run_key(s))
        prov = json.loads((tmp_path / "stacked" / planning.run_key(s) / "provenance.json").read_text())
        assert prov["batched_networks"] == 2
        assert not (tmp_path / "stacked" / planning.run_key(s) / checkpoint.FILENAME).exists()


def test_ablation_variants_and_lifelong_presyn_in_one_job(runs, data_file, tmp_path):
    """Differing flags (modulation, freezing, ghost p and its normaliser, no normalisation), tuned constants,
    experiments and evaluation schedules in one job: the 7 ablation variants + lifelong presyn on Permuted MNIST,
    2 seeds each."""
    specs = stackable_ablation(runs) + select(runs, "lifelong", ["presyn"], "perm_mnist")
    assert len(specs) == 16
    trainer.check_group(specs)
    unbatched(specs, data_file, tmp_path / "single")
    stacked(specs, data_file, tmp_path / "stacked")
    for s in specs:
        compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / "stacked" / planning.run_key(s))


@pytest.mark.parametrize("group", ["presyn-split", "ablation+presyn-perm", "bgd-perm"])
def test_torch_kernel_path(group, runs, data_file, tmp_path, monkeypatch):
    """The kernels a GPU uses (fused.sample_scale / presyn_rule.update, one call per group of equal rules, one sampling
    call for the stack; BGD's torch update on the stacked means), run here on the CPU by switching the numba
    loops off in every learner (BGD: the torch update of its means and deviations, alone and stacked)."""
    from presyn.baselines import BGDLearner

    real_stack = BGDLearner.stack.__func__

    def torch_bgd(cls, learners):
        out = real_stack(cls, learners)
        out._cpu_loops = False
        return out

    monkeypatch.setattr(BGDLearner, "stack", classmethod(torch_bgd))
    from presyn.experiments import lifelong

    def torch_kernels(build):
        def wrapped(*args, **kwargs):
            learner = build(*args, **kwargs)
            if hasattr(learner, "_cpu_loops"):
                learner._cpu_loops = False
            return learner

        return wrapped

    monkeypatch.setattr(lifelong, "build_learner", torch_kernels(lifelong.build_learner))  # setup_run builds here
    if group == "presyn-split":
        specs = select(runs, "lifelong", ["presyn"], "split_mnist")
    elif group == "bgd-perm":
        specs = select(runs, "lifelong", ["bgd"], "perm_mnist")
        specs[1]["model"]["eta"] = 0.5  # another eta per network: the per-network update
    else:
        specs = stackable_ablation(runs) + select(runs, "lifelong", ["presyn"], "perm_mnist")
    unbatched(specs, data_file, tmp_path / "single")
    stacked(specs, data_file, tmp_path / "stacked")
    for s in specs:
        compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / "stacked" / planning.run_key(s))


@pytest.mark.parametrize(
    "method, change",
    [
        ("no_consolidation", {"lr": [1e-3, 3e-4]}),  # Adam with another learning rate per network (per-row Adam)
        ("ewc", {"ewc_lambda": [10.0, 1000.0], "fisher": ["empirical", "exact"]}),  # per-network penalty and Fisher
        ("ewc", {"reset_optimizer": [True, True]}),  # a fresh Adam for every task (the EWC search's reset)
    ],
)
def test_per_network_constants(method, change, runs, data_file, tmp_path):
    specs = select(runs, "lifelong", [method], "split_mnist")
    for key, values in change.items():
        for s, v in zip(specs, values):
            s["model"][key] = v
    trainer.check_group(specs)
    unbatched(specs, data_file, tmp_path / "single")
    stacked(specs, data_file, tmp_path / "stacked")
    for s in specs:
        compare_runs(tmp_path / "single" / planning.run_key(s), tmp_path / "stacked" / planning.run_key(s))


@pytest.mark.parametrize(
    "method, benchmark",
    [("presyn", "perm_mnist"), ("no_consolidation", "split_mnist"), ("bgd", "split_mnist"), ("ewc", "perm_mnist")],
)
@pytest.mark.parametrize("killed_after", [1, 2])  # 1: only the first run's checkpoint written (mixed positions)
def test_resumed_job_equals_uninterrupted(method, benchmark, killed_after, runs, data_file, tmp_path, monkeypatch):
    specs = select(runs, "lifelong", [method], benchmark)
    stacked(specs, data_file, tmp_path / "whole")
    real_save, saved = checkpoint.save, []

    def dying_save(*args, **kwargs):
        saved.append(real_save(*args, **kwargs))
        if len(saved) == killed_after:
            raise KeyboardInterrupt("killed")
        return saved[-1]

    monkeypatch.setattr(trainer.checkpoint, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        stacked(specs, data_file, tmp_path / "resumed")
    monkeypatch.setattr(trainer.checkpoint, "save", real_save)
    dirs = [tmp_path / "resumed" / planning.run_key(s) for s in specs]
    assert [(d / checkpoint.FILENAME).exists() for d in dirs] == [True, killed_after == 2]
    stacked(specs, data_file, tmp_path / "resumed")
    for s, d in zip(specs, dirs):
        compare_runs(tmp_path / "whole" / planning.run_key(s), d, exact=True)
        prov = json.loads((d / "provenance.json").read_text())
        assert ("resumed_from_checkpoint" in prov) == (d == dirs[0] or killed_after == 2)


def test_stacked_checkpoint_resumes_unbatched(runs, data_file, tmp_path, monkeypatch):
    """A checkpoint written by a stacked job is an ordinary per-run checkpoint: the one-job-per-run trainer
    resumes it and ends where the uninterrupted unbatched run ends."""
    specs = select(runs, "lifelong", ["no_consolidation"], "split_mnist")
    unbatched(specs[:1], data_file, tmp_path / "single")

    real_save = checkpoint.save

    def dying_save(*args, **kwargs):
        real_save(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(trainer.checkpoint, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        stacked(specs, data_file, tmp_path / "resumed")
    monkeypatch.undo()
    d = tmp_path / "resumed" / planning.run_key(specs[0])
    assert (d / checkpoint.FILENAME).exists()
    run_one(specs[0], {"data": str(data_file)}, d, device="cpu")
    compare_runs(tmp_path / "single" / planning.run_key(specs[0]), d)


def test_refuses_what_cannot_join(runs):
    def one(method, benchmark="perm_mnist", experiment="lifelong"):
        return select(runs, experiment, [method], benchmark)

    with pytest.raises(ValueError, match=r"model\.kind"):
        trainer.check_group(one("presyn") + one("ewc"))
    with pytest.raises(ValueError, match="cannot be stacked: model kind 'perceptron'"):
        bad = one("presyn")
        bad[0]["model"]["kind"] = "perceptron"
        trainer.check_group(bad)
    trainer.check_group(one("bgd"))
    fewer = one("bgd")
    fewer[1]["model"]["mc_samples"] = 5
    with pytest.raises(ValueError, match=r"model\.mc_samples"):
        trainer.check_group(fewer)
    with pytest.raises(ValueError, match=r"differ in \['benchmark', 'dataset'|differ in .*benchmark"):
        trainer.check_group(one("presyn") + one("presyn", "split_mnist"))
    with pytest.raises(ValueError, match=r"model\.kind"):
        trainer.check_group(one("presyn") + one("no_consolidation"))
    with pytest.raises(ValueError, match=r"model\.optimizer"):  # adam vs sgd
        mixed = one("no_consolidation", "split_mnist")
        mixed[1]["model"]["optimizer"] = "sgd"
        trainer.check_group(mixed)
    with pytest.raises(ValueError, match="joint"):
        trainer.check_group(one("no_consolidation", "perm_mnist") + one("joint"))
    longer = copy.deepcopy(one("presyn"))
    longer[1]["epochs_per_task"] = 3
    with pytest.raises(ValueError, match="epochs_per_task"):
        trainer.check_group(longer)
    from presyn.planning import search_spec

    with pytest.raises(ValueError, match="search trial"):
        trainer.check_group([search_spec(tiny_config(), "perm_mnist", "full", 0)])
    with pytest.raises(ValueError, match="experiment 'energy'"):
        trainer.check_group([s for s in planning.energy.plan_runs(tiny_config())][:1])
    assert trainer.stackable(one("ewc")[0]) and trainer.stackable(one("presyn")[0])
    resetting = one("ewc")
    resetting[1]["model"]["reset_optimizer"] = True
    with pytest.raises(ValueError, match=r"model\.reset_optimizer"):
        trainer.check_group(resetting)


def _dry_run_jobs(res) -> list[tuple[str, list[str]]]:
    """(rule, metrics outputs) of every network-training job (rules train*) a dry run plans."""
    import re

    jobs = re.findall(r"^(?:local)?rule (\S+):\n((?:    .*\n)*)", res.stdout, re.M)
    out = []
    for rule, body in jobs:
        m = re.search(r"^    output: (.*)$", body, re.M)
        outs = [o for o in (m.group(1).split(", ") if m else []) if o.endswith("metrics.parquet")]
        if outs and rule.startswith("train"):
            out.append((rule, outs))
    return out


def test_switch_makes_stacked_rules_the_only_producers(workdir):
    """batched_training.lifelong on: rule train_stacked_lifelong produces every lifelong / ablation run, one job
    per method x benchmark holding its seeds, `train` the rest (energy, perceptron); off (the default): no such
    rule."""
    off = _dry_run_jobs(workdir.snakemake("figures/all", "--dry-run", "--forceall"))
    assert off and all(rule == "train" for rule, _ in off)
    overlay = workdir.overlay("stacked", {"batched_training": {"lifelong": True}})
    on = _dry_run_jobs(
        workdir.snakemake("figures/all", "--dry-run", "--forceall", configfiles=("config/quick.yaml", str(overlay)))
    )
    produced = {o: rule for rule, outs in on for o in outs}
    assert sorted(produced) == sorted(o for _, outs in off for o in outs)  # the same runs, each produced once
    assert sum(len(outs) for _, outs in on) == len(produced)
    stacked = [outs for rule, outs in on if rule == "train_stacked_lifelong"]
    assert stacked and all(len(outs) == 2 for outs in stacked)  # the quick config's two seeds
    for outs in stacked:
        assert len({o.rsplit("/", 2)[0] for o in outs}) == 1  # one method x benchmark per job
    for o, rule in produced.items():
        experiment, method = o.split("/")[2:4]
        if experiment in ("lifelong", "ablation"):
            assert rule == "train_stacked_lifelong", o
        else:
            assert rule == "train", o
    few = workdir.overlay("few", {"batched_training": {"lifelong": True, "networks_per_job": 1}})
    one = _dry_run_jobs(
        workdir.snakemake("figures/all", "--dry-run", "--forceall", configfiles=("config/quick.yaml", str(few)))
    )
    assert all(rule == "train" for rule, _ in one)  # groups larger than networks_per_job stay with `train`


@pytest.mark.e2e
def test_stacked_rule_writes_each_run(workdir):
    """One stacked job through Snakemake (quick config, joint training on Permuted MNIST, 2 seeds): every run's
    three files where the train rule would write them, each with its own spec."""
    overlay = workdir.overlay("stacked", {"batched_training": {"lifelong": True}})
    target = "results/runs/lifelong/joint/perm_mnist/seed2019/metrics.parquet"
    workdir.snakemake(target, configfiles=("config/quick.yaml", str(overlay)))
    for seed in (2019, 2020):
        d = workdir.path / f"results/runs/lifelong/joint/perm_mnist/seed{seed}"
        prov = json.loads((d / "provenance.json").read_text())
        assert prov["spec"]["seed"] == seed and prov["spec"]["method"] == "joint" and prov["batched_networks"] == 2
        assert (d / "state.pt").exists() and (d / "metrics.parquet").exists()
    assert len(list((workdir.path / "logs/train_stacked_lifelong").rglob("*.log"))) == 1
