"""Why App. fig 1d depends on the initial release probability: the drift of the presynaptic rule.

With normalisation the gradient with respect to a synapse's expected strength is dL/dW_eff * mask / p,
so a synapse that does not transmit in a step (probability 1 - p) gets g = 0 < g_lim and its release
probability falls. One that transmits rises when its |g| >= g_lim, which happens with some probability
q (the share of transmitting steps with a large gradient). One step of the rule (eqs. 4-9) therefore moves p by

    E[dp] = p q (1 - p) p_up + (1 - p q) (max(p_min, p - (1 - p) p_down) - p)

(the up-step never passes 1; the down-step is clamped at p_min). Even at q = 1 and away from the clamp,
E[dp] = (1 - p) (p p_up - (1 - p) p_down), which for p_up = p_down = d is d (1 - p) (2p - 1): negative
for every p < 1/2. A synapse starting below 1/2 drifts down unless chance carries it across; a uniform
start on [p_min, 1] = [0.25, 1] puts two thirds of the synapses above 1/2, the default start (all at
p_min) none. ``init_bin_table`` shows the consequence on the trained runs: the fraction of synapses that
end important (p >= important_p) per bin of their initial p.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def expected_release_drift(
    p: np.ndarray | float, q: np.ndarray | float, p_up: float, p_down: float, p_min: float
) -> np.ndarray:
    """E[p_next - p] of one step for release probability ``p`` (no freezing) when a transmitting step has a
    large gradient with probability ``q``; clamps included."""
    p, q = np.asarray(p, float), np.asarray(q, float)
    up = (1.0 - p) * p_up
    down = np.maximum(p_min, p - (1.0 - p) * p_down) - p
    return p * q * up + (1.0 - p * q) * down


def break_even_q(p: np.ndarray | float, p_up: float, p_down: float) -> np.ndarray:
    """The share q of large-gradient steps at which E[dp] = 0 away from the clamp: p_down / (p (p_up + p_down));
    above 1 (p < p_down / (p_up + p_down)) no q lets p rise on average."""
    return p_down / (np.asarray(p, float) * (p_up + p_down))


def init_bin_table(syn: pd.DataFrame, edges: list[float], label: str) -> pd.DataFrame:
    """Per seed and bin of initial p: synapses, and the fraction that end with p >= important_p (column
    ``important``) -- App. fig 1d by where each synapse started."""
    bins = pd.cut(syn["p_init"], bins=edges, right=False, include_lowest=True)
    g = syn.assign(bin=bins).groupby(["seed", "bin"], observed=False)["important"]
    out = g.agg(n="count", fraction_important="mean").reset_index()
    out["bin_left"] = [b.left for b in out["bin"]]
    out["bin_right"] = [b.right for b in out["bin"]]
    out["init"] = label
    return out[["init", "seed", "bin_left", "bin_right", "n", "fraction_important"]]
