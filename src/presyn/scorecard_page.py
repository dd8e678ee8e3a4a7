"""The scorecard as a reader sees it (issue 33): every row's n and unit of replication, a sentence for each failed
claim, the misses with their reason, and the page (HTML and Markdown) in the paper's order, one section per figure
and table, with a Misses box at the top.

``annotate`` adds to the card of ``presyn.scorecard.scorecard`` the columns ``replication`` (what n counts: seeds,
runs, neurons of one run, pooled synapses, recordings), ``evidence`` (a flag: ``single seed``, ``one run``,
``pooled synapses`` or empty), ``explanation`` (a failed claim in words), ``miss_reason``, ``miss_finding`` and
``miss_see`` (from ``config/scorecard_notes.yaml``), and fills ``n`` of the claims. ``to_html`` / ``to_markdown``
render it.
"""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from presyn import scorecard as sc

# one section per figure and table, in the paper's order, then the extras
SECTIONS = [
    ("fig1", "Fig 1"),
    ("fig2", "Fig 2"),
    ("fig3", "Fig 3"),
    ("fig4", "Fig 4"),
    ("fig5", "Fig 5"),
    ("appfig1", "App. fig 1"),
    ("appfig2", "App. fig 2"),
    ("appfig3", "App. fig 3"),
    ("appfig4", "App. fig 4"),
    ("apptable1", "App. table 1"),
    ("appfig_robustness", "Extra: model robustness"),
    ("perceptron_capacity", "Extra: perceptron near capacity"),
    ("sparsity_cutoffs", "Extra: importance cut-offs"),
]
SECTION_TITLE = dict(SECTIONS)
REASONS = {
    "measured": "measured",
    "unexplained": "unexplained",
    "not_public": "not reproducible from the authors' public code",
}
NOTE_COLUMNS = ["replication", "evidence", "explanation", "miss_reason", "miss_finding", "miss_see"]
OP_WORDS = {"<": "below", ">": "above", "<=": "at most", ">=": "at least", "~": "within the margin of"}


def section_order(figure: str) -> int:
    keys = [k for k, _ in SECTIONS]
    return keys.index(figure) if figure in keys else len(keys)


def sections_of(card: pd.DataFrame) -> list[tuple[str, str]]:
    """(figure key, title) of every figure with rows, in the paper's order (unknown figures last, by name)."""
    present = list(dict.fromkeys(card["figure"].astype(str)))
    return [(f, SECTION_TITLE.get(f, f)) for f in sorted(present, key=lambda f: (section_order(f), f))]


def load_notes(path: str | Path | None) -> dict:
    if not path or not Path(path).exists():
        return {"misses": {}, "replication": {}}
    d = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    for k, v in (d.get("misses") or {}).items():
        if v.get("reason") not in REASONS:
            raise ValueError(f"{path}: misses.{k}.reason must be one of {sorted(REASONS)}, got {v.get('reason')!r}")
    return {"misses": d.get("misses") or {}, "replication": d.get("replication") or {}}


# ----------------------------------------------------------------------------- n and unit of replication


def _s(x: Any) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else str(x)


