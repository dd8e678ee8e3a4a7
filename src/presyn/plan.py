"""Former home of the run planners, kept so that older callers (benchmarks/, notebooks) still import.

Everything moved to ``presyn.planning`` (pure Python, no torch); import from there.
"""

from presyn.planning import *  # noqa: F401,F403
from presyn.planning import __all__  # noqa: F401
from presyn.planning.energy import ENERGY_EXTRA_KEYS, energy_sweep_runs  # noqa: F401
from presyn.planning.energy import plan_runs as energy_runs  # noqa: F401
