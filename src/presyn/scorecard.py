"""The reproduction scorecard: published numbers and claims beside ours, with a verdict each.

Everything published lives in ``config/published.yaml`` (the only place numbers of the paper are
typed in); everything of ours comes from the stats rows ``results/stats/<figure>.csv``
(``presyn.stats.COLUMNS``). This module is pure: it loads and checks the published file, evaluates
each item against a stats table, and renders the results as CSV, Markdown and HTML.

Verdicts:
    ``reproduced``      ours is within the item's tolerance (numbers) or the claim holds (claims);
    ``not reproduced``  it is not;
    ``not run``         the stats row is absent (figure disabled, analysis missing, too few replicates,
                        a NaN) or stands on synthetic stand-in data;
    ``invalid``         the row exists but contradicts the declared unit (a bug to fix, never a result).

Published-file grammar (see the header of ``config/published.yaml``):

numbers: ``{id, figure, what, published, published_sem?, n_published?, unit, tolerance, ours, source}``
    ``source``: where the published value is printed, ``{kind: table|text|caption|figure|code, where: "..."}``
    (``figure``: read off a plot by eye; its tolerance must be one marked ``figure_read: true``, looser;
    ``code``: the printed output of the authors' code, the paper itself prints no number).
    ``ours``: a stats name (or a list of alternative names, the first present wins), or ``{stat: name | [alternatives], field?: value|statistic|p_value|sem,
    unit?: fraction|%|points|..., scale?: float}``, or ``{diff: [a, b], unit?, scale?}`` (value of a
    minus value of b, SEM combined in quadrature).
    ``tolerance``: the name of an entry of ``tolerances`` or an inline mapping:
    ``{abs: x, sem_mult: k}`` (reproduced iff |ours - published| <= x or <= k * combined SEM),
    ``{criterion: significance, alpha: a}`` (same sign as published and our p < a),
    ``{criterion: nonsignificant, alpha: a}`` (our p >= a).
claims: ``{id, figure, claim, basis: paper | our_test: "...", check}``: ``basis: paper`` when the paper itself
    states the test and threshold that ``check`` applies; otherwise ``our_test`` says in words how we
    operationalise the statement (a test, threshold or reading the paper does not give). Check one of
    ``{left: operand, op: OP, right: operand | value: number, margin?: m}``, OP in > >= < <= ~
    (``>``: l > r + m; ``>=``: l >= r - m; ``<``: l < r - m; ``<=``: l <= r + m; ``~``: |l - r| <= m);
    ``{test: operand, p_below: a, sign?: positive|negative|any}`` (sign of the statistic);
    ``{test: operand, p_above: a}``;
    ``{all: [check, ...]}``.
"""

from __future__ import annotations

import html
import logging
import math
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd
import yaml

from presyn.stats import COLUMNS

log = logging.getLogger(__name__)

REPRODUCED, NOT_REPRODUCED, NOT_RUN, INVALID = "reproduced", "not reproduced", "not run", "invalid"
CLOSE = "close"  # a number outside its noise but inside the stated practical margin (issue 28)
VERDICTS = (REPRODUCED, CLOSE, NOT_REPRODUCED, NOT_RUN, INVALID)
# how an item counts in the summary (issue 28): each distinct test once
CURRENT, DUPLICATE, SUPERSEDED = "current", "duplicate", "superseded"
# number criteria with a noise bound and a practical margin (three-level verdicts), and the others
NUMBER_CRITERIA = ("tolerance", "significance", "nonsignificant", "mean", "fisher_z", "same_data", "run_spread")

# unit of our stats row -> unit of the published number: multiply by this
UNIT_FACTORS = {
    ("fraction", "%"): 100.0,
    ("fraction", "points"): 100.0,
    ("%", "fraction"): 0.01,
    ("points", "fraction"): 0.01,
    ("%", "points"): 1.0,
    ("points", "%"): 1.0,
}
# a row declared in these units must lie in this range (a fraction of 73.2 is a unit bug)
UNIT_RANGES = {"fraction": (-1.0, 1.0), "%": (-100.0, 100.0), "points": (-100.0, 100.0), "p": (0.0, 1.0),
               "r": (-1.0, 1.0), "D": (0.0, 1.0)}
OPS = (">", ">=", "<", "<=", "~")
FIELDS = ("value", "statistic", "p_value", "sem")

CSV_COLUMNS = ["kind", "id", "figure", "statement", "unit", "published", "published_sem", "published_source", "ours",
               "ours_sem", "n", "difference", "tolerance", "verdict", "source", "detail",
               "status", "counted_under", "added", "after_results", "earlier_verdict", "earlier_rule"]
SOURCE_KINDS = ("table", "text", "caption", "figure", "code")
SOURCE_LABELS = {"table": "table", "text": "text", "caption": "caption", "figure": "read off a figure",
                 "code": "authors' code output"}


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
            need = ("id", "figure", "what", "published", "unit", "tolerance", "ours", "source") if section == "numbers" \
                else ("id", "figure", "claim", "check")
            errors += [f"{where}: missing key {k!r}" for k in need if k not in item]
            if section == "numbers":
                tol = item.get("tolerance")
                if isinstance(tol, str) and tol not in tolerances:
                    errors.append(f"{where}: tolerance {tol!r} is not defined under tolerances")
                if "source" in item:
                    errors += [f"{where}: {e}" for e in _check_source(item["source"], tolerances.get(tol, {})
                                                                       if isinstance(tol, str) else tol)]
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
                        errors.append(f"{where}: earlier needs {{tolerance: <a defined tolerance>, until: <date>, ours?: ...}}")
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
    text = f"{item['claim']}. Our test: {item['our_test']}" if item.get("our_test") else f"{item['claim']} [the paper's own test]"
    return text + link_note(item)


