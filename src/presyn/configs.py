"""Config overlays as Snakemake applies them: mappings merge key by key, everything else is replaced."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml


def deep_merge(base: dict, overlay: dict) -> dict:
    """Merge ``overlay`` into ``base`` in place (and return it), like ``--configfile`` overlays."""
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def load_config(*paths: str | Path) -> dict:
    """config.yaml followed by overlays, e.g. load_config("config/config.yaml", "config/quick.yaml")."""
    cfg: dict = {}
    for path in paths:
        deep_merge(cfg, yaml.safe_load(Path(path).read_text()) or {})
    return cfg