def replication_of_row(row: pd.Series, notes: dict | None = None) -> tuple[str, str, str]:
    """(n, unit, flag) of one stats row: what its n counts and whether it rests on one seed, one run or pooled units."""
    name, test, groups, detail = _s(row.get("name")), _s(row.get("test")), _s(row.get("groups")), _s(row.get("detail"))
    n_raw = row.get("n")
    n = "" if n_raw is None or pd.isna(n_raw) else str(int(float(n_raw)))
    over = ((notes or {}).get("replication") or {}).get(name)
    if over:
        return n, str(over.get("unit", "")), str(over.get("flag", ""))
    pair = re.search(r"n=(\d+) vs (\d+)", detail)
    seed = re.search(r"(?:^|;)seed=(\d+)", groups)
    if _s(row.get("figure")) == "appfig4" or name.startswith("appfig4."):
        return n, "recorded synapses (Sjöström et al. 2001)", ""
    if seed:
        what = "neurons" if ("KS" in test or "Pearson" in test) else "values"
        n_txt = f"{pair.group(1)} vs {pair.group(2)}" if pair else n
        return n_txt, f"{what} of one representative run (seed {seed.group(1)})", "one run"
    if "pooled" in groups or ("pooled" in detail and "per-seed" not in detail and "per seed" not in detail):
        n_txt = f"{pair.group(1)} vs {pair.group(2)}" if pair else n
        return n_txt, "synapses pooled over seeds", "pooled synapses"
    if "paired" in test:
        return n, "seed pairs", "single seed" if n == "1" else ""
    if "t-test" in test:
        n_txt = f"{pair.group(1)} vs {pair.group(2)}" if pair else n
        unit = "runs" if "perceptron" in name else "seeds"
        return n_txt, unit, ""
    if "all runs" in detail:
        return n, "runs", ""
    if n == "1":
        return n, "one value", "single seed"
    unit = "runs (seeds)" if "perceptron" in name else "seeds"
    return n, unit, ""


def replication_of(names: list[str], stats: pd.DataFrame, notes: dict | None = None) -> tuple[str, str, str]:
    """n, unit and flag of a row resting on several stats rows: each distinct (n unit) once; the strongest flag."""
    parts, flags = [], []
    for nm in names:
        row, _ = sc.find_row(stats, nm) if len(stats) else (None, [])
        if row is None:
            continue
        n, unit, flag = replication_of_row(row, notes)
        if (n, unit) not in parts:
            parts.append((n, unit))
        if flag and flag not in flags:
            flags.append(flag)
    if not parts:
        return "", "", ""
    if len({u for _, u in parts}) == 1:
        ns = list(dict.fromkeys(n for n, _ in parts))
        return "; ".join(ns), parts[0][1], ", ".join(flags)
    return "; ".join(n for n, _ in parts), "; ".join(f"{u} (n={n})" for n, u in parts), ", ".join(flags)


# ----------------------------------------------------------------------------- a failed check in words


def _g(x: float) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.3g}"


def _label(name: str) -> str:
    return f"`{name}`"


def explain_check(chk: dict, stats: pd.DataFrame) -> str:
    """The failing part(s) of a check in a sentence (empty when the check holds or cannot be evaluated)."""
    verdict = sc.evaluate_check(chk, stats)[0]
    if verdict != sc.NOT_REPRODUCED:
        return ""
    if "all" in chk:
        failing = [explain_check(c, stats) for c in chk["all"]]
        failing = [f for f in failing if f]
        held = len(chk["all"]) - len(failing)
        head = f"{len(failing)} of {len(chk['all'])} parts fail" + (f" ({held} hold)" if held else "")
        return head + ": " + "; ".join(failing)
    if "test" in chk:
        row, _ = sc.find_row(stats, chk["test"])
        t = sc.resolve(stats, chk["test"])
        test = re.split(r" \(|:", _s(row.get("test")) or "test")[0]
        n, unit, _ = replication_of_row(row)
        stat = t.statistic if not math.isnan(t.statistic) else t.value
        where = f"{test} {_label(t.source)} (n = {n} {unit})"
        if "p_above" in chk:
            return f"{where} is significant (p = {_g(t.p_value)}) where the claim needs p >= {chk['p_above']:g}"
        alpha, sign = float(chk["p_below"]), chk.get("sign", "any")
        sign_ok = sign == "any" or (sign == "positive" and stat > 0) or (sign == "negative" and stat < 0)
        bits = []
        if not sign_ok:
            bits.append(f"goes the other way (statistic {_g(stat)}, the claim needs it {sign})")
        if not t.p_value < alpha:
            bits.append(f"is not significant (p = {_g(t.p_value)}, needs p < {alpha:g})")
        return f"{where} " + " and ".join(bits)
    if "above" in chk or "tost" in chk:
        _, found, _, _ = sc._summary_test(chk, stats)
        m = re.search(r"= (\S+) \(SE (\S+), df (\S+)\).*?p = (\S+)", found)
        a, b = (
            o if isinstance(o, (int, float)) else sc.resolve(stats, o).source
            for o in chk["above" if "above" in chk else "tost"]
        )
        diff, p = (m.group(1), m.group(4)) if m else ("?", "?")
        if "tost" in chk:
            return (
                f"{_label(str(a))} and {_label(str(b))} differ by {diff}; equivalence within ±{float(chk['margin']):g} "
                f"is not shown (two one-sided tests, p = {p}, needs p < {float(chk['alpha']):g})"
            )
        return (
            f"{_label(str(a))} - {_label(str(b))} = {diff} is not shown to exceed {float(chk.get('margin', 0)):g} "
            f"(one-sided Welch test, p = {p}, needs p < {float(chk['alpha']):g})"
        )
    left = sc.resolve(stats, chk["left"])
    if "right" in chk:
        right = sc.resolve(stats, chk["right"])
        r_txt = f"{_label(right.source)} = {_g(right.value)}"
    else:
        r_txt = f"{float(chk['value']):g}"
    m = float(chk.get("margin", 0.0))
    return f"{_label(left.source)} = {_g(left.value)} is not {OP_WORDS[chk['op']]} {r_txt}" + (
        f" (margin {m:g})" if m else ""
    )