def link_note(item: dict) -> str:
    """' (Superseded 2026-12-06 by <id>: why)' / ' (Repeats the test of <id>: why)' / '' (issue 28)."""
    if "superseded_by" in item:
        return f" (Superseded {item.get('superseded_on', '')} by {item['superseded_by']}: {item.get('superseded_why', '')})"
    if "duplicate_of" in item:
        return f" (Repeats the test of {item['duplicate_of']}" + (f": {item['duplicate_why']}" if item.get("duplicate_why") else "") + ")"
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


def load_stats(paths: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, list[str]]:
    """Concatenate the stats tables that exist; return them and the paths that were missing."""
    frames, missing = [], []
    for p in paths:
        p = Path(p)
        if not p.exists():
            missing.append(str(p))
            continue
        df = pd.read_csv(p)
        for col in COLUMNS:
            if col not in df:
                df[col] = None
        df["source_file"] = str(p)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=COLUMNS + ["source_file"]), missing
    return pd.concat(frames, ignore_index=True), missing


# ----------------------------------------------------------------------------- operands


@dataclass
class Observed:
    """One resolved operand: our value (in the published unit), its SEM, n, p and where it came from."""

    value: float
    sem: float = float("nan")
    n: str = ""
    p_value: float = float("nan")
    statistic: float = float("nan")
    source: str = ""
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)


class Unresolved(Exception):
    """An operand cannot be evaluated; the message says why (verdict 'not run' or 'invalid')."""

    def __init__(self, message: str, verdict: str = NOT_RUN, source: str = "") -> None:
        super().__init__(message)
        self.verdict = verdict
        self.source = source


