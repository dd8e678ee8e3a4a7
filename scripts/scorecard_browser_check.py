"""Open a Snakemake HTML report (``snakemake --report report.html``) in headless chromium and check it shows
its results: the report app renders, and each image / HTML result (the scorecard page with every figure)
is displayed and is not blank. PDF results are checked to be embedded (headless chromium does not paint
PDFs, so they are not screenshot-checked).

    python scripts/scorecard_browser_check.py report.html --out check_dir [--chromium /usr/bin/chromium]
        [--page results/reproduction.html]

With ``--page`` the scorecard page itself is opened too (issue 33), at the width of a laptop window and of the
report's frame: its Misses box is painted, every row has an anchor, every miss links to its row, and no table is
wider than the window (nothing cut off); ``check_dir/page_<width>.png`` are its screenshots.

Writes ``check_dir/landing.png``, one ``check_dir/<result>.png`` per displayable result and
``check_dir/check.json``; exits non-zero when something is not shown. Needs Debian's ``chromium``.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
]


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def run_chromium(browser: str, url: str, *args: str, timeout: int = 180) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", *args, url]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def embedded_json(report_html: str, var: str) -> dict:
    """The JSON the report embeds as ``var <var> = {...};`` (results, categories)."""
    m = re.search(r"var " + re.escape(var) + r" = (\{.*?\});\s*</script>", report_html, re.S)
    if not m:
        raise ValueError(f"no 'var {var} = ...' in the report; is this a Snakemake HTML report?")
    return json.loads(m.group(1))


def show_script(result_path: str, kind: str) -> str:
    """JS run after the report app mounted: open one result as if its eye button had been clicked."""
    p = json.dumps(result_path)
    return (
        f"<script>window.addEventListener('load', function() {{ setTimeout(function() {{"
        f" app.showResultInfo({p}); app.setView({{content: {json.dumps(kind)}, contentPath: results[{p}].data_uri,"
        f" resultPath: {p}}}); document.title = 'SHOWN ' + {p}; }}, 300); }});</script>"
    )


def blankness(png: Path, box: tuple[float, float, float, float] = (0.3, 0.0, 1.0, 1.0)) -> dict:
    """How much is painted in the content part of a screenshot (right of the navbar)."""
    from PIL import Image

    with Image.open(png) as im:
        im = im.convert("L")
        w, h = im.size
        crop = im.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
        hist = crop.histogram()
    total = sum(hist)
    background = max(hist)
    return {"painted_fraction": 1 - background / total, "distinct_levels": sum(1 for c in hist if c)}


def images_in_html(browser: str, page_html: str, out: Path) -> dict:
    """Load an HTML result (as the report's iframe does) and count the images the browser decoded."""
    probe = (
        "<script>window.addEventListener('load', function() { var im = document.images, ok = 0;"
        " for (var i = 0; i < im.length; i++) { if (im[i].complete && im[i].naturalWidth > 0) ok++; }"
        " document.body.setAttribute('data-images', ok + '/' + im.length); });</script>"
    )
    head, sep, tail = page_html.rpartition("</body>")
    page = out / "html_result_probe.html"
    page.write_text(head + probe + sep + tail if sep else page_html + probe, encoding="utf-8")
    dom = run_chromium(browser, page.resolve().as_uri(), "--virtual-time-budget=10000", "--dump-dom")
    page.unlink()
    m = re.search(r'data-images="(\d+)/(\d+)"', dom.stdout)
    ok, total = (int(m.group(1)), int(m.group(2))) if m else (0, page_html.count("<img"))
    return {"images_decoded": ok, "images_total": total}


PAGE_PROBE = """<script>window.addEventListener('load', function() {
  var w = document.documentElement.clientWidth, worst = 0, tables = document.querySelectorAll('table');
  for (var i = 0; i < tables.length; i++) { var r = tables[i].getBoundingClientRect();
    worst = Math.max(worst, r.right - w, tables[i].scrollWidth - tables[i].clientWidth); }
  var box = document.getElementById('misses'), rows = document.querySelectorAll('tr[id^=row-]');
  var links = box ? box.querySelectorAll('a[href^="#row-"]') : [], dead = 0;
  for (var j = 0; j < links.length; j++) { if (!document.getElementById(links[j].getAttribute('href').slice(1))) dead++; }
  document.body.setAttribute('data-probe', JSON.stringify({width: w, overflow_px: Math.round(worst),
    misses_box: !!box && box.getBoundingClientRect().height > 20, miss_links: links.length, dead_links: dead,
    anchored_rows: rows.length, tables: tables.length, sections: document.querySelectorAll('section[id^=figure-]').length}));
});</script>"""


def check_page(page: Path, out: Path, browser: str, widths: tuple[int, ...] = (1400, 900)) -> dict:
    """The scorecard page in the browser at each width: the Misses box, the anchors, and no table cut off."""
    text = page.read_text(encoding="utf-8")
    head, sep, tail = text.rpartition("</body>")
    probe_page = out / "page_probe.html"
    probe_page.write_text(head + PAGE_PROBE + sep + tail, encoding="utf-8")
    res = {"page": str(page), "widths": {}, "problems": []}
    for w in widths:
        dom = run_chromium(
            browser,
            probe_page.resolve().as_uri(),
            f"--window-size={w},2000",
            "--virtual-time-budget=10000",
            "--dump-dom",
        )
        m = re.search(r"data-probe=\"([^\"]*)\"", dom.stdout)
        probe = json.loads(m.group(1).replace("&quot;", '"')) if m else {}
        shot = out / f"page_{w}.png"
        run_chromium(browser, page.resolve().as_uri(), f"--window-size={w},2000", f"--screenshot={shot}")
        probe["screenshot"] = str(shot)
        res["widths"][w] = probe
        if not probe:
            res["problems"].append(f"page at {w} px: the probe did not run")
            continue
        if not probe["misses_box"]:
            res["problems"].append(f"page at {w} px: no Misses box painted")
        if probe["overflow_px"] > 2:
            res["problems"].append(
                f"page at {w} px: a table is cut off ({probe['overflow_px']} px wider than the window)"
            )
        if probe["dead_links"] or probe["anchored_rows"] == 0:
            res["problems"].append(
                f"page at {w} px: {probe['dead_links']} misses link to no row; {probe['anchored_rows']} rows anchored"
            )
    probe_page.unlink()
    return res


def check(report: Path, out: Path, browser: str) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    text = report.read_text(encoding="utf-8")
    results = embedded_json(text, "results")
    category_of = {
        path: cat
        for cat, subcats in embedded_json(text, "categories").items()
        for paths in subcats.values()
        for path in paths
    }
    summary = {"report": str(report), "results": {}, "ok": True, "problems": []}

    dom = run_chromium(browser, report.resolve().as_uri(), "--virtual-time-budget=15000", "--dump-dom")
    categories = sorted(set(category_of.values()))
    # the app replaced the empty <div id="app"> with its navigation, which lists the result categories
    app_rendered = dom.returncode == 0 and bool(categories) and all(c in dom.stdout for c in categories)
    summary["app_rendered"] = bool(app_rendered)
    if not app_rendered:
        summary["problems"].append("the report app did not render (no navigation in the DOM)")
    landing = out / "landing.png"
    run_chromium(
        browser,
        report.resolve().as_uri(),
        "--window-size=1400,1000",
        "--virtual-time-budget=15000",
        f"--screenshot={landing}",
    )

    for path, entry in results.items():
        mime = entry.get("mime_type", "")
        rec = {"mime": mime, "name": entry.get("name"), "category": category_of.get(path)}
        uri = entry.get("data_uri", "")
        if mime == "application/pdf":
            payload = base64.b64decode(uri.split(",", 1)[1]) if "," in uri else b""
            rec["embedded"] = payload.startswith(b"%PDF")
            rec["shown"] = None  # headless chromium paints no PDFs
            if not rec["embedded"]:
                summary["problems"].append(f"{path}: PDF not embedded")
        elif mime in ("image/png", "image/jpeg", "image/svg+xml", "text/html"):
            kind = "html" if mime == "text/html" else "img"
            page = out / (re.sub(r"[^A-Za-z0-9_.-]", "_", path) + ".report.html")
            head, sep, tail = text.rpartition("</body>")  # the last one: the inlined libraries contain the string too
            page.write_text(head + show_script(path, kind) + sep + tail, encoding="utf-8")
            shot = out / (re.sub(r"[^A-Za-z0-9_.-]", "_", path) + ".png")
            res = run_chromium(
                browser,
                page.resolve().as_uri(),
                "--window-size=1400,1000",
                "--virtual-time-budget=15000",
                f"--screenshot={shot}",
            )
            dom_one = run_chromium(browser, page.resolve().as_uri(), "--virtual-time-budget=15000", "--dump-dom")
            tag = "<iframe" if kind == "html" else "<img"
            rec["in_dom"] = f"SHOWN {path}" in dom_one.stdout and tag in dom_one.stdout
            rec["screenshot"] = str(shot)
            rec.update(
                blankness(shot)
                if res.returncode == 0 and shot.exists()
                else {"painted_fraction": 0.0, "distinct_levels": 0}
            )
            rec["shown"] = bool(rec["in_dom"] and rec["painted_fraction"] > 0.02 and rec["distinct_levels"] > 8)
            page.unlink()
            if kind == "html" and "," in uri:
                rec.update(images_in_html(browser, base64.b64decode(uri.split(",", 1)[1]).decode("utf-8"), out))
                if rec["images_decoded"] != rec["images_total"]:
                    summary["problems"].append(
                        f"{path}: {rec['images_total'] - rec['images_decoded']} images not decoded"
                    )
            if not rec["shown"]:
                summary["problems"].append(f"{path}: not shown ({rec})")
        else:
            rec["shown"] = None
        summary["results"][path] = rec
    summary["ok"] = not summary["problems"]
    (out / "check.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("report", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--chromium", default=None)
    ap.add_argument(
        "--page", type=Path, default=None, help="the scorecard page (results/reproduction.html) to open too"
    )
    args = ap.parse_args(argv)
    browser = args.chromium or find_chromium()
    if not browser:
        print("chromium not found: apt-get install -y chromium (Debian)", file=sys.stderr)
        return 2
    summary = check(args.report, args.out, browser)
    if args.page:
        page = check_page(args.page, args.out, browser)
        summary["page"] = page
        summary["problems"] += page["problems"]
        summary["ok"] = not summary["problems"]
        (args.out / "check.json").write_text(json.dumps(summary, indent=2) + "\n")
        for w, p in page["widths"].items():
            print(f"scorecard page at {w} px: {p}")
    shown = sum(1 for r in summary["results"].values() if r.get("shown"))
    print(f"{len(summary['results'])} results, {shown} shown and painted; app rendered: {summary['app_rendered']}")
    for p in summary["problems"]:
        print("PROBLEM:", p, file=sys.stderr)
    return 0 if summary["ok"] and summary["app_rendered"] else 1


if __name__ == "__main__":
    sys.exit(main())
