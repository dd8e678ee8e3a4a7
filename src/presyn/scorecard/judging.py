"""Judging: each published number and claim against our stats rows, with a verdict each.

Operands (``ours``, a claim's ``left`` / ``right`` / ``test``) are resolved against the stats table
(``resolve``; a missing or NaN row is ``not run``, a row outside its declared unit's range ``invalid``), a number is
judged by its tolerance's criterion (``judge``; three levels where the rule has a practical margin), a claim by its
check (``evaluate_check``), and ``scorecard`` builds the whole card; ``distinct_counts`` counts each distinct test
once (duplicates counted under the item they repeat, superseded tests apart).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from presyn.scorecard.published import (
    PublishedFileError,
    claim_statement,
    describe_tolerance,
    link_note,
    source_text,
    tolerance_of,
)
from presyn.stats import COLUMNS

REPRODUCED, NOT_REPRODUCED, NOT_RUN, INVALID = "reproduced", "not reproduced", "not run", "invalid"
CLOSE = "close"  # a number outside its noise but inside the stated practical margin (issue 28)
VERDICTS = (REPRODUCED, CLOSE, NOT_REPRODUCED, NOT_RUN, INVALID)
# how an item counts in the summary (issue 28): each distinct test once
CURRENT, DUPLICATE, SUPERSEDED = "current", "duplicate", "superseded"

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
UNIT_RANGES = {
    "fraction": (-1.0, 1.0),
    "%": (-100.0, 100.0),
    "points": (-100.0, 100.0),
    "p": (0.0, 1.0),
    "r": (-1.0, 1.0),
    "D": (0.0, 1.0),
}

CSV_COLUMNS = [
    "kind",
    "id",
    "figure",
    "statement",
    "unit",
    "published",
    "published_sem",
    "published_source",
    "ours",
    "ours_sem",
    "n",
    "difference",
    "tolerance",
    "verdict",
    "source",
    "detail",
    "status",
    "counted_under",
    "added",
    "after_results",
    "earlier_verdict",
    "earlier_rule",
]


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
        sem = math.sqrt(np.nansum([a.sem**2, b.sem**2])) if not (_is_nan(a.sem) and _is_nan(b.sem)) else float("nan")
        return Observed(
            value=(a.value - b.value) * factor,
            sem=sem * abs(factor),
            n=f"{a.n} vs {b.n}",
            source=f"{a.source} - {b.source}",
            synthetic=a.synthetic or b.synthetic,
            notes=a.notes + b.notes,
        )
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
            raise Unresolved(
                f"{name}: {fld} = {raw:g} is outside [{lo:g}, {hi:g}] for unit {src_unit!r}; "
                f"fix the unit in config/published.yaml or the analysis",
                verdict=INVALID,
                source=name,
            )
    factor = _unit_factor(src_unit, unit) * float(operand.get("scale", 1.0))
    sem = _f(row.get("sem")) if fld == "value" else float("nan")
    n = row.get("n")
    n_str = "" if pd.isna(n) else str(int(_f(n))) if not _is_nan(_f(n)) else str(n)
    stat_value = _f(row.get("statistic"))
    return Observed(
        value=raw * factor,
        sem=abs(sem * factor),
        n=n_str,
        p_value=_f(row.get("p_value")),
        statistic=stat_value * (1.0 if float(operand.get("scale", 1.0)) >= 0 else -1.0),
        source=name,
        synthetic=_is_synthetic(row),
        notes=notes,
    )


def _unit_factor(src: str | None, dst: str | None) -> float:
    if src is None or dst is None or src == dst:
        return 1.0
    try:
        return UNIT_FACTORS[(src, dst)]
    except KeyError:
        raise PublishedFileError(f"no conversion from unit {src!r} to {dst!r}") from None


# ----------------------------------------------------------------------------- numbers


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


def judge(
    published: float, published_sem: float | None, ours: Observed, tol: dict, n_published: int | None = None
) -> tuple[str, str]:
    """Verdict of one number and the reason, by the tolerance's criterion."""
    crit = tol.get("criterion", "tolerance")
    if crit == "mean":
        diff = ours.value - published
        if tol.get("same_sign") and np.sign(ours.value) != np.sign(published):
            return NOT_REPRODUCED, f"ours {ours.value:+.3g} has the opposite sign of the published {published:+.3g}"
        have = [s for s in (ours.sem, published_sem) if s is not None and not _is_nan(s)]
        comb = math.sqrt(sum(s * s for s in have)) if have else float("nan")
        k = float(tol.get("sem_mult", 2.0))
        which = (
            "ours and published"
            if len(have) == 2
            else "ours only (no published SEM)"
            if not _is_nan(ours.sem)
            else "published only (no SEM of ours)"
            if have
            else "none"
        )
        if _is_nan(comb) or comb <= 0:
            return _three_level(
                False, abs(diff), float(tol["practical"]), f"|diff| {abs(diff):.3g}; no SEM to judge noise"
            )
        return _three_level(
            abs(diff) <= k * comb + 1e-12,
            abs(diff),
            float(tol["practical"]),
            f"|diff| {abs(diff):.3g} = {abs(diff) / comb:.2g} combined SEM ({which}; bound {k:g})",
        )
    if crit == "fisher_z":
        n_o = _n_int(ours.n)
        if n_o is None or n_published is None or n_o <= 3 or n_published <= 3:
            return NOT_RUN, "Fisher z needs n > 3 for ours and the published r"
        from presyn.stats import fisher_z_distance

        dz, se = fisher_z_distance(ours.value, n_o, published, n_published)
        k = float(tol.get("z_mult", 2.0))
        return _three_level(
            dz <= k * se,
            abs(ours.value - published),
            float(tol["practical"]),
            f"Fisher z distance {dz:.3g} = {dz / se:.2g} SE (n {n_o} vs {n_published}; bound {k:g}); "
            f"|r diff| {abs(ours.value - published):.3g}",
        )
    if crit == "same_data":
        d = abs(ours.value - published)
        ok = d <= float(tol["abs"]) + 1e-12
        return (
            REPRODUCED if ok else NOT_REPRODUCED
        ), f"same data: |diff| {d:.3g} {'<=' if ok else '>'} {float(tol['abs']):g}"
    if crit == "run_spread":
        n_o = _n_int(ours.n)
        if n_o is None or n_o < 2 or _is_nan(ours.sem):
            return NOT_RUN, "the spread over seeds needs a summary row with n >= 2 and an SEM"
        sd = ours.sem * math.sqrt(n_o)
        bound = float(tol.get("sd_mult", 2.0)) * sd * math.sqrt(1 + 1 / n_o)
        d = abs(ours.value - published)
        return _three_level(
            d <= bound + 1e-12,
            d,
            float(tol["practical"]),
            f"|mean of {n_o} seeds - published| {d:.3g}; SD over seeds {sd:.3g}, bound {bound:.3g}",
        )
    if crit == "significance":
        alpha = float(tol.get("alpha", 0.05))
        p = ours.p_value
        if _is_nan(p):
            return NOT_RUN, "no p-value in our stats row"
        same_sign = np.sign(ours.value) == np.sign(published)
        ok = bool(same_sign and p < alpha)
        return (
            REPRODUCED if ok else NOT_REPRODUCED
        ), f"ours {ours.value:+.3g} (p = {p:.3g}); published {published:+.3g}: " + (
            "same sign" if same_sign else "opposite sign"
        ) + f", p {'<' if p < alpha else '>='} {alpha:g}"
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
        row["earlier_rule"] = f"until {e['until']}: {prev['tolerance']}" + (
            f" on {prev['source']}" if e.get("ours") else ""
        )
    return row


