#!/usr/bin/env bash
# GPU check (issue 9), for a lent GPU machine with a copy of the working tree; ~2-5 min in total.
#   bash benchmarks/gpu_check.sh            (PYTHON=/path/to/python to choose the interpreter)
# 1. environment: makes `presyn` importable (pip install -e . --no-deps, else PYTHONPATH=src) and
#    names any missing package (the machine has no network: nothing is downloaded);
# 2. batched vs unbatched training on CUDA: same numbers (tolerance) and seconds/epoch/network
#    for 1..54 stacked networks (benchmarks/bench_batched.py, full-size MNIST epoch = 600 steps);
# 3. one quick-config training job per (experiment, model kind) on CUDA, tiny synthetic data:
#    prints seconds per epoch on the GPU and that the three run files were written.
# 2b/3b (issue 20). stacked lifelong training (the lifelong trainer with a group of runs): seconds per epoch per network,
#    unbatched vs stacked, for the lifelong kinds presyn / ablation variants / SGD / Adam / BGD on a Permuted MNIST
#    task (benchmarks/bench_batched_lifelong.py, GPU_CHECK_LIFELONG_ARGS), and stacked vs unbatched max |diff|
#    of quick lifelong runs on the device. NOT MEASURED ON A GPU YET: no H200 numbers exist for these parts;
#    only the GPU_CHECK_DEVICE=cpu dry run has been run.
# The last line is one JSON object with everything measured (keys bench_batched_lifelong and
# stacked_lifelong_vs_unbatched_max_abs_diff for the lifelong parts).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export DEV=${GPU_CHECK_DEVICE:-cuda}   # GPU_CHECK_DEVICE=cpu: dry run of this script on a machine without GPU
T0=$(date +%s)
OUT=${OUT:-$(mktemp -d)}       # summaries (bench_batched.txt, gpu_jobs.json); bulky run files go to WORK
WORK=$(mktemp -d)
echo "== gpu_check: $(date -u +%FT%TZ) in $(pwd), python $($PY -V 2>&1), summaries in $OUT, runs in $WORK"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

# 1. environment ---------------------------------------------------------------------------------
if ! $PY -c "import presyn" 2>/dev/null; then
  $PY -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
    && echo "presyn: pip install -e . --no-deps done" \
    || { export PYTHONPATH="$(pwd)/src${PYTHONPATH:+:$PYTHONPATH}"; echo "presyn: using PYTHONPATH=src"; }
fi
MISSING=$($PY - <<'EOF'
import importlib.util
print(" ".join(m for m in ["torch", "numpy", "pandas"] if importlib.util.find_spec(m) is None))
EOF
)
MISSING_JOBS=$($PY - <<'EOF'
import importlib.util
print(" ".join(m for m in ["pyarrow", "yaml", "scipy"] if importlib.util.find_spec(m) is None))
EOF
)
if [ -n "$MISSING" ]; then
  echo "MISSING Python packages: $MISSING $MISSING_JOBS (pip install them, or pip install -e . where PyPI is reachable, and rerun)"
  echo "{\"gpu_check\": \"missing packages\", \"missing\": \"$MISSING $MISSING_JOBS\"}"
  exit 2
fi
[ -n "$MISSING_JOBS" ] && echo "MISSING for part 3 (training jobs): $MISSING_JOBS; parts 1-2 still run"
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
[ "$DEV" = cpu ] || $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)" || { echo '{"gpu_check": "no CUDA device visible to torch"}'; exit 3; }

# 2. batched vs unbatched on CUDA -----------------------------------------------------------------
BENCH_ARGS=${GPU_CHECK_BENCH_ARGS:---networks 1 6 18 54 --kinds presyn fixedp deterministic --steps 100 --warmup 10}
timeout 150 $PY benchmarks/bench_batched.py --device "$DEV" --threads 1 $BENCH_ARGS | tee "$OUT/bench_batched.txt"
echo "bench_batched exit ${PIPESTATUS[0]}"

# 2b. stacked lifelong vs unbatched, seconds per epoch per network --------------------------------
LIFELONG_ARGS=${GPU_CHECK_LIFELONG_ARGS:---networks 1 6 21 42 --kinds presyn ablation sgd adam bgd --steps 40 --warmup 10}
timeout 150 $PY benchmarks/bench_batched_lifelong.py --device "$DEV" --threads 1 $LIFELONG_ARGS | tee "$OUT/bench_batched_lifelong.txt"
echo "bench_batched_lifelong exit ${PIPESTATUS[0]}"

