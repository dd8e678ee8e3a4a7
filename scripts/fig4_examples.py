"""Snakemake entry: Fig 4a's example digits (the first test image of every digit), so that the figure (and the
reference bundle) needs 8 KB instead of the dataset. Same keys as the processed dataset: x_test, y_test."""

import numpy as np

from presyn import logs
from presyn.io import atomic_path

log = logs.setup(snakemake.log[0])
with np.load(snakemake.input[0]) as z:
    x, y = z["x_test"], z["y_test"]
first = sorted(int(np.flatnonzero(y == d)[0]) for d in np.unique(y))
with atomic_path(snakemake.output[0]) as tmp:
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, x_test=x[first], y_test=y[first])
log.info("fig4 examples: test items %s", first)
