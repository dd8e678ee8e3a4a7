"""App. fig 1c with the authors' own code: their fixed-p MLP, trained and measured by their functions.

Issue 29 (A), "peak below p = 1". This script fetches nothing and copies nothing of theirs: it imports
``run_mlp_continual.run_mlp_continual`` and ``lib/*`` from a local checkout of the authors' repository
(``--authors-repo``, e.g. ``git clone <mirror of smonsays/presynaptic-stochasticity> /tmp/authors``) and runs
them unchanged. The driver around them only

- replaces two imports their code needs and this environment lacks: ``torchvision`` (their ``lib/data.py``
  imports it at module level; only its dataset constructors use it) and ``torch.utils.tensorboard`` (their
  ``lib/config.py``; the driver gives ``config.writer`` a no-op writer instead of calling ``setup_logging``,
  which would also create ``log/`` folders);
- hands their ``data.get_mnist_dataset`` our processed MNIST (``--data``, ``data/processed/mnist.npz``), as
  their transform makes it: pixel / 255, normalised with (0.1307, 0.3081), shape 1 x 28 x 28;
- sets ``num_workers: 0`` in the loader kwargs (their loader's own keyword; the shuffle order is drawn in the
  main process either way, so only speed changes);
- with ``--eval-every K`` (K > 1) calls their per-epoch evaluation functions (``test.accuracy``,
  ``metric.mutual_information``, ``test.activation``) only after every K-th and the last epoch and returns NaN
  for the others. Training is untouched (their evaluation changes no weight), but the masks their evaluation
  would have drawn are not drawn, so the random stream after the first skipped epoch differs from a plain run
  of their script (the same distribution). K = 1 (default) is their loop exactly. Reason: on a shared 2-core CPU
  one epoch of their loop is ~45 s, three quarters of it the ~2,100 sampled forward passes of the evaluation;
- builds the run's config as ``exp_energy.sh`` does for the fixed-p control ("mlp-prob"):
  ``etc/mlp_mnist_energy.json`` updated with ``--prob_release p --learning_rate lr --weight_decay wd --seed s``.

What their code does, as read from it (and therefore what this measures):
- ``nets.MultilayerPerceptron(dims, relu, fixed_bias=True, prob_release=p)``: ``nn.Linear(.., bias=True)`` (the
  json's ``fixed_bias: true`` is passed as ``bias=``), so every layer has a bias; ``ddc._register_dropconnect_pre_hook``
  replaces each weight by ``Bernoulli(p) mask * w_raw / p``, one mask per forward call (shared by the batch);
- ``torch.optim.SGD(mlp.parameters(), lr, weight_decay)``: weights *and biases* trained, both decayed;
- per epoch: ``test.accuracy`` (softmax averaged over 10 sampled networks per test batch),
  ``metric.mutual_information`` (soft MI from the softmax of ONE sampled network per test batch of 100),
  ``test.activation`` and ``energy_weight = mlp.energy`` = sum |l.weight| over layers, where ``l.weight`` is the
  last *sampled* effective weight (mask * w_raw / p) each layer saw (expectation: sum |w_raw|).

Rows (one per p): their last-epoch MI, energy, MI / energy and 10-sample accuracy; the maximum of MI / energy
over epochs (App. fig 1c says "maximum"); beside them, measured after training on the same network without
touching their results, the expected energy sum |w_raw| (our pipeline's synaptic energy), sum |bias| and the
MI of the 10-sample averaged softmax over the whole test set (our pipeline's MI). Resumes: a p already in
``--out`` with the same lr / weight decay / seed / epochs / eval_every is skipped.

    .venv/bin/python benchmarks/authors_fixedp_check.py --authors-repo /tmp/authors \
        --data data/processed/mnist.npz --ps 0.6 0.8 0.9 1.0
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

FIELDS = [
    "p",
    "lr",
    "weight_decay",
    "seed",
    "epochs",
    "mutual_information",
    "energy",
    "mi_per_energy",
    "test_accuracy",
    "max_mi_per_energy_over_epochs",
    "epoch_of_max",
    "expected_energy_sum_abs_w",
    "mi_per_expected_energy",
    "sum_abs_bias",
    "mi_10sample_avg",
    "train_accuracy",
    "eval_every",
    "wall_s",
    "authors_commit",
    "torch",
]


class _NullWriter:
    """Stands in for tensorboard's SummaryWriter (their per-epoch scalars are not needed here)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _stub_missing_imports() -> None:
    try:
        import torchvision  # noqa: F401
    except ImportError:
        tv = types.ModuleType("torchvision")
        tv.datasets = types.ModuleType("torchvision.datasets")
        tv.transforms = types.ModuleType("torchvision.transforms")
        sys.modules.update(
            {"torchvision": tv, "torchvision.datasets": tv.datasets, "torchvision.transforms": tv.transforms}
        )
    try:
        import torch.utils.tensorboard  # noqa: F401
    except ImportError:
        tb = types.ModuleType("torch.utils.tensorboard")
        tb.SummaryWriter = lambda *a, **k: _NullWriter()
        sys.modules["torch.utils.tensorboard"] = tb