# 3. equality on CUDA + one quick-config job per (experiment, kind) ------------------------------
[ -n "$MISSING_JOBS" ] || timeout 180 $PY - "$WORK" "$OUT" <<'EOF'
import json, os, sys, time, traceback
from pathlib import Path

import torch
import yaml

from presyn import planning
from presyn.data import make_synthetic, save_processed
from presyn.experiments import run as run_one

out, summary = Path(sys.argv[1]), Path(sys.argv[2])
dev = os.environ.get("DEV", "cuda")
res = {"device": torch.cuda.get_device_name(0) if dev.startswith("cuda") else dev, "torch": torch.__version__}


def merge(a, b):
    for k, v in b.items():
        a[k] = merge(a.get(k, {}), v) if isinstance(v, dict) and isinstance(a.get(k), dict) else v
    return a


cfg = merge(yaml.safe_load(open("config/config.yaml")), yaml.safe_load(open("config/quick.yaml")))
cfg["device"] = dev
data = {}
for seed, name in enumerate(("mnist", "fashion")):
    data[name] = out / "data" / f"{name}.npz"
    save_processed(make_synthetic(2000, 500, seed=seed), data[name], {"synthetic": True})

# batched vs unbatched on the device. (a) one step from the same weights and masks: the gradients
# differ only by float32 rounding of bmm vs mm (different cuBLAS kernels); |g| within that distance
# of g_lim may flip a release-probability decision. (b) 3 quick epochs (2 seeds x 2 weight decays)
# per model kind: deterministic stays at rounding level; the stochastic models diverge once a flip
# happened (chaotic dynamics), so on CUDA they are statistically, not numerically, equal.
try:
    from presyn.factory import build_learner
    from presyn.training import Generators
    torch_dev = torch.device(dev)
    gens = [Generators.from_seed(2019 + i, torch_dev) for i in range(2)]
    ls = [build_learner({"kind": "presyn", "lr": 0.05}, [784, 200, 200, 10], g, torch_dev) for g in gens]
    x = torch.randn(2, 100, 784, device=torch_dev); y = torch.randint(0, 10, (2, 100), device=torch_dev)
    scales = torch.stack([l.sample_weights()[0] for l in ls])
    ref = []
    for i, l in enumerate(ls):
        grad = torch.empty_like(l.net.w)
        l.net.backward(l.net.forward(x[i], l.net.w * scales[i]), y[i], l.net.w * scales[i], grad)
        ref.append(grad * scales[i])
    ref = torch.stack(ref)
    bn = build_learner([{"kind": "presyn", "lr": 0.05}] * 2, [784, 200, 200, 10], [Generators.from_seed(2019 + i, torch_dev) for i in range(2)], torch_dev).net
    g = torch.empty_like(bn.w)
    bn.backward(bn.forward(x, bn.w * scales), y, bn.w * scales, g)
    g = g * scales
    d = (g - ref).abs()
    near = int(((ref.abs() - 1e-3).abs() <= d.max()).sum())
    res["one_step_grad"] = {"max_abs_diff": float(d.max()), "max_rel_diff": float((d / ref.abs().clamp_min(1e-12)).max()),
                            "synapses_within_diff_of_g_lim": near, "flipped_decisions": int(((g.abs() >= 1e-3) != (ref.abs() >= 1e-3)).sum())}
    print(f"one step on {dev}:", res["one_step_grad"], flush=True)
except Exception as exc:
    traceback.print_exc()
    res["one_step_grad_error"] = repr(exc)
res["batched_vs_unbatched_max_abs_diff"] = {}
for model in ("presyn", "deterministic"):
    try:
        specs = [s for s in planning.energy.plan_runs(cfg) if s["model_name"] == model and not s.get("energy_group")][:4]
        inputs = {"data": str(data["mnist"])}
        for s in specs:
            run_one(s, inputs, out / "single" / planning.run_key(s), device=dev)
        run_one(specs, inputs, [out / "batched" / planning.run_key(s) for s in specs], device=dev)
        worst = {}
        for s in specs:
            a, b = torch.load(out / "single" / planning.run_key(s) / "state.pt"), torch.load(out / "batched" / planning.run_key(s) / "state.pt")
            for k in ("w_bar", "p"):
                worst[k] = max(worst.get(k, 0.0), max(float((x - y).abs().max()) for x, y in zip(a[k], b[k])))
        res["batched_vs_unbatched_max_abs_diff"][model] = worst
        print(f"batched vs unbatched on {dev}, {model}, max |diff| after 3 quick epochs:", worst, flush=True)
    except Exception as exc:
        traceback.print_exc()
        res["batched_vs_unbatched_max_abs_diff"][model] = repr(exc)

