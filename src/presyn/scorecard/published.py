"""The published side of the scorecard: reading and checking ``config/published.yaml``.

The file's grammar (numbers, claims, their ``source``, ``ours`` operands, ``check`` and named ``tolerances`` with
the criteria tolerance / significance / nonsignificant / mean / fisher_z / same_data / run_spread) is described in
``presyn.scorecard``'s docstring. Besides the grammar of each item, ``check_published`` checks the links between
items (issue 28): ``duplicate_of`` and ``superseded_by`` name an id of the file (never both; ``superseded_by``
with its ``superseded_why``), ``after_results`` comes with the date ``added``, and a rule changed later keeps its
``earlier`` tolerance. Also here: the texts derived from an item (``source_text``, ``claim_statement``,
``link_note``) and from a tolerance (``tolerance_of``, ``describe_tolerance``).
"""

from __future__ import annotations

import os
from typing import Any

import yaml

# number criteria with a noise bound and a practical margin (three-level verdicts), and the others
NUMBER_CRITERIA = ("tolerance", "significance", "nonsignificant", "mean", "fisher_z", "same_data", "run_spread")
OPS = (">", ">=", "<", "<=", "~")
FIELDS = ("value", "statistic", "p_value", "sem")
SOURCE_KINDS = ("table", "text", "caption", "figure", "code")
SOURCE_LABELS = {
    "table": "table",
    "text": "text",
    "caption": "caption",
    "figure": "read off a figure",
    "code": "authors' code output",
}


class PublishedFileError(ValueError):
    """config/published.yaml does not follow the grammar."""


# ----------------------------------------------------------------------------- loading


def load_published(path: str | os.PathLike) -> dict:
    """Read and check the published file; raise PublishedFileError naming the bad item."""
    with open(path) as fh:
        pub = yaml.safe_load(fh) or {}
    check_published(pub)
    return pub


def check_published(pub: dict) -> None:
    errors = []
    tolerances = pub.get("tolerances") or {}
    seen = set()
    for section in ("numbers", "claims"):
        for i, item in enumerate(pub.get(section) or []):
            where = f"{section}[{i}] ({item.get('id', '?')})"
            if not isinstance(item, dict):
                errors.append(f"{where}: not a mapping")
                continue
            if item.get("id") in seen:
                errors.append(f"{where}: duplicate id")
            seen.add(item.get("id"))
            need = (
                ("id", "figure", "what", "published", "unit", "tolerance", "ours", "source")
                if section == "numbers"
                else ("id", "figure", "claim", "check")
            )
            errors += [f"{where}: missing key {k!r}" for k in need if k not in item]
            if section == "numbers":
                tol = item.get("tolerance")
                if isinstance(tol, str) and tol not in tolerances:
                    errors.append(f"{where}: tolerance {tol!r} is not defined under tolerances")
                if "source" in item:
                    errors += [
                        f"{where}: {e}"
                        for e in _check_source(item["source"], tolerances.get(tol, {}) if isinstance(tol, str) else tol)
                    ]
                if "ours" in item:
                    errors += [f"{where}: {e}" for e in _check_operand(item["ours"])]
                tol_d = tolerances.get(tol) if isinstance(tol, str) else tol
                if isinstance(tol_d, dict) and tol_d.get("criterion", "tolerance") not in NUMBER_CRITERIA:
                    errors.append(f"{where}: criterion {tol_d.get('criterion')!r} not one of {NUMBER_CRITERIA}")
                if isinstance(tol_d, dict) and tol_d.get("criterion") == "fisher_z" and "n_published" not in item:
                    errors.append(f"{where}: a fisher_z rule needs n_published (the published correlation's n)")
                if "earlier" in item:
                    e_ = item["earlier"]
                    if not isinstance(e_, dict) or e_.get("tolerance") not in tolerances or "until" not in e_:
                        errors.append(
                            f"{where}: earlier needs {{tolerance: <a defined tolerance>, until: <date>, ours?: ...}}"
                        )
            else:
                errors += [f"{where}: {e}" for e in _check_basis(item)]
                if "check" in item:
                    errors += [f"{where}: {e}" for e in _check_check(item["check"])]
    ids = {it.get("id") for sec in ("numbers", "claims") for it in (pub.get(sec) or []) if isinstance(it, dict)}
    for section in ("numbers", "claims"):
        for item in pub.get(section) or []:
            if not isinstance(item, dict):
                continue
            for key in ("duplicate_of", "superseded_by"):
                if key in item and item[key] not in ids:
                    errors.append(f"{section} ({item.get('id')}): {key} {item[key]!r} is not an id of this file")
            if "duplicate_of" in item and "superseded_by" in item:
                errors.append(f"{section} ({item.get('id')}): an item is a duplicate or superseded, not both")
            if "superseded_by" in item and not str(item.get("superseded_why") or "").strip():
                errors.append(f"{section} ({item.get('id')}): superseded_by needs superseded_why (what was wrong)")
            if item.get("after_results") and "added" not in item:
                errors.append(f"{section} ({item.get('id')}): after_results needs the date it was added (added:)")
    if errors:
        raise PublishedFileError("config/published.yaml: " + "; ".join(errors))