# ----------------------------------------------------------------------------- annotating the card


def annotate(card: pd.DataFrame, published: dict, stats: pd.DataFrame, notes: dict | None = None) -> pd.DataFrame:
    """The card with n and unit of replication on every row, the failed claims in words and the misses' notes."""
    notes = notes or {"misses": {}, "replication": {}}
    items = {it["id"]: it for sec in ("numbers", "claims") for it in (published.get(sec) or [])}
    out = card.copy()
    for col in NOTE_COLUMNS:
        out[col] = ""
    out["n"] = out["n"].astype(object)
    for i, r in out.iterrows():
        names = [s.strip() for s in re.split(r",| - ", _s(r["source"])) if s.strip()]
        n, unit, flag = replication_of(names, stats, notes)
        out.at[i, "replication"], out.at[i, "evidence"] = unit, flag
        if r["kind"] == "claim" and not _s(r["n"]).strip():
            out.at[i, "n"] = n
        item = items.get(r["id"])
        if r["kind"] == "claim" and r["verdict"] == sc.NOT_REPRODUCED and item is not None:
            try:
                out.at[i, "explanation"] = explain_check(item["check"], stats)
            except (sc.Unresolved, KeyError, ValueError, TypeError):
                out.at[i, "explanation"] = ""
        miss = notes["misses"].get(r["id"])
        if miss and r["verdict"] == sc.NOT_REPRODUCED:
            out.at[i, "miss_reason"] = miss["reason"]
            out.at[i, "miss_finding"] = str(miss.get("finding", ""))
            out.at[i, "miss_see"] = str(miss.get("see", ""))
    return out


def misses(card: pd.DataFrame) -> pd.DataFrame:
    """The distinct tests not reproduced, in the paper's order."""
    st = card["status"].fillna(sc.CURRENT).replace("", sc.CURRENT) if "status" in card else sc.CURRENT
    m = card[(card["verdict"] == sc.NOT_REPRODUCED) & (st == sc.CURRENT)].copy()
    m["_order"] = m["figure"].map(section_order)
    return m.sort_values("_order", kind="stable").drop(columns="_order")


def grouped_misses(card: pd.DataFrame) -> list[tuple[list[pd.Series], tuple[str, str, str]]]:
    """The misses, those with the same note together (one line per finding, each id linked)."""
    groups: list[tuple[list[pd.Series], tuple[str, str, str]]] = []
    for _, r in misses(card).iterrows():
        line = miss_line(r)
        for rows, other in groups:
            if other == line and _s(r.get("miss_finding")):
                rows.append(r)
                break
        else:
            groups.append(([r], line))
    return groups


def _plain_statement(r: pd.Series) -> str:
    s = _s(r["statement"])
    s = re.split(r"\. Our test: | \[the paper's own test\]| \(Repeats the test of | \(Superseded ", s)[0]
    return s