def _status_fields(item: dict) -> dict:
    status = DUPLICATE if "duplicate_of" in item else SUPERSEDED if "superseded_by" in item else CURRENT
    under = item.get("duplicate_of") or item.get("superseded_by") or ""
    return {
        "status": status,
        "counted_under": under,
        "added": str(item.get("added", "")),
        "after_results": bool(item.get("after_results", False)),
        "earlier_verdict": "",
        "earlier_rule": "",
    }


def _evaluate_number(item: dict, stats: pd.DataFrame, tolerances: dict, disabled: dict[str, str] | None = None) -> dict:
    """One row of the scorecard for a published number, by the item's tolerance."""
    unit = item["unit"]
    tol = tolerance_of(item, tolerances)
    pub_sem = _f(item.get("published_sem"))
    if _is_nan(pub_sem) and item.get("published_t"):  # a difference printed with its t: SEM = difference / t
        pub_sem = abs(float(item["published"]) / float(item["published_t"]))
    row = {
        "kind": "number",
        "id": item["id"],
        "figure": item["figure"],
        "statement": item["what"] + link_note(item),
        "unit": unit,
        "published": float(item["published"]),
        "published_sem": pub_sem,
        "published_source": source_text(item.get("source")),
        "ours": float("nan"),
        "ours_sem": float("nan"),
        "n": "",
        "difference": float("nan"),
        "tolerance": describe_tolerance(tol, unit),
        "verdict": NOT_RUN,
        "source": "",
        "detail": "",
    }
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
        verdict = (
            INVALID
            if INVALID in verdicts
            else NOT_REPRODUCED
            if NOT_REPRODUCED in verdicts
            else NOT_RUN
            if NOT_RUN in verdicts
            else REPRODUCED
        )
        return (
            verdict,
            " AND ".join(f"[{p[1]}]" for p in parts),
            [s for p in parts for s in p[2]],
            any(p[3] for p in parts),
        )
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
            return (
                (REPRODUCED if ok else NOT_REPRODUCED),
                f"{t.source}: p = {p:.3g} {'>=' if ok else '<'} {alpha:g}",
                [t.source],
                t.synthetic,
            )
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
        right = (
            resolve(stats, chk["right"])
            if "right" in chk
            else Observed(value=float(chk["value"]), source=str(chk["value"]))
        )
    except Unresolved as e:
        return e.verdict, str(e), [e.source], False
    l, r, m, op = left.value, right.value, float(chk.get("margin", 0.0)), chk["op"]
    ok = {">": l > r + m, ">=": l >= r - m, "<": l < r - m, "<=": l <= r + m, "~": abs(l - r) <= m}[op]
    shown = (
        f"{left.source} = {_fmt(l)}, {right.source} = {_fmt(r)}: '{op}'"
        + (f" (margin {m:g})" if m else "")
        + (" holds" if ok else " does NOT hold")
    )
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
        return (
            NOT_RUN,
            f"{' vs '.join(names) or 'constants'}: a test over replicates needs summary rows with n >= 2 and an SEM",
            names,
            synthetic,
        )
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
        found = (
            f"{a.source} - {b.source} = {_fmt(diff)} (SE {_fmt(se)}, df {df:.3g}); one-sided H1: > {margin:g}: "
            f"t = {_fmt(t)}, p = {p:.3g} {'<' if ok else '>='} {alpha:g}"
        )
    else:
        p, tl, tu, df = st.tost_from_stats(x.value, x.sem, nx, y.value, y.sem if ny else None, ny, margin)
        se = st.welch_from_stats(x.value, x.sem, nx, y.value, y.sem if ny else None, ny)[0]
        if se == 0:
            p = 0.0 if abs(diff) < margin else 1.0
        ok = p < alpha
        found = (
            f"{a.source} - {b.source} = {_fmt(diff)} (SE {_fmt(se)}, df {df:.3g}); TOST margin ±{margin:g}: "
            f"p = {p:.3g} {'<' if ok else '>='} {alpha:g} ({'equivalent' if ok else 'equivalence not shown'})"
        )
    return (REPRODUCED if ok else NOT_REPRODUCED), found, names, synthetic


