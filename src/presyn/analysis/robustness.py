"""Model robustness (Methods, "Model robustness"; issue 21): the energy results with p_up / p_down 25 % lower
and higher than the paper's 0.07. "does not qualitatively change results" is tested variant by variant with
the very functions of Fig 1 and Fig 2 (no copy of their logic):

- Fig 1: ``energy.fig1_stats`` on a table of the variant's presynaptic runs (every weight decay x seed) plus
  the Fig 1 runs of the control models (p_up / p_down never reach them, so they are the same controls);
- Fig 2: ``synapses.fig2_stats`` on the variant's synapse-level statistics (``synapses.synapse_stats`` of its
  per-synapse table, figure ``robustness.<variant>``) and lesion table at the analysis weight decay.

Every row is renamed ``robustness.<variant>.<the Fig 1 / Fig 2 quantity>`` (e.g.
``robustness.p_low.best_mi_per_energy.presyn_vs_fixedp``, ``robustness.p_high.lesion.lowp_vs_random.50``);
``figure`` is the registered figure and ``groups`` starts with ``variant=<v>;p_up=<x>;p_down=<y>``. One extra
per variant, not a claim of the paper: ``robustness.<v>.best_mi_per_energy.presyn_vs_default`` (t-test of the
variant's best MI per energy against the default presynaptic model's, value = variant - default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from presyn import stats
from presyn.analysis.energy import fig1_stats, parse_groups
from presyn.analysis.synapses import fig2_stats
from presyn.planning import robustness_method

FIGURE = "appfig_robustness"
PREFIX = "robustness"


def variant_of(table: pd.DataFrame, variants: dict[str, dict], model: str = "presyn") -> pd.Series:
    """Which variant each row of a robustness-runs table (``energy.final_table``) belongs to, from its method
    (``plan.robustness_method``); a row of no variant raises."""
    by_method = {
        robustness_method(model, vals, wd): name
        for name, vals in variants.items()
        for wd in table["weight_decay"].unique()
    }
    out = table["method"].map(by_method)
    if out.isna().any():
        raise ValueError(
            f"robustness runs of no configured variant: {sorted(table.loc[out.isna(), 'method'].unique())}"
        )
    return out


def fig1_table(
    energy_final: pd.DataFrame,
    robustness_final: pd.DataFrame,
    variant: str,
    variants: dict[str, dict],
    model: str = "presyn",
) -> pd.DataFrame:
    """Fig 1's table for one variant: its runs of ``model`` and the Fig 1 runs of every other model (controls)."""
    mine = robustness_final[variant_of(robustness_final, variants, model) == variant]
    if mine.empty:
        raise ValueError(f"no runs of robustness variant {variant!r} in the table")
    controls = energy_final[energy_final["model"] != model]
    return pd.concat([mine, controls], ignore_index=True)


def _best_values(table: pd.DataFrame, rows: pd.DataFrame, prefix: str, model: str) -> np.ndarray:
    """The per-seed MI per energy of ``model`` at the best weight decay that ``fig1_stats`` chose."""
    row = rows[rows["name"] == f"{prefix}.best_mi_per_energy.{model}"]
    if row.empty:
        return np.array([])
    wd = float(parse_groups(row["groups"])["wd"].iloc[0])
    g = table[(table["model"] == model) & np.isclose(table["weight_decay"], wd)]
    return g["mi_per_energy"].to_numpy(dtype=float)


def robustness_stats(
    energy_final: pd.DataFrame,
    robustness_final: pd.DataFrame,
    synapse_rows: dict[str, pd.DataFrame],
    lesions: dict[str, pd.DataFrame],
    variants: dict[str, dict],
    model: str = "presyn",
    figure: str = FIGURE,
    prefix: str = PREFIX,
) -> pd.DataFrame:
    """Stats rows of every variant (see the module docstring). ``energy_final``: the Fig 1 table;
    ``robustness_final``: ``final_table`` of the variants' runs; ``synapse_rows`` / ``lesions``: variant ->
    ``synapse_stats`` of its synapse table (with Fisher; figure ``<prefix>.<variant>``) / its lesion table at
    the analysis weight decay."""
    default_rows = fig1_stats(energy_final, figure="default")
    default_best = _best_values(energy_final, default_rows, "default", model)
    frames = []
    for name, vals in variants.items():
        p = f"{prefix}.{name}"
        table = fig1_table(energy_final, robustness_final, name, variants, model)
        f1 = fig1_stats(table, figure=p)
        f2 = fig2_stats(synapse_rows[name], lesions[name], figure=p)
        extra = stats.frame(
            [
                stats.ttest(
                    p,
                    f"{p}.best_mi_per_energy.{model}_vs_default",
                    _best_values(table, f1, p, model),
                    default_best,
                    f"a={name};b=default",
                )
            ]
        )
        df = pd.concat([f1, f2, extra], ignore_index=True)
        head = f"variant={name};p_up={float(vals['p_up']):g};p_down={float(vals['p_down']):g}"
        df["groups"] = [head + (f";{g}" if isinstance(g, str) and g else "") for g in df["groups"]]
        df["figure"] = figure
        frames.append(df)
    return stats.frame([]) if not frames else pd.concat(frames, ignore_index=True)[stats.COLUMNS]
