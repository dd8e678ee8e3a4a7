"""Config validation with messages that name the offending key path.

Snakemake's own ``validate`` prints the schema fragment and ``instance['a']['b']``; here every
violation is one line, ``config error at energy.models.presyn.lr: -0.1 is less than or equal
to the minimum of 0``, all violations are reported at once (sorted by path), and an unknown
key is named by its full path (``energy.foo: unknown key``) instead of its parent's.
Called from ``workflow/rules/common.smk`` before any rule is planned.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from presyn.curves import FIG4B_BENCHMARK, FIG4B_CURVE_METHODS, curve_lists


class ConfigError(ValueError):
    """The config does not satisfy workflow/schemas/config.schema.yaml."""


def load_schema(schema_path: str | os.PathLike) -> dict:
    return yaml.safe_load(Path(schema_path).read_text())


def _dotted(path) -> str:
    """deque(['energy', 'models', 'presyn', 'lr']) -> 'energy.models.presyn.lr'; seeds[0] for list items."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: ValidationError) -> list[tuple[str, str]]:
    """(key path, message) pairs for one top-level error, descending into oneOf/anyOf."""
    if error.context:  # oneOf / anyOf: report the most relevant sub-error (a branch of the right type)
        branches: dict = {}
        for e in error.context:
            branches.setdefault(e.relative_schema_path[0], []).append(e)
        typed = [errs for errs in branches.values() if not any(e.validator == "type" for e in errs)]
        error = best_match(typed[0] if typed else error.context) or error
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set((error.schema or {}).get("properties", {}))
        extra = [k for k in error.instance if k not in allowed]
        if extra and error.schema.get("additionalProperties") is False:
            known = ", ".join(sorted(allowed)) or "none"
            return [(_dotted(path + [k]), f"unknown key {k!r} (allowed here: {known})") for k in extra]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        if missing:
            return [(_dotted(path + [missing]), "required key is missing")]
    msg = error.message
    desc = (error.schema or {}).get("description") if isinstance(error.schema, dict) else None
    if desc and error.validator not in ("type",):
        msg += f" ({desc})"
    return [(_dotted(path), msg)]


# Names that must refer to keys (or items) elsewhere in the config: JSON schema cannot say this.
# (path of the name(s); "[]" = every item of a list, path of the mapping / list it must be in)
REFERENCES = [
    ("energy.analysis.model", "energy.models"),
    ("energy.fixedp_sweep.model", "energy.models"),
    ("energy.uniform_init.model", "energy.models"),
    ("energy.robustness.model", "energy.models"),
    ("lifelong.continuous.methods[]", "lifelong.methods"),
    ("lifelong.ewc_search.benchmarks[]", "lifelong.benchmarks"),
    ("lifelong.curve_methods[]", "lifelong.methods"),
    ("ablation.run_variants[]", "ablation.variants"),
    ("ablation.search.variant", "ablation.variants"),
    ("ablation.benchmarks[]", "ablation.lr"),
]
BENCHMARK = re.compile(r"^(split|perm|cont_perm)_(mnist|fashion)$")
BENCHMARK_KEYED = ["lifelong.methods.*.per_benchmark", "ablation.lr", "ablation.tuned"]  # keys are benchmark names
BENCHMARK_LISTED = ["lifelong.curve_benchmarks[]"]  # items are benchmark names


def _get(config: Any, dotted: str) -> list[tuple[str, Any]]:
    """(concrete path, value) for a dotted path with '*' (every key) and a trailing '[]' (every item)."""
    found = [("", config)]
    items = dotted.endswith("[]")
    for part in (dotted[:-2] if items else dotted).split("."):
        nxt = []
        for path, node in found:
            if not isinstance(node, dict):
                continue
            keys = list(node) if part == "*" else [part] if part in node else []
            nxt += [(f"{path}.{k}" if path else str(k), node[k]) for k in keys]
        found = nxt
    if items:
        return [(f"{p}[{i}]", v) for p, lst in found if isinstance(lst, list) for i, v in enumerate(lst)]
    return found


def check_references(config: dict[str, Any]) -> list[str]:
    """Unknown method / variant / model / benchmark names that the schema lets through."""
    problems = []
    for name_path, target_path in REFERENCES:
        targets = _get(config, target_path)
        if not targets or not isinstance(targets[0][1], (dict, list)):
            continue
        known = list(targets[0][1])
        for path, name in _get(config, name_path):
            if isinstance(name, str) and name not in known:
                problems.append(
                    f"config error at {path}: {name!r} is not one of {target_path} ({', '.join(map(str, known))})"
                )
    named = [
        (f"{path}.{key}", key)
        for keyed in BENCHMARK_KEYED
        for path, mapping in _get(config, keyed)
        for key in (mapping if isinstance(mapping, dict) else [])
    ]
    named += [item for listed in BENCHMARK_LISTED for item in _get(config, listed)]
    problems += [
        f"config error at {path}: unknown benchmark name {name!r} (split|perm|cont_perm)_(mnist|fashion)"
        for path, name in named
        if not BENCHMARK.match(str(name))
    ]
    problems += check_fig4_curve(config)
    return problems


def check_fig4_curve(config: dict[str, Any]) -> list[str]:
    """Fig 4b plots the task-1 curve of presyn and no_consolidation on Split MNIST: the curve settings must keep it."""
    sec = config.get("lifelong")
    if (
        not isinstance(sec, dict)
        or not sec.get("enabled", True)
        or FIG4B_BENCHMARK not in (sec.get("benchmarks") or [])
    ):
        return []
    problems = []
    (benchmarks, methods), tasks = curve_lists(sec), sec.get("curve_tasks", [1])
    if isinstance(benchmarks, list) and FIG4B_BENCHMARK not in benchmarks:
        problems.append(
            "config error at lifelong.curve_benchmarks: Fig 4b plots the Split MNIST task-1 curve; "
            f"add {FIG4B_BENCHMARK} (or null = every benchmark)"
        )
    if isinstance(methods, list):
        missing = [m for m in FIG4B_CURVE_METHODS if m in (sec.get("methods") or {}) and m not in methods]
        if missing:
            problems.append(
                f"config error at lifelong.curve_methods: Fig 4b plots the curves of {', '.join(missing)}; "
                "add them (or null = every method)"
            )
    if isinstance(tasks, list) and 1 not in tasks:
        problems.append("config error at lifelong.curve_tasks: Fig 4b plots task 1; add 1 (or null = every task)")
    if not sec.get("eval_every", 1):
        problems.append("config error at lifelong.eval_every: 0 leaves Fig 4b without its per-epoch curve; use 1")
    return problems


def check(config: dict[str, Any], schema: dict) -> list[str]:
    """Every violation as 'config error at <key.path>: <message>' (empty list: valid)."""
    validator = Draft202012Validator(schema)
    found: dict[tuple[str, str], None] = {}
    for err in validator.iter_errors(config):
        for path, msg in _describe(err):
            found[(path, msg)] = None
    problems = [f"config error at {p}: {m}" for p, m in sorted(found)]
    return problems + sorted(set(check_references(config)) - set(problems))


def validate(config: dict[str, Any], schema_path: str | os.PathLike) -> None:
    """Raise ConfigError listing every violation by key path; return silently when valid."""
    problems = check(config, load_schema(schema_path))
    if problems:
        raise ConfigError(
            f"{len(problems)} invalid config value(s); fix config/config.yaml or the --configfile overlay "
            f"(schema: {Path(schema_path).name}); nothing was run:\n  " + "\n  ".join(problems)
        )
