"""Metrics against direct computations."""

import math

import numpy as np
import pytest
import torch

from presyn.metrics import accuracy, mutual_information


def direct_mi(probs, y):
    probs, y = np.asarray(probs, float), np.asarray(y)
    classes = np.unique(y)
    p_y = np.array([(y == c).mean() for c in classes])
    p_z_y = np.array([probs[y == c].mean(0) for c in classes])
    p_z = (p_y[:, None] * p_z_y).sum(0)
    total = 0.0
    for i in range(len(classes)):
        for z in range(probs.shape[1]):
            joint = p_y[i] * p_z_y[i, z]
            if joint > 0:
                total += joint * math.log2(p_z_y[i, z] / p_z[z])
    return total


def test_mi_of_perfect_and_uninformative_outputs():
    y = torch.arange(10).repeat(5)
    assert mutual_information(torch.eye(10)[y], y) == pytest.approx(math.log2(10))
    assert mutual_information(torch.full((50, 10), 0.1), y) == pytest.approx(0.0, abs=1e-12)


def test_mi_matches_direct_formula_on_random_softmax():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(300, 4, generator=gen), 1)
    y = torch.randint(0, 4, (300,), generator=gen)
    assert mutual_information(probs, y) == pytest.approx(direct_mi(probs, y), rel=1e-9)


def test_accuracy_uses_argmax_of_averaged_softmax():
    probs = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    assert accuracy(probs, torch.tensor([0, 0, 0])) == pytest.approx(2 / 3)
