"""Rendering the scorecard: the summary line, Markdown, the basic HTML page and the CSV frame.

(``presyn.scorecard_page`` renders the page a reader sees, with replication and notes.)
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from presyn.scorecard.judging import (
    CLOSE,
    CURRENT,
    DUPLICATE,
    INVALID,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    SUPERSEDED,
    VERDICTS,
    _f,
    _is_nan,
    distinct_counts,
)
from presyn.scorecard.published import describe_tolerance


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
    generated: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

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
        head = (
            f"{label} ({d['n_current']} distinct"
            + (f"; {'; '.join(extra)}" if extra else "")
            + f"): {_tally(d['current'])}"
        )
        if d["n_superseded"]:
            sup = d["superseded"]
            head += (
                f" [+ {d['n_superseded']} superseded earlier tests, shown, not counted: {sup[REPRODUCED]} reproduced, "
                f"{sup[NOT_REPRODUCED]} not reproduced]"
            )
        parts.append(head)
    after = c["number"]["after_results"] + c["claim"]["after_results"]
    line = "; ".join(parts)
    if after:
        line += (
            f"; {after} of the counted tests were added after the results they judge were known (column after_results)"
        )
    return line


def banner(info: RunInfo) -> str | None:
    if not info.toy:
        return None
    label = info.run_label or "a reduced config"
    return (
        f"TOY-SIZE RUN: {label}. Data subset {info.subset}, seeds {info.seeds}. These verdicts compare a toy "
        f"run with the paper; 'not reproduced' here is expected and says nothing about the paper's claims. "
        f"Only a run of config/config.yaml (the paper's protocol) can reproduce them."
    )


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


VERDICT_MARK = {
    REPRODUCED: "reproduced",
    CLOSE: "close",
    NOT_REPRODUCED: "**not reproduced**",
    NOT_RUN: "_not run_",
    INVALID: "**INVALID**",
}


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


def to_markdown(
    card: pd.DataFrame, info: RunInfo, figures: dict[str, str] | None = None, rules: dict[str, str] | None = None
) -> str:
    lines = [
        "# Reproduction scorecard",
        "",
        "Schug, Benzing & Steger (eLife 2021), *Presynaptic stochasticity improves energy efficiency and helps "
        "alleviate the stability-plasticity dilemma*: every published number and qualitative claim beside ours.",
        "",
    ]
    b = banner(info)
    if b:
        lines += [f"> **{b}**", ""]
    lines += [f"**Run:** {info.run_label or 'paper protocol (config/config.yaml)'}  "]
    if info.source:
        lines += [f"**Rebuilt from:** {info.source} (tables of that run, stats and verdicts by this code)  "]
    lines += [
        f"**Summary:** {summary_line(card)}  ",
        f"**Generated:** {info.generated} by code {info.code_version or '?'}; seeds {info.seeds}",
        "",
    ]
    numbers, claims = card[card["kind"] == "number"], card[card["kind"] == "claim"]
    if rules:
        lines += [
            "## Rules",
            "",
            "Each kind of number is judged by one rule (`tolerances` in `config/published.yaml`):",
            "",
        ]
        lines += [f"- `{name}`: {text}" for name, text in rules.items()] + [""]
    lines += [
        "## Published numbers",
        "",
        "| id | figure | quantity | unit | published | published where | ours (mean ± SEM, n) | difference | rule | verdict | counts as | earlier rule: verdict | detail |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in numbers.iterrows():
        lines.append(
            "| "
            + " | ".join(
                _md_escape(x)
                for x in (
                    r["id"],
                    r["figure"],
                    r["statement"],
                    r["unit"],
                    _pub_cell(r),
                    r["published_source"],
                    _ours_cell(r),
                    _fmt_num(r["difference"], r["unit"]),
                    r["tolerance"],
                    VERDICT_MARK.get(r["verdict"], r["verdict"]),
                    _status_cell(r),
                    _earlier_cell(r),
                    r["detail"],
                )
            )
            + " |"
        )
    lines += [
        "",
        "## Qualitative claims",
        "",
        "| id | figure | claim | verdict | counts as | what we found |",
        "|---|---|---|---|---|---|",
    ]
    for _, r in claims.iterrows():
        lines.append(
            "| "
            + " | ".join(
                _md_escape(x)
                for x in (
                    r["id"],
                    r["figure"],
                    r["statement"],
                    VERDICT_MARK.get(r["verdict"], r["verdict"]),
                    _status_cell(r),
                    r["detail"],
                )
            )
            + " |"
        )
    lines += [
        "",
        "## How to read this",
        "",
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
        "replicates), or comes from synthetic stand-in data.",
    ]
    return "\n".join(lines + markdown_trailer(info, figures)) + "\n"


def markdown_trailer(info: RunInfo, figures: dict[str, str] | None) -> list[str]:
    """The closing Markdown lines of a scorecard: figure links, figures not built, stats files absent and read."""
    lines = []
    if figures:
        lines += ["", "## Figures", ""] + [f"- {name}: [{path}](../{path})" for name, path in figures.items()]
    if info.disabled:
        lines += [
            "",
            "Figures not built in this run: " + ", ".join(f"{k} ({v})" for k, v in sorted(info.disabled.items())) + ".",
        ]
    if info.stats_missing:
        lines += ["", "Stats files expected but absent: " + ", ".join(f"`{p}`" for p in info.stats_missing) + "."]
    lines += ["", "Stats files read: " + (", ".join(f"`{p}`" for p in info.stats_read) or "none") + "."]
    return lines


VERDICT_STYLE = {
    REPRODUCED: "background:#d4edda",
    CLOSE: "background:#fff3cd",
    NOT_REPRODUCED: "background:#f8d7da",
    NOT_RUN: "background:#eeeeee",
    INVALID: "background:#ff9999;font-weight:bold",
}


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
            out.append(
                f"<img class='figure' alt='{e(name)}' src='data:image/png;base64,{data}' "
                f"style='max-width:100%;border:1px solid #ddd'>"
            )
        else:
            out.append(f"<p><i>{e(str(path))} was not produced.</i></p>")
    return out


def to_html(
    card: pd.DataFrame, info: RunInfo, figures: dict[str, str] | None = None, rules: dict[str, str] | None = None
) -> str:
    """A self-contained HTML page of the scorecard (no external resources); with ``figures``
    (name -> PNG path) each figure is shown below the tables with its items' verdict tally."""
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        "<html><head><meta charset='utf-8'><title>Reproduction scorecard</title>",
        "<style>body{font-family:sans-serif;margin:1.5em;font-size:14px}table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#f4f4f4}"
        ".banner{background:#fff3cd;border:3px solid #e0a800;padding:0.8em;font-weight:bold;font-size:16px}"
        ".summary{font-size:16px}</style></head><body>",
        "<h1 id='scorecard-title'>Reproduction scorecard</h1>",
        "<p>Schug, Benzing &amp; Steger (eLife 2021): every published number and qualitative claim beside ours.</p>",
    ]
    b = banner(info)
    if b:
        out.append(f"<div class='banner' id='toy-banner'>{e(b)}</div>")
    out += [
        f"<p class='summary' id='summary'><b>Run:</b> {e(info.run_label or 'paper protocol (config/config.yaml)')}<br>"
        + (f"<b>Rebuilt from:</b> {e(info.source)}<br>" if info.source else ""),
        f"<b>Summary:</b> {e(summary_line(card))}<br>",
        f"<b>Generated:</b> {e(info.generated)} by code {e(info.code_version or '?')}; seeds {e(str(info.seeds))}</p>",
    ]
    numbers, claims = card[card["kind"] == "number"], card[card["kind"] == "claim"]
    if rules:
        out.append(
            "<h2>Rules</h2><ul id='rules'>"
            + "".join(f"<li><code>{e(k)}</code>: {e(v)}</li>" for k, v in rules.items())
            + "</ul>"
        )
    out.append(
        "<h2>Published numbers</h2><table id='numbers'><tr>"
        + "".join(
            f"<th>{h}</th>"
            for h in (
                "id",
                "figure",
                "quantity",
                "unit",
                "published",
                "published where",
                "ours (mean ± SEM, n)",
                "difference",
                "rule",
                "verdict",
                "counts as",
                "earlier rule: verdict",
                "detail",
            )
        )
        + "</tr>"
    )
    for _, r in numbers.iterrows():
        cells = (
            r["id"],
            r["figure"],
            r["statement"],
            r["unit"],
            _pub_cell(r),
            _text(r["published_source"]),
            _ours_cell(r),
            _fmt_num(r["difference"], r["unit"]),
            r["tolerance"],
        )
        out.append(
            "<tr>"
            + "".join(f"<td>{e(str(c))}</td>" for c in cells)
            + f"<td style='{VERDICT_STYLE.get(r['verdict'], '')}'>{e(r['verdict'])}</td><td>{e(_status_cell(r))}</td>"
            f"<td>{e(_earlier_cell(r))}</td><td>{e(_text(r['detail']))}</td></tr>"
        )
    out.append(
        "</table><h2>Qualitative claims</h2><table id='claims'><tr>"
        + "".join(f"<th>{h}</th>" for h in ("id", "figure", "claim", "verdict", "counts as", "what we found"))
        + "</tr>"
    )
    for _, r in claims.iterrows():
        out.append(
            f"<tr><td>{e(r['id'])}</td><td>{e(r['figure'])}</td><td>{e(r['statement'])}</td>"
            f"<td style='{VERDICT_STYLE.get(r['verdict'], '')}'>{e(r['verdict'])}</td><td>{e(_status_cell(r))}</td>"
            f"<td>{e(_text(r['detail']))}</td></tr>"
        )
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