def _check_source(src: Any, tol: Any) -> list[str]:
    """A published number says where it is printed; one read off a figure has a tolerance marked figure_read."""
    if not isinstance(src, dict) or src.get("kind") not in SOURCE_KINDS or not str(src.get("where") or "").strip():
        return [f"source must be {{kind: {'|'.join(SOURCE_KINDS)}, where: <text>}}, got {src!r}"]
    if src["kind"] == "figure" and not (isinstance(tol, dict) and tol.get("figure_read")):
        return ["a value read off a figure needs a tolerance marked figure_read: true (looser, stated)"]
    return []


def _check_basis(item: dict) -> list[str]:
    """A claim says whether the paper states its test (basis: paper) or how we operationalise it (our_test)."""
    has_basis, has_ours = "basis" in item, bool(str(item.get("our_test") or "").strip())
    if has_basis == has_ours:
        return ["a claim needs exactly one of basis: paper (the paper states the test) or our_test: <how we test it>"]
    if has_basis and item["basis"] != "paper":
        return [f"basis must be 'paper', got {item['basis']!r} (use our_test: ... for a test of ours)"]
    return []


def source_text(src: dict | None) -> str:
    """'App. table 1 (table)': the published value's place in the paper (or the authors' code) and its kind."""
    if not src:
        return ""
    return f"{src['where']} ({SOURCE_LABELS.get(src['kind'], src['kind'])})"


def claim_statement(item: dict) -> str:
    """The claim as the scorecard prints it: the paper's statement, then how it is tested."""
    text = (
        f"{item['claim']}. Our test: {item['our_test']}"
        if item.get("our_test")
        else f"{item['claim']} [the paper's own test]"
    )
    return text + link_note(item)


def link_note(item: dict) -> str:
    """' (Superseded 2026-12-06 by <id>: why)' / ' (Repeats the test of <id>: why)' / '' (issue 28)."""
    if "superseded_by" in item:
        return f" (Superseded {item.get('superseded_on', '')} by {item['superseded_by']}: {item.get('superseded_why', '')})"
    if "duplicate_of" in item:
        return (
            f" (Repeats the test of {item['duplicate_of']}"
            + (f": {item['duplicate_why']}" if item.get("duplicate_why") else "")
            + ")"
        )
    return ""


def _check_operand(op: Any) -> list[str]:
    if isinstance(op, str) or (isinstance(op, list) and op and all(isinstance(x, str) for x in op)):
        return []
    if not isinstance(op, dict):
        return [f"operand {op!r} is neither a stats name nor a mapping"]
    if "diff" in op:
        d = op["diff"]
        if not (isinstance(d, list) and len(d) == 2):
            return [f"diff needs two operands, got {d!r}"]
        return _check_operand(d[0]) + _check_operand(d[1])
    if "stat" not in op:
        return [f"operand {op!r} has neither 'stat' nor 'diff'"]
    if op.get("field", "value") not in FIELDS:
        return [f"field {op.get('field')!r} not one of {FIELDS}"]
    return []