def _f(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return float("nan")


def _is_nan(x: float) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _names(stat: str | list[str]) -> list[str]:
    return [stat] if isinstance(stat, str) else list(stat)


def find_row(stats: pd.DataFrame, stat: str | list[str]) -> tuple[pd.Series | None, list[str]]:
    """The first of the alternative names present in the stats table (and notes about ambiguity)."""
    names = stats["name"].astype(str) if len(stats) else pd.Series([], dtype=str)
    for name in _names(stat):
        hits = stats[names == name]
        if len(hits):
            notes = [f"{len(hits)} rows named {name}; used the first"] if len(hits) > 1 else []
            return hits.iloc[0], notes
    return None, []


def _is_synthetic(row: pd.Series) -> bool:
    """A row computed on synthetic stand-in data: ``data=synthetic`` in its groups, or SYNTHETIC in its detail."""
    groups = [g.strip().lower() for g in str(row.get("groups") or "").split(";")]
    return "data=synthetic" in groups or "SYNTHETIC" in str(row.get("detail") or "")


def resolve(stats: pd.DataFrame, operand: Any, unit: str | None = None) -> Observed:
    """Evaluate an operand against the stats table, converted to ``unit`` (the published unit)."""
    if isinstance(operand, (str, list)):
        operand = {"stat": operand}
    if "diff" in operand:
        a = resolve(stats, operand["diff"][0], operand.get("unit"))
        b = resolve(stats, operand["diff"][1], operand.get("unit"))
        factor = _unit_factor(operand.get("unit"), unit) * float(operand.get("scale", 1.0))
        sem = math.sqrt(np.nansum([a.sem ** 2, b.sem ** 2])) if not (_is_nan(a.sem) and _is_nan(b.sem)) else float("nan")
        return Observed(value=(a.value - b.value) * factor, sem=sem * abs(factor), n=f"{a.n} vs {b.n}",
                        source=f"{a.source} - {b.source}", synthetic=a.synthetic or b.synthetic, notes=a.notes + b.notes)
    row, notes = find_row(stats, operand["stat"])
    names = " | ".join(_names(operand["stat"]))
    if row is None:
        raise Unresolved(f"no stats row {names}", source=names)
    name = str(row["name"])
    fld = operand.get("field", "value")
    raw = _f(row.get(fld))
    if _is_nan(raw):
        why = str(row.get("detail") or "") if not pd.isna(row.get("detail")) else ""
        raise Unresolved(f"{name}: {fld} is NaN" + (f" ({why})" if why else ""), source=name)
    src_unit = operand.get("unit")
    if src_unit in UNIT_RANGES and fld in ("value", "sem"):
        lo, hi = UNIT_RANGES[src_unit]
        if not lo <= raw <= hi:
            raise Unresolved(f"{name}: {fld} = {raw:g} is outside [{lo:g}, {hi:g}] for unit {src_unit!r}; "
                             f"fix the unit in config/published.yaml or the analysis", verdict=INVALID, source=name)
    factor = _unit_factor(src_unit, unit) * float(operand.get("scale", 1.0))
    sem = _f(row.get("sem")) if fld == "value" else float("nan")
    n = row.get("n")
    n_str = "" if pd.isna(n) else str(int(_f(n))) if not _is_nan(_f(n)) else str(n)
    stat_value = _f(row.get("statistic"))
    return Observed(value=raw * factor, sem=abs(sem * factor), n=n_str, p_value=_f(row.get("p_value")),
                    statistic=stat_value * (1.0 if float(operand.get("scale", 1.0)) >= 0 else -1.0),
                    source=name, synthetic=_is_synthetic(row), notes=notes)


def _unit_factor(src: str | None, dst: str | None) -> float:
    if src is None or dst is None or src == dst:
        return 1.0
    try:
        return UNIT_FACTORS[(src, dst)]
    except KeyError:
        raise PublishedFileError(f"no conversion from unit {src!r} to {dst!r}") from None


# ----------------------------------------------------------------------------- numbers


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
        return (f"within noise: |diff| <= {tol.get('sem_mult', 2):g} combined SEM; close: |diff| <= {tol['practical']:g} {u}"
                + ("; opposite sign: not reproduced" if tol.get("same_sign") else ""))
    if crit == "fisher_z":
        return (f"within noise: |z diff| <= {tol.get('z_mult', 2):g} x sqrt(1/(n-3) + 1/(n_pub-3)) (Fisher z); "
                f"close: |r diff| <= {tol['practical']:g}")
    if crit == "same_data":
        return f"same data: |diff| <= {tol['abs']:g} (rounding only)"
    if crit == "run_spread":
        return (f"within run-to-run spread: |mean - published| <= {tol.get('sd_mult', 2):g} SD_seeds x sqrt(1 + 1/n); "
                f"close: <= {tol['practical']:g}")
    parts = []
    if "abs" in tol:
        parts.append(f"±{tol['abs']:g} {'points' if unit == '%' else unit}".rstrip())
    if "rel" in tol:
        parts.append(f"+-{100 * tol['rel']:g}%")
    if "sem_mult" in tol:
        parts.append(f"{tol['sem_mult']:g} combined SEM")
    return " or ".join(parts) + (" (looser: read off a figure)" if tol.get("figure_read") else "")


def _n_int(n: Any) -> int | None:
    try:
        return int(float(str(n).split()[0]))
    except (TypeError, ValueError, IndexError):
        return None


def _three_level(inside_noise: bool, dist: float, practical: float, noise_text: str) -> tuple[str, str]:
    if inside_noise:
        return REPRODUCED, noise_text + "; within noise"
    if dist <= practical + 1e-12:
        return CLOSE, noise_text + f"; outside noise, inside the practical margin {practical:g}"
    return NOT_REPRODUCED, noise_text + f"; outside noise and the practical margin {practical:g}"


def judge(published: float, published_sem: float | None, ours: Observed, tol: dict,
          n_published: int | None = None) -> tuple[str, str]:
    """Verdict of one number and the reason, by the tolerance's criterion."""
    crit = tol.get("criterion", "tolerance")
    if crit == "mean":
        diff = ours.value - published
        if tol.get("same_sign") and np.sign(ours.value) != np.sign(published):
            return NOT_REPRODUCED, f"ours {ours.value:+.3g} has the opposite sign of the published {published:+.3g}"
        have = [s for s in (ours.sem, published_sem) if s is not None and not _is_nan(s)]
        comb = math.sqrt(sum(s * s for s in have)) if have else float("nan")
        k = float(tol.get("sem_mult", 2.0))
        which = ("ours and published" if len(have) == 2 else "ours only (no published SEM)" if not _is_nan(ours.sem)
                 else "published only (no SEM of ours)" if have else "none")
        if _is_nan(comb) or comb <= 0:
            return _three_level(False, abs(diff), float(tol["practical"]), f"|diff| {abs(diff):.3g}; no SEM to judge noise")
        return _three_level(abs(diff) <= k * comb + 1e-12, abs(diff), float(tol["practical"]),
                            f"|diff| {abs(diff):.3g} = {abs(diff) / comb:.2g} combined SEM ({which}; bound {k:g})")
    if crit == "fisher_z":
        n_o = _n_int(ours.n)
        if n_o is None or n_published is None or n_o <= 3 or n_published <= 3:
            return NOT_RUN, "Fisher z needs n > 3 for ours and the published r"
        from presyn.stats import fisher_z_distance
        dz, se = fisher_z_distance(ours.value, n_o, published, n_published)
        k = float(tol.get("z_mult", 2.0))
        return _three_level(dz <= k * se, abs(ours.value - published), float(tol["practical"]),
                            f"Fisher z distance {dz:.3g} = {dz / se:.2g} SE (n {n_o} vs {n_published}; bound {k:g}); "
                            f"|r diff| {abs(ours.value - published):.3g}")
    if crit == "same_data":
        d = abs(ours.value - published)
        ok = d <= float(tol["abs"]) + 1e-12
        return (REPRODUCED if ok else NOT_REPRODUCED), f"same data: |diff| {d:.3g} {'<=' if ok else '>'} {float(tol['abs']):g}"
    if crit == "run_spread":
        n_o = _n_int(ours.n)
        if n_o is None or n_o < 2 or _is_nan(ours.sem):
            return NOT_RUN, "the spread over seeds needs a summary row with n >= 2 and an SEM"
        sd = ours.sem * math.sqrt(n_o)
        bound = float(tol.get("sd_mult", 2.0)) * sd * math.sqrt(1 + 1 / n_o)
        d = abs(ours.value - published)
        return _three_level(d <= bound + 1e-12, d, float(tol["practical"]),
                            f"|mean of {n_o} seeds - published| {d:.3g}; SD over seeds {sd:.3g}, bound {bound:.3g}")
    if crit == "significance":
        alpha = float(tol.get("alpha", 0.05))
        p = ours.p_value
        if _is_nan(p):
            return NOT_RUN, "no p-value in our stats row"
        same_sign = np.sign(ours.value) == np.sign(published)
        ok = bool(same_sign and p < alpha)
        return (REPRODUCED if ok else NOT_REPRODUCED), \
            f"ours {ours.value:+.3g} (p = {p:.3g}); published {published:+.3g}: " + \
            ("same sign" if same_sign else "opposite sign") + f", p {'<' if p < alpha else '>='} {alpha:g}"
    if crit == "nonsignificant":
        alpha = float(tol.get("alpha", 0.05))
        p = ours.value
        ok = p >= alpha
        return (REPRODUCED if ok else NOT_REPRODUCED), f"p = {p:.3g} {'>=' if ok else '<'} {alpha:g}"
    diff = ours.value - published
    reasons, ok = [], False
    if "abs" in tol:
        inside = abs(diff) <= float(tol["abs"]) + 1e-12
        ok |= inside
        reasons.append(f"|diff| {abs(diff):.3g} {'<=' if inside else '>'} {float(tol['abs']):g}")
    if "rel" in tol:
        inside = abs(diff) <= float(tol["rel"]) * abs(published) + 1e-12
        ok |= inside
        reasons.append(f"relative {abs(diff) / abs(published) if published else float('inf'):.2%}")
    if "sem_mult" in tol:
        sems = [s for s in (ours.sem, published_sem) if s is not None and not _is_nan(s)]
        if sems:
            comb = math.sqrt(sum(s * s for s in sems))
            inside = comb > 0 and abs(diff) <= float(tol["sem_mult"]) * comb + 1e-12
            ok |= inside
            reasons.append(f"{abs(diff) / comb if comb > 0 else float('inf'):.2g} combined SEM")
    return (REPRODUCED if ok else NOT_REPRODUCED), "; ".join(reasons)


def evaluate_number(item: dict, stats: pd.DataFrame, tolerances: dict, disabled: dict[str, str] | None = None) -> dict:
    """One row of the scorecard for a published number: its verdict by today's rule and, where the rule changed
    (``earlier``), the verdict the earlier rule gives, shown beside it."""
    row = _evaluate_number(item, stats, tolerances, disabled)
    row.update(_status_fields(item))
    if "earlier" in item:
        e = item["earlier"]
        old = {**item, "tolerance": e["tolerance"], "ours": e.get("ours", item["ours"])}
        old.pop("published_t", None) if e.get("without_published_t") else None
        prev = _evaluate_number(old, stats, tolerances, disabled)
        row["earlier_verdict"] = prev["verdict"]
        row["earlier_rule"] = f"until {e['until']}: {prev['tolerance']}" + (f" on {prev['source']}" if e.get("ours") else "")
    return row


def _status_fields(item: dict) -> dict:
    status = DUPLICATE if "duplicate_of" in item else SUPERSEDED if "superseded_by" in item else CURRENT
    under = item.get("duplicate_of") or item.get("superseded_by") or ""
    return {"status": status, "counted_under": under, "added": str(item.get("added", "")),
            "after_results": bool(item.get("after_results", False)), "earlier_verdict": "", "earlier_rule": ""}


def _evaluate_number(item: dict, stats: pd.DataFrame, tolerances: dict, disabled: dict[str, str] | None = None) -> dict:
    """One row of the scorecard for a published number, by the item's tolerance."""
    unit = item["unit"]
    tol = tolerance_of(item, tolerances)
    pub_sem = _f(item.get("published_sem"))
    if _is_nan(pub_sem) and item.get("published_t"):  # a difference printed with its t: SEM = difference / t
        pub_sem = abs(float(item["published"]) / float(item["published_t"]))
    row = {"kind": "number", "id": item["id"], "figure": item["figure"], "statement": item["what"] + link_note(item), "unit": unit,
           "published": float(item["published"]), "published_sem": pub_sem,
           "published_source": source_text(item.get("source")), "ours": float("nan"), "ours_sem": float("nan"), "n": "", "difference": float("nan"),
           "tolerance": describe_tolerance(tol, unit), "verdict": NOT_RUN, "source": "", "detail": ""}
    try:
        ours = resolve(stats, item["ours"], unit)
    except Unresolved as e:
        row.update(verdict=e.verdict, source=e.source, detail=_why_missing(item["figure"], str(e), disabled))
        return row
    row.update(ours=ours.value, ours_sem=ours.sem, n=ours.n, source=ours.source)
    if tol.get("criterion") not in ("significance", "nonsignificant"):
        row["difference"] = ours.value - row["published"]
    verdict, reason = judge(row["published"], row["published_sem"], ours, tol, item.get("n_published"))
    notes = list(ours.notes)
    if ours.synthetic:
        verdict, notes = NOT_RUN, notes + ["SYNTHETIC stand-in data: not a reproduction"]
    row.update(verdict=verdict, detail="; ".join([reason] + notes + ([item["note"]] if item.get("note") else [])))
    return row


def _why_missing(figure: str, message: str, disabled: dict[str, str] | None) -> str:
    if disabled and figure in disabled:
        return f"{disabled[figure]} ({message})"
    return message


# ----------------------------------------------------------------------------- claims


def _fmt(x: float) -> str:
    return "nan" if _is_nan(x) else f"{x:.4g}"


def evaluate_check(chk: dict, stats: pd.DataFrame) -> tuple[str, str, list[str], bool]:
    """(verdict, what we found, stats names used, synthetic?) of one check."""
    if "all" in chk:
        parts = [evaluate_check(c, stats) for c in chk["all"]]
        verdicts = [p[0] for p in parts]
        verdict = INVALID if INVALID in verdicts else NOT_REPRODUCED if NOT_REPRODUCED in verdicts \
            else NOT_RUN if NOT_RUN in verdicts else REPRODUCED
        return verdict, " AND ".join(f"[{p[1]}]" for p in parts), [s for p in parts for s in p[2]], any(p[3] for p in parts)
    if "above" in chk or "tost" in chk:
        return _summary_test(chk, stats)
    if "test" in chk:
        try:
            t = resolve(stats, chk["test"])
        except Unresolved as e:
            return e.verdict, str(e), [e.source], False
        p = t.p_value
        stat = t.statistic if not _is_nan(t.statistic) else t.value
        if _is_nan(p):
            return NOT_RUN, f"{t.source}: no p-value", [t.source], t.synthetic
        if "p_above" in chk:
            alpha = float(chk["p_above"])
            ok = p >= alpha
            return (REPRODUCED if ok else NOT_REPRODUCED), f"{t.source}: p = {p:.3g} {'>=' if ok else '<'} {alpha:g}", \
                [t.source], t.synthetic
        alpha = float(chk["p_below"])
        sign = chk.get("sign", "any")
        sign_ok = sign == "any" or (sign == "positive" and stat > 0) or (sign == "negative" and stat < 0)
        ok = p < alpha and sign_ok
        found = f"{t.source}: statistic {_fmt(stat)}, p = {p:.3g} {'<' if p < alpha else '>='} {alpha:g}"
        if sign != "any":
            found += f", sign {'ok' if sign_ok else 'wrong'} (want {sign})"
        return (REPRODUCED if ok else NOT_REPRODUCED), found, [t.source], t.synthetic
    # comparison
    try:
        left = resolve(stats, chk["left"])
        right = resolve(stats, chk["right"]) if "right" in chk else Observed(value=float(chk["value"]), source=str(chk["value"]))
    except Unresolved as e:
        return e.verdict, str(e), [e.source], False
    l, r, m, op = left.value, right.value, float(chk.get("margin", 0.0)), chk["op"]
    ok = {">": l > r + m, ">=": l >= r - m, "<": l < r - m, "<=": l <= r + m, "~": abs(l - r) <= m}[op]
    shown = (f"{left.source} = {_fmt(l)}, {right.source} = {_fmt(r)}: '{op}'" + (f" (margin {m:g})" if m else "")
             + (" holds" if ok else " does NOT hold"))
    names = [left.source] + ([right.source] if "right" in chk else [])
    return (REPRODUCED if ok else NOT_REPRODUCED), shown, names, left.synthetic or right.synthetic


def _operand_or_constant(stats: pd.DataFrame, op: Any) -> tuple[Observed, int | None]:
    if isinstance(op, (int, float)) and not isinstance(op, bool):
        return Observed(value=float(op), sem=0.0, source=f"{op:g}"), None
    o = resolve(stats, op)
    scale = float(op.get("scale", 1.0)) if isinstance(op, dict) else 1.0
    if scale != 1.0:
        o.source = f"{scale:g} x {o.source}"
    return o, _n_int(o.n)


def _summary_test(chk: dict, stats: pd.DataFrame) -> tuple[str, str, list[str], bool]:
    """``above``: one-sided (Welch) t-test from summary rows (mean, SEM, n over seeds) of H1: a - b > margin, or a
    one-sample test where one side is a number; ``tost``: two one-sided tests of |a - b| < margin. Reproduced iff
    p < alpha (presyn.stats.one_sided_from_stats / tost_from_stats)."""
    from presyn import stats as st

    key = "above" if "above" in chk else "tost"
    try:
        (a, na), (b, nb) = (_operand_or_constant(stats, o) for o in chk[key])
    except Unresolved as e:
        return e.verdict, str(e), [e.source], False
    names = [o.source for o, n in ((a, na), (b, nb)) if n is not None]
    synthetic = a.synthetic or b.synthetic
    margin, alpha = float(chk.get("margin", 0.0)), float(chk["alpha"])
    if (na is None and nb is None) or any(n is not None and (n < 2 or _is_nan(o.sem)) for o, n in ((a, na), (b, nb))):
        return NOT_RUN, f"{' vs '.join(names) or 'constants'}: a test over replicates needs summary rows with n >= 2 and an SEM", names, synthetic
    # put the replicated side first when only one side is replicated (one-sample)
    flip = na is None
    (x, nx), (y, ny) = ((b, nb), (a, na)) if flip else ((a, na), (b, nb))
    diff = a.value - b.value
    if key == "above":
        se, df = st.welch_from_stats(x.value, x.sem, nx, y.value, y.sem if ny else None, ny)
        if se == 0:
            p, t = (0.0 if diff > margin else 1.0), float("inf") if diff > margin else float("-inf")
        else:
            t = (diff - margin) / se
            p = float(st.sps.t.sf(t, df))
        ok = p < alpha
        found = (f"{a.source} - {b.source} = {_fmt(diff)} (SE {_fmt(se)}, df {df:.3g}); one-sided H1: > {margin:g}: "
                 f"t = {_fmt(t)}, p = {p:.3g} {'<' if ok else '>='} {alpha:g}")
    else:
        p, tl, tu, df = st.tost_from_stats(x.value, x.sem, nx, y.value, y.sem if ny else None, ny, margin)
        se = st.welch_from_stats(x.value, x.sem, nx, y.value, y.sem if ny else None, ny)[0]
        if se == 0:
            p = 0.0 if abs(diff) < margin else 1.0
        ok = p < alpha
        found = (f"{a.source} - {b.source} = {_fmt(diff)} (SE {_fmt(se)}, df {df:.3g}); TOST margin ±{margin:g}: "
                 f"p = {p:.3g} {'<' if ok else '>='} {alpha:g} ({'equivalent' if ok else 'equivalence not shown'})")
    return (REPRODUCED if ok else NOT_REPRODUCED), found, names, synthetic


def evaluate_claim(item: dict, stats: pd.DataFrame, disabled: dict[str, str] | None = None) -> dict:
    verdict, found, names, synthetic = evaluate_check(item["check"], stats)
    detail = found
    if verdict == NOT_RUN:
        detail = _why_missing(item["figure"], found, disabled)
    if synthetic and verdict != INVALID:
        verdict, detail = NOT_RUN, detail + "; SYNTHETIC stand-in data: not a reproduction"
    return {"kind": "claim", "id": item["id"], "figure": item["figure"], "statement": claim_statement(item), "unit": "",
            "published": float("nan"), "published_sem": float("nan"), "published_source": "", "ours": float("nan"), "ours_sem": float("nan"),
            "n": "", "difference": float("nan"), "tolerance": "", "verdict": verdict,
            "source": ", ".join(dict.fromkeys(n for n in names if n)), "detail": detail, **_status_fields(item)}


# ----------------------------------------------------------------------------- the whole card


def scorecard(published: dict, stats: pd.DataFrame, disabled: dict[str, str] | None = None) -> pd.DataFrame:
    """Every number and claim of the published file, evaluated against the stats table."""
    tolerances = published.get("tolerances") or {}
    rows = [evaluate_number(it, stats, tolerances, disabled) for it in published.get("numbers") or []]
    rows += [evaluate_claim(it, stats, disabled) for it in published.get("claims") or []]
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def counts(card: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Verdicts per kind over every row (duplicates and superseded rows included); ``distinct_counts`` counts tests."""
    return {kind: {v: int(((card["kind"] == kind) & (card["verdict"] == v)).sum()) for v in VERDICTS}
            for kind in ("number", "claim")}


def _status(card: pd.DataFrame) -> pd.Series:
    return card["status"].fillna(CURRENT).replace("", CURRENT) if "status" in card else pd.Series(CURRENT, index=card.index)


def distinct_counts(card: pd.DataFrame) -> dict:
    """Each distinct test once (issue 28). A row with status ``duplicate`` repeats the test of the item it names
    (``counted_under``) and is counted there, once; a ``superseded`` row (an earlier, weaker test whose verdict had
    been seen) is shown beside the test that replaced it and counted apart, never in the headline. Returns, per kind,
    the verdict counts of the current distinct tests, the number of duplicate rows, the verdict counts of the
    superseded rows, and how many counted tests were added after their results were known."""
    st = _status(card)
    after = card["after_results"].astype(str).str.lower().isin(("true", "1")) if "after_results" in card else st == "x"
    out = {}
    for kind in ("number", "claim"):
        k = card["kind"] == kind
        cur = card[k & (st == CURRENT)]
        out[kind] = {"current": {v: int((cur["verdict"] == v).sum()) for v in VERDICTS}, "n_current": int(len(cur)),
                     "duplicates": int((k & (st == DUPLICATE)).sum()),
                     "superseded": {v: int((card[k & (st == SUPERSEDED)]["verdict"] == v).sum()) for v in VERDICTS},
                     "n_superseded": int((k & (st == SUPERSEDED)).sum()),
                     "after_results": int((k & (st == CURRENT) & after).sum())}
    return out


def _tally(d: dict[str, int]) -> str:
    s = f"{d[REPRODUCED]} reproduced, {d[CLOSE]} close, {d[NOT_REPRODUCED]} not reproduced, {d[NOT_RUN]} not run"
    return s + (f", {d[INVALID]} INVALID" if d[INVALID] else "")


@dataclass
class RunInfo:
    """What the scorecard says about the run it judges (from config and the environment)."""

    run_label: str = ""
    seeds: list[int] = field(default_factory=list)
    subset: dict | None = None
    code_version: str = ""
    stats_read: list[str] = field(default_factory=list)
    stats_missing: list[str] = field(default_factory=list)
    disabled: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where the stats' inputs came from when not this checkout's runs (reviewer mode: the bundle)
    generated: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    @property
    def toy(self) -> bool:
        return bool(self.run_label) or bool(self.subset)


def summary_line(card: pd.DataFrame) -> str:
    """Distinct tests, each once: published numbers and claims by today's rules; duplicates named; superseded tests
    (shown in the tables) counted apart; how many counted tests were added after their results were known."""
    c = distinct_counts(card)
    parts = []
    for kind, label in (("number", "published numbers"), ("claim", "qualitative claims")):
        d = c[kind]
        extra = []
        if d["duplicates"]:
            extra.append(f"{d['duplicates']} more rows repeat a test counted elsewhere")
        head = f"{label} ({d['n_current']} distinct" + (f"; {'; '.join(extra)}" if extra else "") + f"): {_tally(d['current'])}"
        if d["n_superseded"]:
            sup = d["superseded"]
            head += (f" [+ {d['n_superseded']} superseded earlier tests, shown, not counted: {sup[REPRODUCED]} reproduced, "
                     f"{sup[NOT_REPRODUCED]} not reproduced]")
        parts.append(head)
    after = c["number"]["after_results"] + c["claim"]["after_results"]
    line = "; ".join(parts)
    if after:
        line += f"; {after} of the counted tests were added after the results they judge were known (column after_results)"
    return line


def banner(info: RunInfo) -> str | None:
    if not info.toy:
        return None
    label = info.run_label or "a reduced config"
    return (f"TOY-SIZE RUN: {label}. Data subset {info.subset}, seeds {info.seeds}. These verdicts compare a toy "
            f"run with the paper; 'not reproduced' here is expected and says nothing about the paper's claims. "
            f"Only a run of config/config.yaml (the paper's protocol) can reproduce them.")


def _fmt_num(x: Any, unit: str = "") -> str:
    x = _f(x)
    if _is_nan(x):
        return ""
    a = abs(x)
    s = f"{x:.2f}" if unit in ("%", "points") else f"{x:.4g}" if a < 1000 else f"{x:.5g}"
    return s


def _ours_cell(r: pd.Series) -> str:
    if _is_nan(_f(r["ours"])):
        return ""
    s = _fmt_num(r["ours"], r["unit"])
    if not _is_nan(_f(r["ours_sem"])):
        s += f" ± {_fmt_num(r['ours_sem'], r['unit'])}"
    if r["n"]:
        s += f" (n={r['n']})"
    return s


def _pub_cell(r: pd.Series) -> str:
    s = _fmt_num(r["published"], r["unit"])
    if not _is_nan(_f(r["published_sem"])):
        s += f" ± {_fmt_num(r['published_sem'], r['unit'])}"
    return s


def _text(s: Any) -> str:
    return str(s if s is not None and not (isinstance(s, float) and math.isnan(s)) else "").replace("\n", " ")


def _md_escape(s: Any) -> str:
    return _text(s).replace("|", "\\|")


VERDICT_MARK = {REPRODUCED: "reproduced", CLOSE: "close", NOT_REPRODUCED: "**not reproduced**", NOT_RUN: "_not run_",
                INVALID: "**INVALID**"}


def _status_cell(r: pd.Series) -> str:
    """How the row counts: a distinct test, a repeat of another, or an earlier test replaced (and by which)."""
    st, under = _text(r.get("status")) or CURRENT, _text(r.get("counted_under"))
    added = _text(r.get("added"))
    after = str(r.get("after_results")).lower() in ("true", "1")
    if st == DUPLICATE:
        return f"repeats the test of {under} (counted there)"
    if st == SUPERSEDED:
        return f"superseded by {under} (shown, not counted)"
    s = "distinct test"
    if added:
        s += f", added {added}" + (" after its results were known" if after else "")
    return s


def _earlier_cell(r: pd.Series) -> str:
    ev = _text(r.get("earlier_verdict"))
    return f"{_text(r.get('earlier_rule'))}: {ev}" if ev else ""


def rules_text(published: dict) -> dict[str, str]:
    """Each named tolerance's stated rule (its ``rule`` text, else the generated description) for the scorecard."""
    out = {}
    for name, tol in (published.get("tolerances") or {}).items():
        if tol.get("legacy"):
            continue
        out[name] = str(tol.get("rule") or describe_tolerance(tol, ""))
    return out


def to_markdown(card: pd.DataFrame, info: RunInfo, figures: dict[str, str] | None = None,
                rules: dict[str, str] | None = None) -> str:
    lines = ["# Reproduction scorecard", "",
             "Schug, Benzing & Steger (eLife 2021), *Presynaptic stochasticity improves energy efficiency and helps "
             "alleviate the stability-plasticity dilemma*: every published number and qualitative claim beside ours.", ""]
    b = banner(info)
    if b:
        lines += [f"> **{b}**", ""]
    lines += [f"**Run:** {info.run_label or 'paper protocol (config/config.yaml)'}  "]
    if info.source:
        lines += [f"**Rebuilt from:** {info.source} (tables of that run, stats and verdicts by this code)  "]
    lines += [f"**Summary:** {summary_line(card)}  ",
              f"**Generated:** {info.generated} by code {info.code_version or '?'}; seeds {info.seeds}", ""]
    numbers, claims = card[card["kind"] == "number"], card[card["kind"] == "claim"]
    if rules:
        lines += ["## Rules", "", "Each kind of number is judged by one rule (`tolerances` in `config/published.yaml`):", ""]
        lines += [f"- `{name}`: {text}" for name, text in rules.items()] + [""]
    lines += ["## Published numbers", "",
              "| id | figure | quantity | unit | published | published where | ours (mean ± SEM, n) | difference | rule | verdict | counts as | earlier rule: verdict | detail |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for _, r in numbers.iterrows():
        lines.append("| " + " | ".join(_md_escape(x) for x in (
            r["id"], r["figure"], r["statement"], r["unit"], _pub_cell(r), r["published_source"], _ours_cell(r),
            _fmt_num(r["difference"], r["unit"]), r["tolerance"], VERDICT_MARK.get(r["verdict"], r["verdict"]),
            _status_cell(r), _earlier_cell(r), r["detail"])) + " |")
    lines += ["", "## Qualitative claims", "", "| id | figure | claim | verdict | counts as | what we found |",
              "|---|---|---|---|---|---|"]
    for _, r in claims.iterrows():
        lines.append("| " + " | ".join(_md_escape(x) for x in (
            r["id"], r["figure"], r["statement"], VERDICT_MARK.get(r["verdict"], r["verdict"]), _status_cell(r),
            r["detail"])) + " |")
    lines += ["", "## How to read this", "",
              "- Published numbers come only from `config/published.yaml`; ours only from `results/stats/*.csv` "
              "(column `source` of `results/reproduction.csv` names each stats row).",
              "- Verdicts of numbers have three levels: *reproduced* (within the noise of both numbers), *close* "
              "(outside the noise, inside the stated practical margin), *not reproduced*. Each rule is listed under "
              "Rules; where a number's rule changed, the earlier rule's verdict stands beside it.",
              "- Each distinct test counts once: a row that repeats another item's test says so and is counted "
              "there; an earlier test replaced by a better one stays in the table, marked superseded, and is counted "
              "apart (never in the headline). *after its results were known*: a test written when the data it "
              "judges had already been seen.",
              "- t statistics and p-values that the paper prints only to claim direction and significance are "
              "judged as such (same sign, p below the bound), never to a tolerance.",
              "- *published where*: the table, text or caption that prints the number (or the authors' code, "
              "where the paper prints none); a value read off a figure would say so and carry a looser tolerance.",
              "- A claim ends with *Our test: ...* where the paper states no test or threshold and the check is our "
              "reading of its words (stricter or looser than the paper may mean); *[the paper's own test]* where the "
              "paper states the test and threshold applied.",
              "- *not run*: the stats row does not exist (figure disabled or analysis not built), is NaN (too few "
              "replicates), or comes from synthetic stand-in data."]
    return "\n".join(lines + markdown_trailer(info, figures)) + "\n"


def markdown_trailer(info: RunInfo, figures: dict[str, str] | None) -> list[str]:
    """The closing Markdown lines of a scorecard: figure links, figures not built, stats files absent and read."""
    lines = []
    if figures:
        lines += ["", "## Figures", ""] + [f"- {name}: [{path}](../{path})" for name, path in figures.items()]
    if info.disabled:
        lines += ["", "Figures not built in this run: " + ", ".join(f"{k} ({v})" for k, v in sorted(info.disabled.items())) + "."]
    if info.stats_missing:
        lines += ["", "Stats files expected but absent: " + ", ".join(f"`{p}`" for p in info.stats_missing) + "."]
    lines += ["", "Stats files read: " + (", ".join(f"`{p}`" for p in info.stats_read) or "none") + "."]
    return lines


VERDICT_STYLE = {REPRODUCED: "background:#d4edda", CLOSE: "background:#fff3cd", NOT_REPRODUCED: "background:#f8d7da", NOT_RUN: "background:#eeeeee",
                 INVALID: "background:#ff9999;font-weight:bold"}


def figure_thumbnail(path: str | os.PathLike, max_px: int = 1000) -> bytes:
    """A PNG of the figure at most ``max_px`` wide/high (keeps the self-contained page small enough for the
    Snakemake report, which embeds it as a data URI)."""
    import io

    from PIL import Image

    with Image.open(path) as im:
        im = im.convert("RGB")
        im.thumbnail((max_px, max_px))
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# The Snakemake report shows an HTML result as a data: URI in an iframe; Chromium refuses URIs over 2 MB,
# so the figures' thumbnails together stay below this many base64 characters.
THUMBNAIL_BUDGET = 1_200_000


def _thumbnails(figures: dict[str, str], budget: int = THUMBNAIL_BUDGET) -> dict[str, str]:
    import base64

    present = {n: p for n, p in figures.items() if Path(p).exists()}
    max_px = 1000
    while True:
        data = {n: base64.b64encode(figure_thumbnail(p, max_px)).decode() for n, p in present.items()}
        if sum(map(len, data.values())) <= budget or max_px <= 200:
            return data
        max_px = int(max_px * 0.75)


def _figure_sections(card: pd.DataFrame, figures: dict[str, str]) -> list[str]:
    e = html.escape
    out = ["<h2>Figures</h2>"]
    thumbs = _thumbnails(figures)
    for name, path in figures.items():
        rows = card[card["figure"] == name]
        c = {v: int((rows["verdict"] == v).sum()) for v in VERDICTS}
        tally = ", ".join(f"{n} {v}" for v, n in c.items() if n) or "no published items"
        out.append(f"<h3 id='figure-{e(name)}'>{e(name)}</h3><p>Scorecard items of {e(name)}: {e(tally)}.</p>")
        if name in thumbs:
            data = thumbs[name]
            out.append(f"<img class='figure' alt='{e(name)}' src='data:image/png;base64,{data}' "
                       f"style='max-width:100%;border:1px solid #ddd'>")
        else:
            out.append(f"<p><i>{e(str(path))} was not produced.</i></p>")
    return out


def to_html(card: pd.DataFrame, info: RunInfo, figures: dict[str, str] | None = None,
            rules: dict[str, str] | None = None) -> str:
    """A self-contained HTML page of the scorecard (no external resources); with ``figures``
    (name -> PNG path) each figure is shown below the tables with its items' verdict tally."""
    e = html.escape
    out = ["<!DOCTYPE html>", "<html><head><meta charset='utf-8'><title>Reproduction scorecard</title>",
           "<style>body{font-family:sans-serif;margin:1.5em;font-size:14px}table{border-collapse:collapse;margin:1em 0}"
           "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f4f4f4}"
           ".banner{background:#fff3cd;border:3px solid #e0a800;padding:0.8em;font-weight:bold;font-size:16px}"
           ".summary{font-size:16px}</style></head><body>",
           "<h1 id='scorecard-title'>Reproduction scorecard</h1>",
           "<p>Schug, Benzing &amp; Steger (eLife 2021): every published number and qualitative claim beside ours.</p>"]
    b = banner(info)
    if b:
        out.append(f"<div class='banner' id='toy-banner'>{e(b)}</div>")
    out += [f"<p class='summary' id='summary'><b>Run:</b> {e(info.run_label or 'paper protocol (config/config.yaml)')}<br>"
            + (f"<b>Rebuilt from:</b> {e(info.source)}<br>" if info.source else ""),
            f"<b>Summary:</b> {e(summary_line(card))}<br>",
            f"<b>Generated:</b> {e(info.generated)} by code {e(info.code_version or '?')}; seeds {e(str(info.seeds))}</p>"]
    numbers, claims = card[card["kind"] == "number"], card[card["kind"] == "claim"]
    if rules:
        out.append("<h2>Rules</h2><ul id='rules'>" + "".join(f"<li><code>{e(k)}</code>: {e(v)}</li>" for k, v in rules.items())
                   + "</ul>")
    out.append("<h2>Published numbers</h2><table id='numbers'><tr>" + "".join(
        f"<th>{h}</th>" for h in ("id", "figure", "quantity", "unit", "published", "published where",
                                  "ours (mean ± SEM, n)", "difference", "rule", "verdict", "counts as",
                                  "earlier rule: verdict", "detail")) + "</tr>")
    for _, r in numbers.iterrows():
        cells = (r["id"], r["figure"], r["statement"], r["unit"], _pub_cell(r), _text(r["published_source"]), _ours_cell(r),
                 _fmt_num(r["difference"], r["unit"]), r["tolerance"])
        out.append("<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in cells)
                   + f"<td style='{VERDICT_STYLE.get(r['verdict'], '')}'>{e(r['verdict'])}</td><td>{e(_status_cell(r))}</td>"
                   f"<td>{e(_earlier_cell(r))}</td><td>{e(_text(r['detail']))}</td></tr>")
    out.append("</table><h2>Qualitative claims</h2><table id='claims'><tr>"
               + "".join(f"<th>{h}</th>" for h in ("id", "figure", "claim", "verdict", "counts as", "what we found")) + "</tr>")
    for _, r in claims.iterrows():
        out.append(f"<tr><td>{e(r['id'])}</td><td>{e(r['figure'])}</td><td>{e(r['statement'])}</td>"
                   f"<td style='{VERDICT_STYLE.get(r['verdict'], '')}'>{e(r['verdict'])}</td><td>{e(_status_cell(r))}</td>"
                   f"<td>{e(_text(r['detail']))}</td></tr>")
    out.append("</table>")
    if figures:
        out += _figure_sections(card, figures)
    if info.stats_missing:
        out.append("<p>Stats files expected but absent: " + e(", ".join(info.stats_missing)) + "</p>")
    out.append("<p>Stats files read: " + e(", ".join(info.stats_read) or "none") + "</p></body></html>")
    return "\n".join(out) + "\n"


def to_csv_frame(card: pd.DataFrame, info: RunInfo) -> pd.DataFrame:
    out = card.copy()
    out.insert(0, "run_label", info.run_label or "paper protocol")
    return out
