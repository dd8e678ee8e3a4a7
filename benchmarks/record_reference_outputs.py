"""Reference outputs of every run kind at toy size (issue 31, point 2): tests/data/reference_outputs.json.

Before the two training engines (per-run trainers, stacked engine) and the copies of the presynaptic rule are
merged, this records what today's code computes, so that every refactoring step can be checked bit for bit
(tests/test_reference_outputs.py recomputes each entry and asserts equality).

Every run kind of the config at toy size on the CPU, one torch thread, fixed seeds, tiny synthetic data
(``presyn.data.make_synthetic``, as tests/conftest.py): the energy models (presyn, deterministic, fixed p, the
fixed-p sweep, uniform initial p, a robustness variant), every lifelong method on every benchmark (presyn,
no consolidation with SGD and Adam, BGD, EWC, joint, the continuous stream, the BGD evidence variants, an EWC
search run), every ablation variant on both benchmarks (the two ghost normalisers among them), one ablation
search trial, the perceptron (standard, presyn), the presynaptic runs once more through the torch kernels
(``fused``: what a GPU runs) instead of the numba loops, and grouped jobs (energy: ``experiments.energy`` with a
group of runs; lifelong / ablation: the same two trainers with a list of specs) at S = 1 and S = 3.

Per run: the final metrics (rows of the last epoch, exact float values), a sha256 of the whole metrics table
(every row and value), and a sha256 of the saved state (state.pt without its provenance: tensors in sorted key
order, dtype, shape and bytes).

    python benchmarks/record_reference_outputs.py            # writes tests/data/reference_outputs.json
    python benchmarks/record_reference_outputs.py --check    # recompute and compare (what the test does)
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "reference_outputs.json"
SEED, SEEDS = 2019, [2019, 2020, 2021]
N_TRAIN, N_TEST = 300, 100


def tiny_config() -> dict:
    """config.yaml at toy size: one weight decay, 2 tasks x 1 epoch, hidden [16, 16], one point of each search."""
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    cfg["seeds"] = list(SEEDS)
    cfg["device"] = "cpu"
    cfg["data"]["subset"] = {"train": N_TRAIN, "test": N_TEST}
    cfg["model"]["hidden"] = [16, 16]
    e = cfg["energy"]
    e.update(epochs=2, eval_every=1, weight_decays=[0.01])
    e["fixedp_sweep"].update(ps=[0.4], lr_scales=[0.1], seeds=[SEED])
    e["robustness"]["variants"] = {"p_low": e["robustness"]["variants"]["p_low"]}
    life = cfg["lifelong"]
    life.update(n_tasks={"split": 2, "perm": 2}, epochs_per_task=1, joint_epochs=1)
    life["ewc_search"].update(
        seeds=[SEED],
        holdout=50,
        confirm_top=1,
        grid={"optimizer_lr": [["adam", 1.0e-3]], "ewc_lambda": [100], "fisher": ["exact"], "reset_optimizer": [False]},
        screen={"epochs_per_task": 1, "n_tasks": {"split": 2, "perm": 2}},
    )
    for variant in life["bgd_evidence"]["variants"].values():
        variant.pop("seeds", None)
    abl = cfg["ablation"]
    abl.update(n_tasks={"split": 2, "perm": 2}, epochs_per_task=1)
    abl["search"].update(n_trials=1, holdout=50)
    per = cfg["perceptron"]
    per.update(seeds=[SEED], repetitions=3, n_inputs=50, n_tasks=3, n_patterns=20, passes=3)
    per["capacity"]["enabled"] = False
    return cfg


def tensor_digest(obj, h=None, path: str = ""):
    """sha256 over a nested structure of tensors / numbers / strings: keys sorted, tensors as dtype, shape, bytes."""
    top = h is None
    h = h or hashlib.sha256()
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"{path}:{t.dtype}:{tuple(t.shape)}:".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(obj, dict):
        for k in sorted(obj, key=str):
            tensor_digest(obj[k], h, f"{path}/{k}")
    elif isinstance(obj, (list, tuple)):
        h.update(f"{path}:list{len(obj)}:".encode())
        for i, v in enumerate(obj):
            tensor_digest(v, h, f"{path}[{i}]")
    else:
        h.update(f"{path}={obj!r};".encode())
    return h.hexdigest() if top else h


def run_outputs(folder: Path) -> dict:
    """Final metrics, the metrics table's sha256 and the state's sha256 of one written run folder."""
    from presyn.safe_io import torch_load

    m = pd.read_parquet(folder / "metrics.parquet").drop(columns=["config_hash"])
    cols = [c for c in ("epoch", "task_trained", "pass") if c in m.columns]
    last = m[(m[cols[0]] == m[cols[0]].max())] if cols else m
    keys = [c for c in ("repetition", "task", "metric") if c in m.columns]
    final = {"/".join(str(r[k]) for k in keys): float(r["value"]) for _, r in last.iterrows()}
    table = hashlib.sha256(pd.util.hash_pandas_object(m, index=False).to_numpy().tobytes()).hexdigest()
    state = torch_load(folder / "state.pt")
    state.pop("provenance", None)
    return {"final": final, "metrics_sha256": table, "state_sha256": tensor_digest(state)}


@contextlib.contextmanager
def torch_kernels():
    """The presynaptic learners with the torch kernels (``fused``; a GPU's path) instead of the numba loops."""
    from presyn import learners

    init = learners.PresynapticLearner.__init__

    def patched(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self._cpu_loops = False

    learners.PresynapticLearner.__init__ = patched
    try:
        yield
    finally:
        learners.PresynapticLearner.__init__ = init


def cases(cfg: dict) -> dict[str, tuple]:
    """name -> (engine, [spec, ...]) for every recorded run kind."""
    from presyn import planning
    from presyn.experiments import energy as energy_trainer
    from presyn.experiments import lifelong as lifelong_trainer

    runs = planning.all_runs(cfg)
    one = {k: s for k, s in runs.items() if s["seed"] == SEED}
    out: dict[str, tuple] = {f"single:{k}": ("single", [s]) for k, s in one.items()}
    for key, spec in [*planning.perceptron_runs(cfg).items()]:
        out[f"perceptron:{key}"] = ("perceptron", [spec])
    for key, spec in one.items():
        if (
            spec["model"].get("kind") in ("presyn", "fixedp")
            and spec["benchmark"] in ("mnist", "perm_mnist", "split_mnist")
            and spec.get("energy_group") is None
            and not spec.get("holdout")
        ):
            out[f"torch-kernels:{key}"] = ("torch", [spec])
    search = planning.search_spec(cfg, cfg["ablation"]["search"]["benchmark"], cfg["ablation"]["search"]["variant"], 0)
    out["search:ablation/trial0"] = ("search", [search])
    # stacked engine: energy (presyn, fixedp, deterministic) and lifelong kinds, S = 1 and S = 3 (three seeds)
    energy = [s for s in runs.values() if s["experiment"] == "energy" and s.get("energy_group") is None]
    for model in ("presyn", "fixedp", "deterministic"):
        group = sorted(
            (s for s in energy if s["model_name"] == model and energy_trainer.groupable(s)), key=lambda s: s["seed"]
        )
        out[f"stacked-energy:{model}:S1"] = ("batched", group[:1])
        out[f"stacked-energy:{model}:S3"] = ("batched", group[:3])
    life = [
        (k, s) for k, s in runs.items() if s["experiment"] in ("lifelong", "ablation") and lifelong_trainer.stackable(s)
    ]
    groups = {
        "presyn-split": ("lifelong", "presyn", "split_mnist"),
        "presyn-cont": ("lifelong", "presyn", "cont_perm_mnist"),
        "nocons-adam-split": ("lifelong", "no_consolidation", "split_mnist"),
        "nocons-sgd-perm": ("lifelong", "no_consolidation", "perm_mnist"),
        "joint-perm": ("lifelong", "joint", "perm_mnist"),
        "bgd-perm": ("lifelong", "bgd", "perm_mnist"),
        "ewc-split": ("lifelong", "ewc", "split_mnist"),
        "ewc-perm": ("lifelong", "ewc", "perm_mnist"),
        "ablation-noFreeze-perm": ("ablation", "ablation-noFreeze", "perm_mnist"),
        "ablation-fixedPfixedNorm-split": ("ablation", "ablation-fixedPfixedNorm", "split_mnist"),
    }
    for name, (exp, method, bench) in groups.items():
        group = sorted(
            (s for _, s in life if s["experiment"] == exp and s["method"] == method and s["benchmark"] == bench),
            key=lambda s: s["seed"],
        )
        assert len(group) == 3, (name, len(group))
        out[f"stacked-lifelong:{name}:S1"] = ("batched_lifelong", group[:1])
        out[f"stacked-lifelong:{name}:S3"] = ("batched_lifelong", group)
    # one job mixing rules: the ablation variants (as recorded: the authors' ghost, fixedP, has stacked only since
    # 2026-12-07) + lifelong presyn on perm_mnist, seed 2019
    mixed = sorted(
        (
            s
            for _, s in life
            if s["benchmark"] == "perm_mnist"
            and s["seed"] == SEED
            and (s["experiment"] == "ablation" or s["method"] == "presyn")
            and s["method"] != "ablation-fixedP"
        ),
        key=planning.run_key,
    )
    out["stacked-lifelong:ablation+presyn-perm:mixed"] = ("batched_lifelong", mixed)
    return out


def data_files(folder: Path) -> dict[str, Path]:
    from presyn.data import make_synthetic, save_processed

    files = {}
    for seed, name in enumerate(("mnist", "fashion")):
        files[name] = folder / f"{name}.npz"
        save_processed(make_synthetic(N_TRAIN, N_TEST, seed=seed), files[name], {"synthetic": True})
    return files


def compute(name: str, engine: str, specs: list[dict], data: dict[str, Path], work: Path) -> dict:
    """Train one case in ``work`` and return its outputs (per run key for stacked jobs)."""
    from presyn import perceptron, planning
    from presyn.experiments import ablation
    from presyn.experiments import run as run_one

    inputs = {"data": str(data[specs[0]["dataset"]["name"]])} if engine != "perceptron" else {}
    dirs = [work / planning.run_key(s) for s in specs]
    if engine == "single":
        run_one(copy.deepcopy(specs[0]), inputs, dirs[0], device="cpu")
    elif engine == "torch":
        with torch_kernels():
            run_one(copy.deepcopy(specs[0]), inputs, dirs[0], device="cpu")
    elif engine == "perceptron":
        perceptron.train(copy.deepcopy(specs[0]), {}, dirs[0], "cpu")
    elif engine == "search":
        res = ablation.search_trial(copy.deepcopy(specs[0]), inputs["data"], "cpu")
        return {"score": res["score"], "task_accuracies": res["task_accuracies"], "early_stopped": res["early_stopped"]}
    elif engine in ("batched", "batched_lifelong"):  # a group of runs: one job of the energy / lifelong trainer
        run_one(copy.deepcopy(specs), inputs, dirs, device="cpu")
    else:
        raise ValueError(engine)
    if len(specs) == 1:
        return run_outputs(dirs[0])
    return {planning.run_key(s): run_outputs(d) for s, d in zip(specs, dirs)}


def compute_all(only: list[str] | None = None, verbose: bool = True) -> dict[str, dict]:
    torch.set_num_threads(1)
    cfg = tiny_config()
    all_cases = cases(cfg)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = data_files(Path(tmp) / "data")
        for name, (engine, specs) in all_cases.items():
            if only is not None and name not in only:
                continue
            t0 = time.perf_counter()
            results[name] = compute(
                name, engine, specs, data, Path(tmp) / "runs" / name.replace(":", "_").replace("/", "_")
            )
            if verbose:
                print(f"{name}: {time.perf_counter() - t0:.2f}s", file=sys.stderr)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="recompute and compare with the recorded file")
    ap.add_argument("--json", type=Path, help="write the recomputed cases (and torch's CPU capability) here instead")
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = compute_all(verbose=args.json is None)
    if args.json is not None:
        capability = torch.backends.cpu.get_cpu_capability()
        args.json.write_text(json.dumps({"cpu_capability": capability, "cases": results}, sort_keys=True))
        return
    if args.check:
        ref = json.loads(OUT.read_text())["cases"]
        bad = [k for k in set(ref) | set(results) if ref.get(k) != results.get(k)]
        print(f"{len(results)} cases, {len(bad)} differ: {sorted(bad)}")
        sys.exit(1 if bad else 0)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    # files under src/ that differ from that commit (other people's uncommitted edits of the same tree)
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(
        json.dumps(
            {
                "commit": commit,
                "src_modified": sorted(line[3:] for line in dirty.splitlines()),
                "torch": torch.__version__,
                # the kernels ATen dispatched (set ATEN_CPU_CAPABILITY to this when recomputing elsewhere)
                "cpu_capability": torch.backends.cpu.get_cpu_capability(),
                "seconds": round(time.perf_counter() - t0, 1),
                "cases": results,
            },
            indent=1,
            sort_keys=True,
        )
        + "\n"
    )
    print(f"{len(results)} cases -> {OUT} ({time.perf_counter() - t0:.0f}s)")


if __name__ == "__main__":
    main()
