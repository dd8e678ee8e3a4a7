"""A small SYNTHETIC dataset in the raw layout the parser expects (tests and the quick config only).

It is made up: release probability P and quantal size q per recording before and after an LTP or LTD
protocol, drawn so that low-P synapses change more (the paper's claim) on top of noise. Every row says
SYNTHETIC in its ``note`` column and carries ``synthetic = True``; the parser keeps that flag and the
figure says SYNTHETIC in its title. Never present numbers from it as the Sjöström data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from presyn.io import atomic_path

NOTE = "SYNTHETIC data made by presyn.sjostrom.synthetic, NOT Sjostrom et al. 2001"


def make_synthetic(n: int = 40, seed: int = 0, n_sites: float = 5.5) -> pd.DataFrame:
    """One row per made-up recording, with both layouts the parser reads:
    P/q before/after (``P_before`` ...) and EPSP mean/CV before/after (``epsp_mean_before`` ...), the
    latter following from P and q by the binomial model with ``n_sites`` release sites."""
    rng = np.random.default_rng(seed)
    group = np.where(np.arange(n) % 2 == 0, "LTP", "LTD")
    p_before = rng.uniform(0.1, 0.9, n)
    q_before = rng.lognormal(np.log(0.4), 0.3, n)  # mV
    # the change in expected strength shrinks with P (low-P synapses are the plastic ones), plus noise
    # (LTP larger than LTD in relative terms, as LTD is bounded by -100 %)
    magnitude = np.abs((1 - p_before) + rng.normal(0, 0.15, n))
    factor = np.where(group == "LTP", 1 + 1.5 * magnitude, 1 / (1 + 0.5 * magnitude))
    # split the change between P (presynaptic) and q (postsynaptic), keeping P in (0, 1]
    share = rng.uniform(0.3, 0.7, n)
    p_after = np.clip(p_before * factor**share, 0.02, 0.98)
    q_after = q_before * factor * p_before / p_after
    out = pd.DataFrame({
        "recording": [f"syn{i:03d}" for i in range(n)],
        "protocol": [f"{g} pairing {'+10' if g == 'LTP' else '-10'} ms" for g in group],
        "timing_ms": np.where(group == "LTP", 10.0, -10.0),
        "P_before": p_before, "P_after": p_after, "q_before": q_before, "q_after": q_after,
    })
    for when, p, q in (("before", p_before, q_before), ("after", p_after, q_after)):
        mu = n_sites * p * q
        out[f"epsp_mean_{when}"] = mu
        out[f"epsp_cv_{when}"] = np.sqrt(n_sites * p * (1 - p)) * q / mu
    out["synthetic"] = True
    out["note"] = NOTE
    return out


def write_synthetic(path: str | Path, n: int = 40, seed: int = 0, n_sites: float = 5.5) -> pd.DataFrame:
    """Write the synthetic table (.csv or .xlsx, atomically) and return it."""
    df = make_synthetic(n, seed, n_sites)
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".xlsx":
            df.to_excel(tmp, index=False, engine="openpyxl")
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            raise ValueError(f"synthetic Sjöström file must be .csv or .xlsx, not {path.suffix!r}")
    return df