# 3b. stacked lifelong (presyn.experiments.lifelong with a group of runs) vs one job per run on the device: quick lifelong runs, 2 seeds,
# max |diff| of w, p and the final mean accuracy per group (CPU: 0; CUDA: see presyn.experiments.lifelong)
res["stacked_lifelong_vs_unbatched_max_abs_diff"] = {}
try:
    lruns = planning.all_runs(cfg, ["lifelong", "ablation"])
    groups = {"presyn_perm_mnist": [s for s in lruns.values() if s["method"] == "presyn" and s["benchmark"] == "perm_mnist"],
              "no_consolidation_split_mnist_adam": [s for s in lruns.values() if s["method"] == "no_consolidation"
                                                    and s["benchmark"] == "split_mnist"],
              "bgd_split_mnist": [s for s in lruns.values() if s["method"] == "bgd" and s["benchmark"] == "split_mnist"],
              "ewc_perm_mnist": [s for s in lruns.values() if s["method"] == "ewc" and s["benchmark"] == "perm_mnist"]}
except Exception as exc:
    traceback.print_exc()
    groups = {}
    res["stacked_lifelong_vs_unbatched_max_abs_diff"] = repr(exc)
for name, specs in groups.items():
    try:
        inputs = {"data": str(data["mnist"])}
        for s in specs:
            run_one(s, inputs, out / "lsingle" / planning.run_key(s), device=dev)
        t = time.perf_counter()
        run_one(specs, inputs, [out / "lstacked" / planning.run_key(s) for s in specs], device=dev)
        worst = {"stacked_job_wall_s": round(time.perf_counter() - t, 2)}
        for s in specs:
            a = torch.load(out / "lsingle" / planning.run_key(s) / "state.pt")
            b = torch.load(out / "lstacked" / planning.run_key(s) / "state.pt")
            for k in ("w_bar", "p"):
                worst[k] = max(worst.get(k, 0.0), max(float((x - y).abs().max()) for x, y in zip(a[k], b[k])))
            ma = json.loads((out / "lsingle" / planning.run_key(s) / "provenance.json").read_text())
            mb = json.loads((out / "lstacked" / planning.run_key(s) / "provenance.json").read_text())
            worst["same_spec_and_hash"] = worst.get("same_spec_and_hash", True) and ma["spec"] == mb["spec"]
        res["stacked_lifelong_vs_unbatched_max_abs_diff"][name] = worst
        print(f"stacked lifelong vs unbatched on {dev}, {name}:", worst, flush=True)
    except Exception as exc:
        traceback.print_exc()
        res["stacked_lifelong_vs_unbatched_max_abs_diff"][name] = repr(exc)

# one quick-config job per (experiment, model kind)
jobs = {}
for key, spec in planning.all_runs(cfg).items():
    kind = (spec.get("model") or {}).get("kind") or spec["method"]
    jobs.setdefault((spec["experiment"], kind), (key, spec))
res["jobs"] = []
for (experiment, kind), (key, spec) in sorted(jobs.items()):
    row = {"experiment": experiment, "kind": kind, "run": key}
    t = time.perf_counter()
    try:
        run_one(spec, {"data": str(data[spec["dataset"]["name"]])}, out / "runs" / key, device=dev)
        row["wall_s"] = round(time.perf_counter() - t, 2)
        prov = json.loads((out / "runs" / key / "provenance.json").read_text())
        row["device"] = prov.get("device")
        row["seconds_per_epoch"] = prov.get("seconds_per_epoch")
        row["files"] = sorted(p.name for p in (out / "runs" / key).iterdir())
    except Exception as exc:
        row["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
        row["wall_s"] = round(time.perf_counter() - t, 2)
    print(json.dumps(row), flush=True)
    res["jobs"].append(row)
(summary / "gpu_jobs.json").write_text(json.dumps(res))
EOF
echo "quick jobs exit $?"

$PY - "$OUT" "$T0" <<'EOF'
import json, sys, time
from pathlib import Path
out = Path(sys.argv[1])
res = {"gpu_check": "done", "total_s": round(time.time() - int(sys.argv[2]))}
try:
    res["bench_batched"] = json.loads((out / "bench_batched.txt").read_text().strip().splitlines()[-1])
except Exception as exc:
    res["bench_batched"] = f"not available: {exc}"
try:
    res["bench_batched_lifelong"] = json.loads((out / "bench_batched_lifelong.txt").read_text().strip().splitlines()[-1])
except Exception as exc:
    res["bench_batched_lifelong"] = f"not available: {exc}"
try:
    res.update(json.loads((out / "gpu_jobs.json").read_text()))
except Exception as exc:
    res["jobs"] = f"not available: {exc}"
print(json.dumps(res))
EOF
