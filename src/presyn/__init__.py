"""presyn: reproduce Schug, Benzing & Steger (eLife 2021), presynaptic stochasticity."""

__version__ = "0.1.0"
