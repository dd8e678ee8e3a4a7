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


STACKABLE_KINDS = ("presyn", "fixedp", "deterministic")


def build_learner(
    model: dict | list[dict],
    sizes: list[int],
    gens: Generators | list[Generators],
    device: torch.device,
    p_min: float = 0.25,
):
    """``model['kind']``: presyn | fixedp | deterministic (others are added by their modules).

    A list of model blocks with one ``Generators`` each builds one learner over S stacked networks (kinds
    presyn, fixedp, deterministic; the blocks may differ in lr and weight decay only), each network
    initialised and sampled from its own generators exactly as alone.
    """
    stacked = isinstance(model, list)
    models = model if stacked else [model]
    all_gens = gens if stacked else [gens]
    model = models[0]
    kind = model["kind"]
    init = [g.init for g in all_gens] if stacked else gens.init
    masks = [g.masks for g in all_gens]
    if stacked and kind not in STACKABLE_KINDS:
        raise ValueError(f"model kind {kind!r} cannot be stacked; stackable: {', '.join(STACKABLE_KINDS)}")
    if kind == "presyn":
        normalise = model.get("normalise", True)
        net = SynapticMLP(
            sizes,
            init,
            device,
            p_min=p_min,
            p_init=model.get("p_init", "min"),
            weight_scale=1.0 if normalise else 1.0 / p_min,
        )
        rules = [PresynapticRule(p_min=p_min, **{k: v for k, v in m.items() if k in RULE_KEYS}) for m in models]
        return PresynapticLearner(net, rules, masks, compile=model.get("compile", False))
    if kind == "fixedp":
        net = SynapticMLP(sizes, init, device, p_min=p_min, p_init=float(model["p"]))
        rules = [
            PresynapticRule(lr=m["lr"], weight_decay=m.get("weight_decay", 0.0), learn_p=False, p_min=p_min)
            for m in models
        ]
        return PresynapticLearner(net, rules, masks, compile=model.get("compile", False))
    if kind == "deterministic":
        net = SynapticMLP(sizes, init, device, p_min=p_min, p_init=1.0)
        lrs = [m["lr"] for m in models]
        wds = [m.get("weight_decay", 0.0) for m in models]
        return DeterministicLearner(
            net, model.get("optimizer", "sgd"), lrs if stacked else lrs[0], wds if stacked else wds[0]
        )
    if kind in ("bgd", "ewc"):  # lifelong baselines (presyn.baselines)
        from presyn import baselines

        return baselines.build(
            model, lambda p_init: SynapticMLP(sizes, gens.init, device, p_min=p_min, p_init=p_init), gens, device
        )
    raise ValueError(f"unknown model kind {kind!r}; known: presyn, fixedp, deterministic, bgd, ewc")
