"""Build a learner from a run spec's ``model`` block (the names used in config)."""

from __future__ import annotations

import torch

from presyn.learners import DeterministicLearner, PresynapticLearner, PresynapticRule
from presyn.models import SynapticMLP
from presyn.training import Generators

RULE_KEYS = {
    "lr",
    "p_up",
    "p_down",
    "g_lim",
    "p_freeze",
    "modulation",
    "learn_p",
    "sample_p",
    "ghost_normaliser",
    "normalise",
    "weight_decay",
}


STACKABLE_KINDS = ("presyn", "fixedp", "deterministic", "bgd", "ewc")


def build_learner(
    model: dict | list[dict],
    sizes: list[int],
    gens: Generators | list[Generators],
    device: torch.device,
    p_min: float = 0.25,
):
    """``model['kind']``: presyn | fixedp | deterministic | bgd | ewc.

    A list of model blocks (one kind) with one ``Generators`` each builds one learner over S stacked networks:
    each network built alone from its own generators (initial weights, masks / samples exactly as a run alone),
    then ``<learner class>.stack``-ed (rule constants, flags, learning rates may differ per network).
    """
    if isinstance(model, list):
        kinds = {m["kind"] for m in model}
        if len(kinds) != 1:
            raise ValueError(f"stacked networks are of one model kind, not {sorted(kinds)}")
        if len(gens) != len(model):
            raise ValueError(f"{len(model)} model blocks need {len(model)} Generators, got {len(gens)}")
        learners = [build_learner(m, sizes, g, device, p_min) for m, g in zip(model, gens)]
        return type(learners[0]).stack(learners)
    kind = model["kind"]
    if kind == "presyn":
        normalise = model.get("normalise", True)
        net = SynapticMLP(
            sizes,
            gens.init,
            device,
            p_min=p_min,
            p_init=model.get("p_init", "min"),
            weight_scale=1.0 if normalise else 1.0 / p_min,
        )
        rule = PresynapticRule(p_min=p_min, **{k: v for k, v in model.items() if k in RULE_KEYS})
        return PresynapticLearner(net, rule, gens.masks, compile=model.get("compile", False))
    if kind == "fixedp":
        net = SynapticMLP(sizes, gens.init, device, p_min=p_min, p_init=float(model["p"]))
        rule = PresynapticRule(lr=model["lr"], weight_decay=model.get("weight_decay", 0.0), learn_p=False, p_min=p_min)
        return PresynapticLearner(net, rule, gens.masks, compile=model.get("compile", False))
    if kind == "deterministic":
        net = SynapticMLP(sizes, gens.init, device, p_min=p_min, p_init=1.0)
        return DeterministicLearner(net, model.get("optimizer", "sgd"), model["lr"], model.get("weight_decay", 0.0))
    if kind in ("bgd", "ewc"):  # lifelong baselines (presyn.baselines)
        from presyn import baselines

        return baselines.build(
            model, lambda p_init: SynapticMLP(sizes, gens.init, device, p_min=p_min, p_init=p_init), gens, device
        )
    raise ValueError(f"unknown model kind {kind!r}; known: presyn, fixedp, deterministic, bgd, ewc")
