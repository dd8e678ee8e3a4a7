"""Analyses: runs -> tidy tables -> statistics rows (no plotting here)."""