def _mnist_dataset(npz: Path):
    with np.load(npz) as z:
        arrays = {k: z[k] for k in ("x_train", "y_train", "x_test", "y_test")}

    def get_mnist_dataset(is_train: bool):
        x = arrays["x_train" if is_train else "x_test"]
        y = arrays["y_train" if is_train else "y_test"]
        # torchvision's ToTensor (/255, float32) then Normalize((0.1307,), (0.3081,)), shape N x 1 x 28 x 28
        xt = (torch.from_numpy(x).float().div_(255.0).sub_(0.1307).div_(0.3081)).view(-1, 1, 28, 28)
        return torch.utils.data.TensorDataset(xt, torch.from_numpy(y).long())

    return get_mnist_dataset


def _done(out: Path) -> set[tuple]:
    if not out.exists():
        return set()
    with out.open() as f:
        return {
            (
                float(r["p"]),
                float(r["lr"]),
                float(r["weight_decay"]),
                int(r["seed"]),
                int(r["epochs"]),
                int(r["eval_every"]),
            )
            for r in csv.DictReader(f)
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--authors-repo", type=Path, required=True, help="local checkout of the authors' repository")
    ap.add_argument("--data", type=Path, default=Path("data/processed/mnist.npz"))
    ap.add_argument("--ps", type=float, nargs="+", default=[0.6, 0.8, 0.9, 1.0])
    ap.add_argument("--lr", type=float, default=0.05, help="exp_energy.sh's --learning_rate of the fixed-p runs")
    ap.add_argument("--weight-decay", type=float, default=0.01, help="App. fig 1c: 0.01")
    ap.add_argument("--seed", type=int, default=2019)
    ap.add_argument("--epochs", type=int, default=None, help="default: the json's (50)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument(
        "--eval-every", type=int, default=1, help="evaluate after every K-th and the last epoch (1 = their loop)"
    )
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/authors_fixedp_check.csv"))
    ap.add_argument("--epochs-out", type=Path, default=Path("benchmarks/results/authors_fixedp_check_epochs.csv"))
    args = ap.parse_args()

    repo = args.authors_repo.resolve()
    if not (repo / "run_mlp_continual.py").exists():
        sys.exit(f"{repo} has no run_mlp_continual.py: pass a checkout of the authors' repository")
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")

    _stub_missing_imports()
    sys.path.insert(0, str(repo))
    import run_mlp_continual as rmc  # noqa: E402  (their script, unchanged)
    from lib import config, data, metric, test, train  # noqa: E402

    config.writer = _NullWriter()
    epoch = {"n": 0, "last": None}
    if args.eval_every > 1:

        def counted(fn):
            def wrapper(*a, **k):
                epoch["n"] += 1
                return fn(*a, **k)

            return wrapper

        def only_some_epochs(fn, skipped):
            def wrapper(*a, **k):
                n = epoch["n"]
                return fn(*a, **k) if (n % args.eval_every == 0 or n == epoch["last"]) else skipped()

            return wrapper

        train.train = counted(train.train)
        test.accuracy = only_some_epochs(test.accuracy, lambda: float("nan"))
        test.activation = only_some_epochs(test.activation, lambda: torch.tensor(float("nan")))
        metric.mutual_information = only_some_epochs(metric.mutual_information, lambda: torch.tensor(float("nan")))
    data.get_mnist_dataset = _mnist_dataset(args.data)
    base = json.loads((repo / "etc" / "mlp_mnist_energy.json").read_text())
    epochs = args.epochs or base["epochs"]
    done = _done(args.out)

    for p in args.ps:
        key = (p, args.lr, args.weight_decay, args.seed, epochs, args.eval_every)
        if key in done:
            print(f"p={p}: already in {args.out}, skipped")
            continue
        cfg = json.loads(json.dumps(base))
        cfg.update(prob_release=p, learning_rate=args.lr, weight_decay=args.weight_decay, seed=args.seed, epochs=epochs)
        cfg["dataset"]["kwargs"]["num_workers"] = 0
        epoch.update(n=0, last=epochs)
        t0 = time.perf_counter()
        results, mlp, test_loaders = rmc.run_mlp_continual(cfg, verbose=False)
        wall = time.perf_counter() - t0

        mi, energy = results["mutual_inf"][0], results["energy_weight"][0]
        ratio = mi / energy
        best = int(torch.argmax(torch.nan_to_num(ratio, nan=-1.0)))
        with torch.no_grad():  # our pipeline's measures, on the trained network (after their results are taken)
            w_raw = [l.weight_raw for l in mlp.layers]
            expected_energy = float(sum(w.abs().sum() for w in w_raw))
            sum_abs_bias = float(sum(l.bias.abs().sum() for l in mlp.layers if l.bias is not None))
            x = torch.cat([xb for xb, _ in test_loaders[0]])
            y = torch.cat([yb for _, yb in test_loaders[0]])
            probs = sum(torch.softmax(mlp(x), 1) for _ in range(cfg["test_samples"])) / cfg["test_samples"]
            from presyn.metrics import mutual_information

            mi_avg = mutual_information(probs, y)
        row = dict(
            p=p,
            lr=args.lr,
            weight_decay=args.weight_decay,
            seed=args.seed,
            epochs=epochs,
            mutual_information=float(mi[-1]),
            energy=float(energy[-1]),
            mi_per_energy=float(ratio[-1]),
            test_accuracy=float(results["test_acc"][0, -1]),
            max_mi_per_energy_over_epochs=float(ratio[best]),
            epoch_of_max=best + 1,
            expected_energy_sum_abs_w=expected_energy,
            mi_per_expected_energy=float(mi[-1]) / expected_energy,
            sum_abs_bias=sum_abs_bias,
            mi_10sample_avg=mi_avg,
            train_accuracy=float(results["train_acc"][0, -1]),
            eval_every=args.eval_every,
            wall_s=round(wall, 1),
            authors_commit=commit,
            torch=torch.__version__,
        )
        new = not args.out.exists()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            if new:
                w.writeheader()
            w.writerow(row)
        new = not args.epochs_out.exists()
        with args.epochs_out.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(
                    [
                        "p",
                        "lr",
                        "weight_decay",
                        "seed",
                        "epoch",
                        "mutual_information",
                        "energy",
                        "mi_per_energy",
                        "test_accuracy",
                        "train_accuracy",
                        "train_loss",
                    ]
                )
            for e in range(epochs):
                w.writerow(
                    [
                        p,
                        args.lr,
                        args.weight_decay,
                        args.seed,
                        e + 1,
                        float(mi[e]),
                        float(energy[e]),
                        float(ratio[e]),
                        float(results["test_acc"][0, e]),
                        float(results["train_acc"][0, e]),
                        float(results["train_loss"][0, e]),
                    ]
                )
        print(
            json.dumps(
                {
                    k: row[k]
                    for k in (
                        "p",
                        "mi_per_energy",
                        "mutual_information",
                        "energy",
                        "test_accuracy",
                        "max_mi_per_energy_over_epochs",
                        "mi_10sample_avg",
                        "wall_s",
                    )
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
