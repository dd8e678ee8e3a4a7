"""Which lifelong runs record a per-epoch learning curve: the ones Fig 4b plots.

Fig 4b draws the task-1 test accuracy after every epoch of these methods on this benchmark only. The
planner (``planning.lifelong``) lets only these runs evaluate between task ends, ``config_check``
refuses settings that would drop them, and ``analysis.lifelong.fig4_stats`` reads them. Kept free of
torch, pandas and scipy so that all three, and the Snakefile, can import it cheaply.
"""

FIG4B_BENCHMARK = "split_mnist"
FIG4B_CURVE_METHODS = ("presyn", "no_consolidation")


def curve_lists(sec: dict) -> tuple[list | None, list | None]:
    """``lifelong.curve_benchmarks`` and ``curve_methods`` with their defaults (Fig 4b's runs); None = every."""
    return sec.get("curve_benchmarks", [FIG4B_BENCHMARK]), sec.get("curve_methods", list(FIG4B_CURVE_METHODS))
