"""Synaptic energy of a hand-made network: the sum of |expected strength|
(docs/protocol.md#energy-accuracy-and-information), by hand.

The strengths are chosen with mixed signs so that a signed sum (abs() dropped) gives a different number
from the sum of magnitudes: 9.75 against 2.25 here.
"""

from __future__ import annotations

import pytest
import torch

from presyn.experiments.energy import snapshots
from presyn.factory import build_learner
from presyn.training import Generators

SIZES = [3, 2, 2]  # 6 + 4 = 10 synapses
W = [1.0, -2.0, 0.5, -0.25, 0.0, 3.0, -1.0, 1.0, -0.5, 0.5]
P = [0.25, 0.5, 1.0, 0.75, 0.5, 0.25, 1.0, 0.5, 0.25, 0.75]
SUM_ABS = 1 + 2 + 0.5 + 0.25 + 0 + 3 + 1 + 1 + 0.5 + 0.5  # 9.75
SIGNED = 1 - 2 + 0.5 - 0.25 + 0 + 3 - 1 + 1 - 0.5 + 0.5  # 2.25
# p |w| synapse by synapse
P_ABS = (
    0.25 * 1 + 0.5 * 2 + 1.0 * 0.5 + 0.75 * 0.25 + 0 + 0.25 * 3 + 1.0 * 1 + 0.5 * 1 + 0.25 * 0.5 + 0.75 * 0.5
)  # 4.6875

MODELS = {
    "presyn": {"kind": "presyn", "lr": 0.1},
    "presyn_no_norm": {"kind": "presyn", "lr": 0.1, "normalise": False},
    "fixedp": {"kind": "fixedp", "lr": 0.1, "p": 0.5},
    "deterministic": {"kind": "deterministic", "lr": 0.1},
    "adam": {"kind": "deterministic", "lr": 0.1, "optimizer": "adam"},
    "bgd": {"kind": "bgd", "std_init": 0.01, "eta": 1.0, "mc_samples": 2},
    "ewc": {"kind": "ewc", "lr": 0.1, "ewc_lambda": 1.0},
}


def hand_made(name: str, w=W, p=P):
    learner = build_learner(MODELS[name], SIZES, Generators.from_seed(0, torch.device("cpu")), torch.device("cpu"))
    assert learner.net.w.numel() == len(w)
    learner.net.w.copy_(torch.tensor(w))
    learner.net.p.copy_(torch.tensor(p))
    return learner


def test_hand_made_numbers_differ_with_and_without_magnitudes():
    assert SUM_ABS == 9.75 and SIGNED == 2.25 and P_ABS == 4.6875


@pytest.mark.parametrize("name", ["presyn", "fixedp", "deterministic", "adam", "bgd", "ewc"])
def test_energy_is_sum_of_magnitudes(name):
    """Normalised models (and the deterministic baselines): E = sum |w_bar|, whatever p is."""
    assert hand_made(name).synaptic_energy() == pytest.approx(SUM_ABS, rel=1e-7)


def test_energy_without_normalisation_is_sum_of_p_times_magnitude():
    """noNorm: the effective weight is mask * w, so the expected cost is sum p |w|."""
    assert hand_made("presyn_no_norm").synaptic_energy() == pytest.approx(P_ABS, rel=1e-7)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_energy_unchanged_when_every_strength_flips_sign(name):
    """Cost is metabolic: an inhibitory synapse costs what an excitatory one of the same size does."""
    plus = hand_made(name).synaptic_energy()
    minus = hand_made(name, w=[-v for v in W]).synaptic_energy()
    assert plus == pytest.approx(minus, rel=1e-7) and plus > 0


@pytest.mark.parametrize("name", sorted(MODELS))
def test_all_negative_network_has_positive_energy(name):
    w = [-abs(v) - 0.5 for v in W]  # every synapse negative
    energy = hand_made(name, w=w).synaptic_energy()
    weights = [abs(v) for v in w]
    expected = sum(pi * wi for pi, wi in zip(P, weights)) if name == "presyn_no_norm" else sum(weights)
    assert energy == pytest.approx(expected, rel=1e-7)


def test_energy_snapshot_reports_the_hand_computed_energy():
    """What the energy experiment logs each epoch (Fig 1-3 read it)."""
    (snap,) = snapshots(hand_made("presyn"), important_p=0.75)
    assert snap["synaptic_energy"] == pytest.approx(SUM_ABS, rel=1e-7)
    assert snap["mean_p"] == pytest.approx(sum(P) / len(P))
    assert snap["fraction_important"] == pytest.approx(4 / 10)  # p >= 0.75: 1.0, 0.75, 1.0, 0.75
