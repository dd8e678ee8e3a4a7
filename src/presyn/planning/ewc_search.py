"""The EWC search's runs (``lifelong.ewc_search``): every benchmark x grid point x stage x search seed.

The search itself (why, the two stages, the choice) is described in ``presyn.experiments.ewc_search``, which
scores the runs planned here.
"""

from __future__ import annotations

import itertools

from presyn.planning.core import fmt_number

STAGES = ("screen", "confirm")
POINT_KEYS = ("optimizer", "lr", "ewc_lambda", "fisher", "reset_optimizer")


def grid_points(search: dict) -> list[dict]:
    """Every grid point, in a fixed order; ``reset_optimizer`` true only with Adam (SGD keeps no state)."""
    grid = search["grid"]
    points = []
    for (opt, lr), lam, fisher, reset in itertools.product(
        grid["optimizer_lr"], grid["ewc_lambda"], grid["fisher"], grid["reset_optimizer"]
    ):
        if reset and opt != "adam":
            continue
        points.append(
            {
                "optimizer": str(opt),
                "lr": float(lr),
                "ewc_lambda": float(lam),
                "fisher": str(fisher),
                "reset_optimizer": bool(reset),
            }
        )
    return points


def point_label(point: dict) -> str:
    """A path-safe spelling of one grid point, e.g. 'adam0.001_lam100_exact_reset'."""
    return f"{point['optimizer']}{fmt_number(point['lr'])}_lam{fmt_number(point['ewc_lambda'])}_{point['fisher']}" + (
        "_reset" if point["reset_optimizer"] else ""
    )


def method_for(stage: str, point: dict) -> str:
    return f"ewcsearch-{stage}_{point_label(point)}"


def plan_search_runs(config: dict, sec: dict, spec_for) -> list[dict]:
    """Screen and confirm specs of every benchmark x grid point x search seed (all planned, so that the
    confirm stage can request any of them once the screen is scored). ``spec_for(method, benchmark, seed,
    model)`` builds a lifelong spec; the search keys are added here."""
    search = sec.get("ewc_search")
    if not search or "ewc" not in sec["methods"]:
        return []
    base = sec["methods"]["ewc"]
    runs = []
    for benchmark in search.get("benchmarks") or sec["benchmarks"]:
        kind = "split" if benchmark.startswith("split_") else "perm"
        for (index, point), stage, seed in itertools.product(enumerate(grid_points(search)), STAGES, search["seeds"]):
            model = {**base["model"], **((base.get("per_benchmark") or {}).get(benchmark) or {}), **point}
            spec = spec_for(method_for(stage, point), benchmark, seed, model)
            spec.update(
                holdout=int(search["holdout"]),
                eval_every=0,
                task_end_eval=False,
                search={"stage": stage, "point": point, "label": point_label(point), "index": index},
            )
            if stage == "screen":
                spec.update(
                    epochs_per_task=int(search["screen"]["epochs_per_task"]),
                    n_tasks=min(int(spec["n_tasks"]), int(search["screen"]["n_tasks"][kind])),
                )
            runs.append(spec)
    return runs