def evaluate_claim(item: dict, stats: pd.DataFrame, disabled: dict[str, str] | None = None) -> dict:
    verdict, found, names, synthetic = evaluate_check(item["check"], stats)
    detail = found
    if verdict == NOT_RUN:
        detail = _why_missing(item["figure"], found, disabled)
    if synthetic and verdict != INVALID:
        verdict, detail = NOT_RUN, detail + "; SYNTHETIC stand-in data: not a reproduction"
    return {
        "kind": "claim",
        "id": item["id"],
        "figure": item["figure"],
        "statement": claim_statement(item),
        "unit": "",
        "published": float("nan"),
        "published_sem": float("nan"),
        "published_source": "",
        "ours": float("nan"),
        "ours_sem": float("nan"),
        "n": "",
        "difference": float("nan"),
        "tolerance": "",
        "verdict": verdict,
        "source": ", ".join(dict.fromkeys(n for n in names if n)),
        "detail": detail,
        **_status_fields(item),
    }


# ----------------------------------------------------------------------------- the whole card


def scorecard(published: dict, stats: pd.DataFrame, disabled: dict[str, str] | None = None) -> pd.DataFrame:
    """Every number and claim of the published file, evaluated against the stats table."""
    tolerances = published.get("tolerances") or {}
    rows = [evaluate_number(it, stats, tolerances, disabled) for it in published.get("numbers") or []]
    rows += [evaluate_claim(it, stats, disabled) for it in published.get("claims") or []]
    return pd.DataFrame(rows, columns=CSV_COLUMNS)


def counts(card: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Verdicts per kind over every row (duplicates and superseded rows included); ``distinct_counts`` counts tests."""
    return {
        kind: {v: int(((card["kind"] == kind) & (card["verdict"] == v)).sum()) for v in VERDICTS}
        for kind in ("number", "claim")
    }


def _status(card: pd.DataFrame) -> pd.Series:
    return (
        card["status"].fillna(CURRENT).replace("", CURRENT)
        if "status" in card
        else pd.Series(CURRENT, index=card.index)
    )


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
        out[kind] = {
            "current": {v: int((cur["verdict"] == v).sum()) for v in VERDICTS},
            "n_current": int(len(cur)),
            "duplicates": int((k & (st == DUPLICATE)).sum()),
            "superseded": {v: int((card[k & (st == SUPERSEDED)]["verdict"] == v).sum()) for v in VERDICTS},
            "n_superseded": int((k & (st == SUPERSEDED)).sum()),
            "after_results": int((k & (st == CURRENT) & after).sum()),
        }
    return out
