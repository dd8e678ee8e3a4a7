"""Make a Snakemake working directory outside the repo for the SLURM test: config/ copied,
tiny synthetic data in data/processed/ (same recipe as tests/conftest.py's Workdir).

usage: python tests/slurm/make_workdir.py DIR
"""

import shutil
import sys
from pathlib import Path

from presyn.data import make_synthetic, save_processed

ROOT = Path(__file__).resolve().parents[2]


def main(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(ROOT / "config", path / "config")
    for seed, name in enumerate(("mnist", "fashion")):
        arrays = make_synthetic(600, 200, seed=seed)
        save_processed(arrays, path / "data" / "processed" / f"{name}.npz", {"synthetic": True})
    print(f"workdir ready: {path}")


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