def miss_line(r: pd.Series) -> tuple[str, str, str]:
    """(finding, reason, see) of one miss, in words."""
    finding = _s(r.get("miss_finding"))
    if not finding:
        if r["kind"] == "number":
            finding = (
                f"{_plain_statement(r)}: ours {sc._ours_cell(r)} against the published {sc._pub_cell(r)} ({r['unit']})."
            )
        else:
            finding = f"{_plain_statement(r)}: " + (_s(r.get("explanation")) or _s(r["detail"])) + "."
    reason = REASONS.get(_s(r.get("miss_reason")), "unexplained (no note yet)")
    return finding, reason, _s(r.get("miss_see"))


def anchor(item_id: str) -> str:
    return "row-" + re.sub(r"[^A-Za-z0-9_.-]", "-", str(item_id))


def _evidence_text(r: pd.Series) -> str:
    n, unit = _s(r["n"]).strip(), _s(r.get("replication"))
    s = f"n = {n}" if n else ""
    if unit:
        s += (" " if s else "") + unit
    return s


# ----------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,sans-serif;margin:0 auto;padding:0.6em 1em;max-width:1500px;font-size:13px;line-height:1.35}
h1{font-size:20px;margin:0.2em 0}h2{font-size:16px;margin:1.2em 0 0.3em;border-bottom:2px solid #ccc;clear:both}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:0.4em 0}
td,th{border:1px solid #ccc;padding:2px 4px;vertical-align:top;overflow-wrap:anywhere;word-break:break-word}
th{background:#f4f4f4;text-align:left}
.counts td,.counts th{text-align:right}.counts td:first-child,.counts th:first-child{text-align:left}
.counts{width:auto}
.misses{border:3px solid #c0392b;background:#fdf0ef;padding:0.4em 0.8em;margin:0.6em 0}
.misses h2{border:none;margin:0.2em 0;color:#a12b1f}
.misses li{margin:0.25em 0}
.reason{display:inline-block;padding:0 4px;border-radius:3px;font-size:11px;font-weight:bold;background:#eee}
.r-measured{background:#d6eaf8}.r-unexplained{background:#fcf3cf}.r-not_public{background:#e8daef}
.flag{display:inline-block;padding:0 4px;border-radius:3px;font-size:11px;background:#fadbd8;color:#78281f;font-weight:bold}
nav.toc{columns:3 220px;font-size:12px;border:1px solid #ddd;padding:0.3em 0.8em;background:#fafafa}
nav.toc a{text-decoration:none}
.v-reproduced{background:#d4edda}.v-close{background:#fff3cd}.v-not-reproduced{background:#f8d7da;font-weight:bold}
.v-not-run{background:#eeeeee}.v-invalid{background:#ff9999;font-weight:bold}
.small{font-size:11px;color:#555}
figure.thumb{float:right;width:34%;margin:0 0 0.5em 1em}figure.thumb img{width:100%;border:1px solid #ddd;cursor:zoom-in}
figure.thumb.big{float:none;width:100%;margin:0}figure.thumb figcaption{font-size:11px;color:#555}
tr:target td{outline:2px solid #2e86c1}
.banner{background:#fff3cd;border:3px solid #e0a800;padding:0.6em;font-weight:bold}
col.c-id{width:15%}col.c-what{width:31%}col.c-pub{width:8%}col.c-ours{width:11%}col.c-n{width:11%}col.c-v{width:7%}col.c-found{width:17%}
@media print{body{max-width:none;font-size:9pt}nav.toc{display:none}figure.thumb{width:30%}h2{page-break-after:avoid}
tr{page-break-inside:avoid}a{color:inherit;text-decoration:none}}
"""


def _vclass(v: str) -> str:
    return "v-" + str(v).replace(" ", "-")


def _row_html(r: pd.Series) -> str:
    e = html.escape
    flag = _s(r.get("evidence"))
    flag_html = "".join(f" <span class='flag'>{e(f.strip())}</span>" for f in flag.split(",") if f.strip())
    kind = "number" if r["kind"] == "number" else "claim"
    what = e(_s(r["statement"]))
    extra = []
    if kind == "number":
        extra.append(f"published where: {e(_s(r['published_source']))}")
        extra.append(f"rule: {e(_s(r['tolerance']))}")
    extra.append(e(sc._status_cell(r)))
    earlier = sc._earlier_cell(r)
    if earlier:
        extra.append(f"earlier rule: {e(earlier)}")
    found = _s(r.get("explanation"))
    found_html = (
        f"<b>{e(found)}</b><div class='small'>check: {e(_s(r['detail']))}</div>" if found else e(_s(r["detail"]))
    )
    if kind == "number":
        pub = e(sc._pub_cell(r)) + (f" {e(_s(r['unit']))}" if _s(r["unit"]) not in ("", "fraction") else "")
        ours = e(sc._ours_cell(r).split(" (n=")[0])
        diff = sc._fmt_num(r["difference"], r["unit"])
        if diff:
            ours += f"<div class='small'>diff {e(diff)}</div>"
    else:
        pub, ours = "<span class='small'>claim</span>", ""
    return (
        f"<tr id='{anchor(r['id'])}'><td><a href='#{anchor(r['id'])}'>{e(_s(r['id']))}</a></td>"
        f"<td>{what}<div class='small'>{' · '.join(extra)}</div></td><td>{pub}</td><td>{ours}</td>"
        f"<td>{e(_evidence_text(r))}{flag_html}</td><td class='{_vclass(r['verdict'])}'>{e(_s(r['verdict']))}</td>"
        f"<td>{found_html}</td></tr>"
    )


def _tally(rows: pd.DataFrame) -> dict[str, int]:
    return {v: int((rows["verdict"] == v).sum()) for v in sc.VERDICTS if int((rows["verdict"] == v).sum())}


def _counts_table_html(card: pd.DataFrame) -> str:
    c = sc.distinct_counts(card)
    rows = [
        "<table class='counts' id='counts'><tr><th></th><th>distinct tests</th><th>reproduced</th><th>close</th>"
        "<th>not reproduced</th><th>not run</th><th>repeats (not counted)</th><th>superseded (not counted)</th></tr>"
    ]
    for kind, label in (("number", "published numbers"), ("claim", "qualitative claims")):
        d, cur = c[kind], c[kind]["current"]
        rows.append(
            f"<tr><td>{label}</td><td>{d['n_current']}</td><td>{cur[sc.REPRODUCED]}</td><td>{cur[sc.CLOSE]}</td>"
            f"<td>{cur[sc.NOT_REPRODUCED]}</td><td>{cur[sc.NOT_RUN]}</td><td>{d['duplicates']}</td>"
            f"<td>{d['n_superseded']}</td></tr>"
        )
    return "".join(rows) + "</table>"


HOW_TO_READ = [
    "Each section is one figure or table of the paper, in the paper's order, then the extras; each row is one published "
    "number (published beside ours) or one qualitative claim (checked on our statistics). Every row has an anchor: "
    "link to it as <code>reproduction.html#row-&lt;id&gt;</code>.",
    "Published numbers come only from <code>config/published.yaml</code>; ours only from <code>results/stats/*.csv</code> "
    "(column <code>source</code> of <code>results/reproduction.csv</code> names each stats row).",
    "Verdicts of numbers have three levels: <i>reproduced</i> (within the noise of both numbers), <i>close</i> (outside "
    "the noise, inside the stated practical margin), <i>not reproduced</i>. Each rule is listed under Rules; where a "
    "number's rule changed, the earlier rule's verdict stands beside it.",
    "<i>n · unit</i>: what the evidence counts: seeds (independent trainings), runs, neurons of one representative run, "
    "synapses pooled over seeds, or recordings. Flags: <span class='flag'>single seed</span> (one training), "
    "<span class='flag'>one run</span> (one representative network, as the paper shows it), "
    "<span class='flag'>pooled synapses</span> (units of several seeds pooled: the p-value overstates the evidence).",
    "Each distinct test counts once: a row that repeats another item's test says so and is counted there; an earlier "
    "test replaced by a better one stays, marked superseded, and is counted apart. <i>after its results were known</i>: "
    "a test written when the data it judges had already been seen.",
    "t statistics and p-values that the paper prints only to claim direction and significance are judged as such "
    "(same sign, p below the bound), never to a tolerance.",
    "A claim ends with <i>Our test: ...</i> where the paper states no test or threshold and the check is our reading of "
    "its words; <i>[the paper's own test]</i> where the paper states the test and threshold applied. A failed claim "
    "says in bold which part fails; the machine's check is printed below it.",
    "Misses: <i>measured</i> (the cause is measured and stated), <i>unexplained</i> (reported, not yet explained), "
    "<i>not reproducible from the authors' public code</i> (their code or settings for it are not public). The "
    "measurements are in <code>config/README.md</code>; the notes in <code>config/scorecard_notes.yaml</code>.",
    "<i>not run</i>: the stats row does not exist (figure disabled or analysis not built), is NaN (too few "
    "replicates), or comes from synthetic stand-in data.",
]


def _strip_tags(s: str) -> str:
    return re.sub(r"<[^>]+>", "", s).replace("&lt;", "<").replace("&gt;", ">")


def to_html(
    card: pd.DataFrame,
    info: sc.RunInfo,
    figures: dict[str, str] | None = None,
    rules: dict[str, str] | None = None,
    repo_url: str = "../",
) -> str:
    """A self-contained page: header and counts, the Misses box, contents, one section per figure (thumbnail, its
    numbers and claims together), How to read this, Rules."""
    e = html.escape
    figures = figures or {}
    out = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'><title>Reproduction scorecard</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1 id='scorecard-title'>Reproduction scorecard</h1>",
        "<p>Schug, Benzing &amp; Steger (eLife 2021), <i>Presynaptic stochasticity improves energy efficiency and "
        "helps alleviate the stability-plasticity dilemma</i>: every published number and qualitative claim beside "
        "ours. <a href='#how-to-read'>How to read this</a> · <a href='#rules'>Rules</a></p>",
    ]
    b = sc.banner(info)
    if b:
        out.append(f"<div class='banner' id='toy-banner'>{e(b)}</div>")
    out.append(
        f"<p class='summary' id='summary'><b>Run:</b> {e(info.run_label or 'paper protocol (config/config.yaml)')}"
        f"; seeds {e(str(info.seeds))}<br>"
        + (
            f"<b>Rebuilt from:</b> {e(info.source)} (tables of that run; stats and verdicts by this code)<br>"
            if info.source
            else ""
        )
        + f"<b>Code:</b> {e(info.code_version or '?')}; <b>generated</b> {e(info.generated)}<br>"
        f"<b>Summary:</b> {e(sc.summary_line(card))}</p>"
    )
    out.append(_counts_table_html(card))
    m = misses(card)
    out.append(f"<div class='misses' id='misses'><h2>Misses: {len(m)} distinct tests not reproduced</h2><ol>")
    for rows, (finding, reason, see) in grouped_misses(card):
        key = _s(rows[0].get("miss_reason")) or "unexplained"
        title = SECTION_TITLE.get(rows[0]["figure"], rows[0]["figure"])
        link = f" · <a href='{e(repo_url + see)}'>{e(see)}</a>" if see else ""
        ids = ", ".join(f"<a href='#{anchor(r['id'])}'>{e(_s(r['id']))}</a>" for r in rows)
        out.append(
            f"<li><b>{e(title)}</b> ({ids}) <span class='reason r-{e(key)}'>{e(reason)}</span> {e(finding)}{link}</li>"
        )
    out.append("</ol>" + ("" if len(m) else "<p>None.</p>") + "</div>")
    sections = sections_of(card)
    out.append(
        "<nav class='toc' id='contents'><b>Contents</b><br>"
        + "<br>".join(
            f"<a href='#figure-{e(f)}'>{e(t)}</a> <span class='small'>"
            f"{e(', '.join(f'{n} {v}' for v, n in _tally(card[card['figure'] == f]).items()))}</span>"
            for f, t in sections
        )
        + "<br><a href='#how-to-read'>How to read this</a><br><a href='#rules'>Rules</a></nav>"
    )
    thumbs = sc._thumbnails({f: p for f, p in figures.items()})
    shown_figs = set()
    for f, title in sections + [(f, SECTION_TITLE.get(f, f)) for f in figures if f not in set(card["figure"])]:
        if f in shown_figs:
            continue
        shown_figs.add(f)
        rows = card[card["figure"] == f]
        tally = ", ".join(f"{n} {v}" for v, n in _tally(rows).items()) or "no published items"
        out.append(f"<section id='figure-{e(f)}'><h2>{e(title)} <span class='small'>({e(f)})</span></h2>")
        if f in figures:
            if f in thumbs:
                out.append(
                    f"<figure class='thumb' onclick=\"this.classList.toggle('big')\"><a href='#figure-{e(f)}'>"
                    f"<img class='figure' alt='{e(f)}' src='data:image/png;base64,{thumbs[f]}'></a>"
                    f"<figcaption>{e(title)} as rebuilt (click to enlarge)</figcaption></figure>"
                )
            else:
                out.append(f"<p><i>{e(str(figures[f]))} was not produced.</i></p>")
        out.append(f"<p>Scorecard items of {e(f)}: {e(tally)}.</p>")
        if len(rows):
            out.append(
                "<table class='items'><colgroup><col class='c-id'><col class='c-what'><col class='c-pub'>"
                "<col class='c-ours'><col class='c-n'><col class='c-v'><col class='c-found'></colgroup>"
                "<tr><th>id</th><th>what (source, rule, how it counts)</th><th>published</th>"
                "<th>ours (mean ± SEM)</th><th>n · unit</th><th>verdict</th><th>what we found</th></tr>"
            )
            ordered = pd.concat([rows[rows["kind"] == "number"], rows[rows["kind"] == "claim"]])
            out += [_row_html(r) for _, r in ordered.iterrows()]
            out.append("</table>")
        out.append("</section>")
    out.append(
        "<section id='how-to-read'><h2>How to read this</h2><ul>"
        + "".join(f"<li>{t}</li>" for t in HOW_TO_READ)
        + "</ul></section>"
    )
    if rules:
        out.append(
            "<section><h2 id='rules'>Rules</h2><ul>"
            + "".join(f"<li><code>{e(k)}</code>: {e(v)}</li>" for k, v in rules.items())
            + "</ul></section>"
        )
    else:
        out.append("<span id='rules'></span>")
    if info.disabled:
        out.append(
            "<p>Figures not built in this run: "
            + e(", ".join(f"{k} ({v})" for k, v in sorted(info.disabled.items())))
            + ".</p>"
        )
    if info.stats_missing:
        out.append("<p>Stats files expected but absent: " + e(", ".join(info.stats_missing)) + "</p>")
    out.append("<p class='small'>Stats files read: " + e(", ".join(info.stats_read) or "none") + "</p></body></html>")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------- Markdown


def _md(s: Any) -> str:
    return _s(s).replace("\n", " ").replace("|", "\\|")


def to_markdown(
    card: pd.DataFrame,
    info: sc.RunInfo,
    figures: dict[str, str] | None = None,
    rules: dict[str, str] | None = None,
    repo_url: str = "../",
) -> str:
    """The same page in Markdown: header and counts, Misses, contents, one section per figure, How to read, Rules."""
    figures = figures or {}
    lines = [
        "# Reproduction scorecard",
        "",
        "Schug, Benzing & Steger (eLife 2021), *Presynaptic stochasticity improves energy efficiency and helps "
        "alleviate the stability-plasticity dilemma*: every published number and qualitative claim beside ours.",
        "",
    ]
    b = sc.banner(info)
    if b:
        lines += [f"> **{b}**", ""]
    lines += [f"**Run:** {info.run_label or 'paper protocol (config/config.yaml)'}; seeds {info.seeds}  "]
    if info.source:
        lines += [f"**Rebuilt from:** {info.source} (tables of that run, stats and verdicts by this code)  "]
    lines += [
        f"**Code:** {info.code_version or '?'}; **generated** {info.generated}  ",
        f"**Summary:** {sc.summary_line(card)}",
        "",
    ]
    c = sc.distinct_counts(card)
    lines += [
        "| | distinct tests | reproduced | close | not reproduced | not run | repeats (not counted) | superseded (not counted) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind, label in (("number", "published numbers"), ("claim", "qualitative claims")):
        d, cur = c[kind], c[kind]["current"]
        lines.append(
            f"| {label} | {d['n_current']} | {cur[sc.REPRODUCED]} | {cur[sc.CLOSE]} | {cur[sc.NOT_REPRODUCED]} | "
            f"{cur[sc.NOT_RUN]} | {d['duplicates']} | {d['n_superseded']} |"
        )
    m = misses(card)
    lines += ["", f"## Misses: {len(m)} distinct tests not reproduced", ""]
    for k, (rows, (finding, reason, see)) in enumerate(grouped_misses(card), 1):
        title = SECTION_TITLE.get(rows[0]["figure"], rows[0]["figure"])
        ids = ", ".join(f"[`{r['id']}`](#{anchor(r['id'])})" for r in rows)
        lines.append(
            f"{k}. **{title}** ({ids}; *{reason}*): {finding}" + (f" See [{see}]({repo_url}{see})." if see else "")
        )
    if not len(m):
        lines.append("None.")
    sections = sections_of(card)
    lines += ["", "## Contents", ""] + [
        f"- [{t}](#{re.sub(r'[^a-z0-9 -]', '', t.lower()).replace(' ', '-')}): "
        + (", ".join(f"{n} {v}" for v, n in _tally(card[card["figure"] == f]).items()) or "no items")
        for f, t in sections
    ]
    lines += ["- [How to read this](#how-to-read-this)", "- [Rules](#rules)"]
    for f, title in sections:
        rows = card[card["figure"] == f]
        lines += ["", f"## {title}", ""]
        if f in figures:
            lines += [f"Figure: [{figures[f]}](../{figures[f]})", ""]
        lines += [
            "| id | what | published | ours (mean ± SEM) | n · unit | verdict | what we found |",
            "|---|---|---|---|---|---|---|",
        ]
        for _, r in pd.concat([rows[rows["kind"] == "number"], rows[rows["kind"] == "claim"]]).iterrows():
            flag = _s(r.get("evidence"))
            ev = _evidence_text(r) + (f" **[{flag}]**" if flag else "")
            what = _s(r["statement"])
            if r["kind"] == "number":
                what += f" ({_s(r['published_source'])}; rule: {_s(r['tolerance'])})"
                pub, ours = (
                    sc._pub_cell(r) + (f" {r['unit']}" if _s(r["unit"]) not in ("", "fraction") else ""),
                    sc._ours_cell(r).split(" (n=")[0],
                )
            else:
                pub, ours = "claim", ""
            status = sc._status_cell(r)
            if status != "distinct test":
                what += f" [{status}]"
            found = _s(r.get("explanation")) or _s(r["detail"])
            verdict = sc.VERDICT_MARK.get(r["verdict"], r["verdict"])
            lines.append(
                "| "
                + " | ".join(
                    _md(x) for x in (f'<a id="{anchor(r["id"])}"></a>`{r["id"]}`', what, pub, ours, ev, verdict, found)
                )
                + " |"
            )
    lines += ["", "## How to read this", ""] + [f"- {_strip_tags(t)}" for t in HOW_TO_READ]
    if rules:
        lines += [
            "",
            "## Rules",
            "",
            "Each kind of number is judged by one rule (`tolerances` in `config/published.yaml`):",
            "",
        ]
        lines += [f"- `{name}`: {text}" for name, text in rules.items()]
    return "\n".join(lines + sc.markdown_trailer(info, figures)) + "\n"