def _check_check(chk: Any) -> list[str]:
    if not isinstance(chk, dict):
        return [f"check {chk!r} is not a mapping"]
    if "all" in chk:
        return [e for c in chk["all"] for e in _check_check(c)]
    for key in ("above", "tost"):
        if key in chk:
            ops = chk[key]
            if not (isinstance(ops, list) and len(ops) == 2):
                return [f"{key} needs two operands [a, b] (b may be a number), got {ops!r}"]
            errs = [e for o in ops if not isinstance(o, (int, float)) for e in _check_operand(o)]
            if key == "tost" and not float(chk.get("margin", 0)) > 0:
                errs.append("tost needs a margin > 0")
            if "alpha" not in chk:
                errs.append(f"{key} needs alpha")
            return errs
    if "test" in chk:
        if ("p_below" in chk) == ("p_above" in chk):
            return ["a test check needs exactly one of p_below / p_above"]
        if chk.get("sign", "any") not in ("positive", "negative", "any"):
            return [f"sign {chk.get('sign')!r} not positive|negative|any"]
        return _check_operand(chk["test"])
    if "left" in chk:
        errs = _check_operand(chk["left"])
        if chk.get("op") not in OPS:
            errs.append(f"op {chk.get('op')!r} not one of {OPS}")
        if ("right" in chk) == ("value" in chk):
            errs.append("a comparison needs exactly one of right / value")
        elif "right" in chk:
            errs += _check_operand(chk["right"])
        if chk.get("op") == "~" and "margin" not in chk:
            errs.append("op '~' needs a margin")
        return errs
    return [f"check {chk!r} is none of left/op, test, above, tost, all"]


# ----------------------------------------------------------------------------- tolerances


def tolerance_of(item: dict, tolerances: dict) -> dict:
    tol = item["tolerance"]
    return dict(tolerances[tol]) if isinstance(tol, str) else dict(tol)


def describe_tolerance(tol: dict, unit: str) -> str:
    crit = tol.get("criterion", "tolerance")
    u = "points" if unit == "%" else unit
    if crit == "significance":
        return f"direction and significance only: same sign, p < {tol.get('alpha', 0.05):g}"
    if crit == "nonsignificant":
        return f"direction and significance only: p >= {tol.get('alpha', 0.05):g}"
    if crit == "mean":
        return (
            f"within noise: |diff| <= {tol.get('sem_mult', 2):g} combined SEM; close: |diff| <= {tol['practical']:g} {u}"
            + ("; opposite sign: not reproduced" if tol.get("same_sign") else "")
        )
    if crit == "fisher_z":
        return (
            f"within noise: |z diff| <= {tol.get('z_mult', 2):g} x sqrt(1/(n-3) + 1/(n_pub-3)) (Fisher z); "
            f"close: |r diff| <= {tol['practical']:g}"
        )
    if crit == "same_data":
        return f"same data: |diff| <= {tol['abs']:g} (rounding only)"
    if crit == "run_spread":
        return (
            f"within run-to-run spread: |mean - published| <= {tol.get('sd_mult', 2):g} SD_seeds x sqrt(1 + 1/n); "
            f"close: <= {tol['practical']:g}"
        )
    parts = []
    if "abs" in tol:
        parts.append(f"±{tol['abs']:g} {'points' if unit == '%' else unit}".rstrip())
    if "rel" in tol:
        parts.append(f"+-{100 * tol['rel']:g}%")
    if "sem_mult" in tol:
        parts.append(f"{tol['sem_mult']:g} combined SEM")
    return " or ".join(parts) + (" (looser: read off a figure)" if tol.get("figure_read") else "")
