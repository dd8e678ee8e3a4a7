"""App. fig 4: the two Sjöström files (sources, exact parsing, statistics, figure, Snakemake chain)."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import pearson_by_hand
from presyn.io import sha256_file
from presyn.sjostrom import parse, sources
from presyn.sjostrom.analysis import appfig4_stats, shuffle_null

ROOT = Path(__file__).resolve().parents[1]
VENDORED = ROOT / "vendor" / "sjostrom"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["sjostrom"]
LTP_NAME, LTD_NAME = CONFIG["files"]["ltp"]["name"], CONFIG["files"]["ltd"]["name"]

LTP_HEADER = [
    "Recording",
    "Pairing freq.",
    "Timing",
    "Pr (before)",
    "Pr (after)",
    '"q (mV, before)"',
    '"q (mV, after)"',
    "dp",
    "dp_rel",
    "dq",
    "dq_rel",
    "w (before)",
    "w (after)",
    "dw_abs",
    "dw_rel",
]
LTD_HEADER = [
    "Recording",
    "Pairing freq.",
    "Timing",
    "Pr (before)",
    "Pr (after)",
    '"q (mV, before)"',
    '"q (mV, after)"',
    "w (before)",
    "w (after)",
    "dp",
    "dp_rel",
    "dq",
    "dq_rel",
    "dw_abs",
    "dw_rel",
    "w (before)",
    "w (after)",
]


def write_layout(path: Path, group: str, rows: list[tuple], trailing: tuple[float, float] = (5e-5, 0.009)) -> Path:
    """A file in the exact layout of the real ones (BOM, CRLF, quoted ids with leading spaces; LTD repeats the
    w names at its end with OTHER numbers): rows are (id, Pr_before, Pr_after, q_before, q_after[, w_b, w_a])."""
    lines = [",".join(LTP_HEADER if group == "ltp" else LTD_HEADER)]
    for row in rows:
        rid, pb, pa, qb, qa = row[:5]
        wb, wa = row[5:7] if len(row) > 5 else (pb * qb, pa * qa)
        change = [pa - pb, (pa - pb) / pb, qa - qb, (qa - qb) / qb]
        dw = [abs(wa - wb), abs(wa / wb - 1)]
        cells = [f"    '{rid}'", "0.1", "10" if group == "ltp" else "-10", repr(pb), repr(pa), repr(qb), repr(qa)]
        if group == "ltp":
            cells += [repr(v) for v in (*change, wb, wa, *dw)]
        else:
            cells += [repr(v) for v in (wb, wa, *change, *dw, *trailing)]
        lines.append(",".join(cells))
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


# five synapses, x = Pr before, y = |relative change|: r is computed by hand below
FIVE = [
    ("s1", "ltp", 0.2, 0.9),
    ("s2", "ltd", 0.4, 0.5),
    ("s3", "ltp", 0.5, 0.6),
    ("s4", "ltd", 0.6, 0.3),
    ("s5", "ltp", 0.8, 0.1),
]


def five_row_files(tmp_path: Path) -> dict[str, Path]:
    by_group = {"ltp": [], "ltd": []}
    for rid, group, p, size in FIVE:  # Pr unchanged, q moves by the size, up for LTP and down for LTD
        by_group[group].append((rid, p, p, 1.0, 1.0 + size if group == "ltp" else 1.0 - size))
    return {g: write_layout(tmp_path / f"{g}.csv", g, rows) for g, rows in by_group.items()}


# --------------------------------------------------------------------------- parsing the real files
def test_vendored_files_parse_to_44_synapses_with_w_recomputed():
    rec = parse.load_recordings({"ltp": VENDORED / LTP_NAME, "ltd": VENDORED / LTD_NAME})
    assert len(rec) == 44 and (rec["group"] == "ltp").sum() == 30 and (rec["group"] == "ltd").sum() == 14
    assert not rec["recording"].str.contains("'| ").any()  # quotes and leading spaces stripped
    first = rec.iloc[0]
    assert first["recording"] == "EPSP_Sat_Sep_9_2000_5_to_6" and first["file_row"] == 2
    assert first["strength_before"] == pytest.approx(0.32032 * 0.1992, abs=1e-12)  # Pr * q, not a file column
    assert (rec.loc[rec.group == "ltp", "rel_change"] > 0).all() and (
        rec.loc[rec.group == "ltd", "rel_change"] < 0
    ).all()
    np.testing.assert_allclose(rec["rel_change_size"], np.abs(rec["strength_after"] / rec["strength_before"] - 1))
    # twelve ids occur in both files with other numbers: labels, not keys (both kept)
    assert len(set(rec.loc[rec.group == "ltp", "recording"]) & set(rec.loc[rec.group == "ltd", "recording"])) == 12


def test_trailing_mislabelled_w_columns_are_not_read_as_w(tmp_path):
    # the real LTD file: its last two columns are named w (before)/w (after) but hold ~1e-5..1e-2
    header, rows = parse.read_cells(VENDORED / LTD_NAME)
    idx = [i for i, h in enumerate(header) if h == "w (before)"]
    assert len(idx) == 2 and header[0] == "Recording"  # the byte-order mark is gone
    rec = parse.parse_file(VENDORED / LTD_NAME, "ltd")
    trailing = np.array([float(r[idx[1]]) for r in rows])
    assert not np.allclose(trailing, rec["strength_before"])
    np.testing.assert_allclose(rec["strength_before"], [float(r[idx[0]]) for r in rows], atol=1e-9)
    # a fixture whose trailing pair holds nonsense still parses, with w = Pr q
    path = write_layout(tmp_path / "ltd.csv", "ltd", [("a", 0.5, 0.4, 0.2, 0.2)], trailing=(123.0, -7.0))
    assert parse.parse_file(path, "ltd")["strength_before"].iloc[0] == pytest.approx(0.1)


# --------------------------------------------------------------------------- error paths, by file, row and column
@pytest.mark.parametrize(
    "row, needle",
    [
        (("a", 1.2, 0.5, 0.2, 0.3), "row 2, column 'Pr (before)': 1.2 outside (0, 1]"),
        (("a", 0.5, 0.6, -0.1, 0.3), "row 2, column 'q (mV, before)': -0.1 <= 0"),
        (("a", 0.5, 0.6, 0.2, 0.3, 0.2, 0.18), "row 2, column 'w (before)': 0.2 is not Pr * q = 0.1"),
        (("a", 0.5, 0.4, 0.2, 0.2), "row 2: strength Pr*q changes by -0.2, against the file's group LTP"),
    ],
)
def test_bad_values_stop_naming_file_row_and_column(tmp_path, row, needle):
    path = write_layout(tmp_path / "Sjostrom2001_LTP_schug.csv", "ltp", [("ok", 0.3, 0.4, 0.2, 0.2), row])
    with pytest.raises(parse.SjostromDataError) as err:
        parse.parse_file(path, "ltp")
    assert "Sjostrom2001_LTP_schug.csv" in str(err.value) and needle.replace("row 2", "row 3") in str(err.value)


def test_missing_and_non_numeric_cells_are_located(tmp_path):
    path = write_layout(tmp_path / "f.csv", "ltp", [("a", 0.3, 0.4, 0.2, 0.2), ("b", 0.3, 0.4, 0.2, 0.2)])
    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")
    cells = lines[1].split(",")
    cells[4] = "n/a"  # Pr (after) of row 2
    lines[1] = ",".join(cells)
    cells = lines[2].split(",")
    cells[5] = ""  # q (mV, before) of row 3
    lines[2] = ",".join(cells)
    path.write_bytes(("\ufeff" + "\r\n".join(lines)).encode())
    with pytest.raises(parse.SjostromDataError) as err:
        parse.parse_file(path, "ltp")
    msg = str(err.value)
    assert "f.csv, row 2, column 'Pr (after)': non-numeric cell 'n/a'" in msg
    assert "f.csv, row 3, column 'q (mV, before)': empty cell" in msg


def test_missing_column_is_named(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("Recording,Pr (before)\n'a',0.5\n")
    with pytest.raises(parse.SjostromDataError, match=r"f.csv: missing column\(s\) .*'Pr \(after\)'"):
        parse.parse_file(path, "ltp")


# --------------------------------------------------------------------------- sources and checksums
def cfg_with(
    tmp_path: Path, sources_order: list[str], url: str = "http://127.0.0.1:9/{commit}/{file}", vendored=VENDORED
) -> dict:
    return {
        **CONFIG,
        "sources": sources_order,
        "github": {**CONFIG["github"], "url": url},
        "vendored": str(vendored),
        "timeout_s": 2,
    }


def tampered_copy(tmp_path: Path) -> Path:
    """The vendored folder with ONE digit of the LTP file changed."""
    folder = tmp_path / "tampered"
    shutil.copytree(VENDORED, folder)
    data = (folder / LTP_NAME).read_bytes()
    i = data.index(b"0.32032")
    (folder / LTP_NAME).write_bytes(data[:i] + b"0.32033" + data[i + 7 :])
    return folder


def test_vendored_copy_matches_the_recorded_sha256():
    for group in ("ltp", "ltd"):
        f = CONFIG["files"][group]
        assert sha256_file(VENDORED / f["name"]) == f["sha256"]
    assert (VENDORED / "LICENCE-CC-BY-4.0.txt").exists() and "Creative Commons Attribution 4.0" in (
        VENDORED / "PROVENANCE.md"
    ).read_text()


def test_tampered_copy_is_refused_by_name(tmp_path):
    cfg = cfg_with(tmp_path, ["vendored"], vendored=tampered_copy(tmp_path))
    with pytest.raises(sources.SjostromUnavailableError) as err:
        sources.fetch(cfg, tmp_path / "raw", ROOT)
    msg = str(err.value)
    assert LTP_NAME in msg and "vendored:" in msg and "sha256" in msg and "refused" in msg
    assert not (tmp_path / "raw" / LTP_NAME).exists()  # nothing with the final name was left
    assert not [p for p in (tmp_path / "raw").glob("*") if not p.name.startswith(".")]
    # a file edited after the fetch is refused before parsing
    good = sources.fetch(cfg_with(tmp_path, ["vendored"]), tmp_path / "raw2", ROOT)
    assert set(good["files"]) == {LTP_NAME, LTD_NAME}
    shutil.copy(tampered_copy(tmp_path / "t2") / LTP_NAME, tmp_path / "raw2" / LTP_NAME)
    with pytest.raises(ValueError, match=f"{LTP_NAME}: sha256 .* changed after it was fetched"):
        sources.verify(CONFIG, tmp_path / "raw2")


@pytest.fixture
def http_folder():
    """Serve files from a folder on a local port (no DNS, no outside network)."""
    servers = []

    def serve(folder: Path) -> str:
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
        handler.log_message = lambda *a: None
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        return f"http://127.0.0.1:{srv.server_address[1]}/{{commit}}/{{file}}"

    yield serve
    for srv in servers:
        srv.shutdown()


def test_github_source_is_tried_first_and_verified(tmp_path, http_folder):
    site = tmp_path / "site" / CONFIG["github"]["commit"]
    shutil.copytree(VENDORED, site)
    url = http_folder(tmp_path / "site")
    record = sources.fetch(cfg_with(tmp_path, ["github", "vendored"], url=url), tmp_path / "raw", ROOT)
    assert {m["source"] for m in record["files"].values()} == {"github"} and not record["failures"]
    assert json.loads((tmp_path / "raw" / "sources.json").read_text())["files"][LTP_NAME]["from"].startswith(
        "http://127.0.0.1"
    )
    # a tampered remote copy is refused and the vendored copy is used instead
    shutil.copy(tampered_copy(tmp_path) / LTP_NAME, site / LTP_NAME)
    record = sources.fetch(cfg_with(tmp_path, ["github", "vendored"], url=url), tmp_path / "raw3", ROOT)
    assert record["files"][LTP_NAME]["source"] == "vendored" and record["files"][LTD_NAME]["source"] == "github"
    assert any("github" in f and "sha256" in f for f in record["failures"])


def test_unreachable_github_falls_back_and_all_failing_says_what_to_do(tmp_path):
    record = sources.fetch(cfg_with(tmp_path, ["github", "vendored"]), tmp_path / "raw", ROOT)  # closed local port
    assert {m["source"] for m in record["files"].values()} == {"vendored"}
    assert all("github: URLError" in f for f in record["failures"])
    with pytest.raises(sources.SjostromUnavailableError) as err:
        sources.fetch(
            cfg_with(tmp_path, ["github", "vendored"], vendored=tmp_path / "nowhere"), tmp_path / "raw4", ROOT
        )
    msg = str(err.value)
    assert "every source failed" in msg and "github: URLError" in msg and "vendored: FileNotFoundError" in msg
    assert "git checkout -- vendor/sjostrom" in msg


# --------------------------------------------------------------------------- statistics
def test_pooled_r_on_five_synapses_hand_computed(tmp_path):
    rec = parse.load_recordings(five_row_files(tmp_path))
    np.testing.assert_allclose(rec.sort_values("P_before")["rel_change_size"], [0.9, 0.5, 0.6, 0.3, 0.1], atol=1e-12)
    st = appfig4_stats(rec, n_shuffle=200, seed=0).set_index("name")
    # x = (.2 .4 .5 .6 .8), y = (.9 .5 .6 .3 .1): Sxy = -0.26, Sxx = 0.2, Syy = 0.368
    assert st.loc["appfig4.pearson.all", "value"] == pytest.approx(-0.26 / np.sqrt(0.2 * 0.368), abs=1e-12)
    assert st.loc["appfig4.n_recordings.all", "n"] == 5 and st.loc["appfig4.n_recordings.ltd", "n"] == 2
    # the signed change is an extra: LTD rows count negative
    signed = np.array([0.9, -0.5, 0.6, -0.3, 0.1])
    assert st.loc["appfig4.pearson_signed.all", "value"] == pytest.approx(
        pearson_by_hand([0.2, 0.4, 0.5, 0.6, 0.8], signed)[0]
    )


def test_real_data_stats_pooled_and_per_group():
    rec = parse.load_recordings({"ltp": VENDORED / LTP_NAME, "ltd": VENDORED / LTD_NAME})
    st = appfig4_stats(rec, n_shuffle=500, seed=1).set_index("name")
    for key, sub in (("all", rec), ("ltp", rec[rec.group == "ltp"]), ("ltd", rec[rec.group == "ltd"])):
        r, p = pearson_by_hand(sub["P_before"], np.abs(sub["strength_after"] / sub["strength_before"] - 1))
        assert st.loc[f"appfig4.pearson.{key}", "value"] == pytest.approx(r, abs=1e-12)
        assert st.loc[f"appfig4.pearson.{key}", "p_value"] == pytest.approx(p, rel=1e-9)
    assert st.loc["appfig4.pearson.all", "n"] == 44
    assert st.loc["appfig4.pearson.all", "value"] == pytest.approx(-0.4418, abs=5e-5)  # SOURCE.md: -0.4418, p = 0.0027
    assert st.loc["appfig4.pearson_signed.all", "value"] == pytest.approx(-0.334, abs=5e-4)


def test_shuffle_null_measures_the_built_in_correlation():
    rng = np.random.default_rng(0)
    n = 400
    p = rng.uniform(0.1, 1, n)
    q = rng.uniform(0.5, 1.5, n)
    s_after = rng.permutation(p * q) * rng.uniform(0.8, 1.2, n)  # after-strengths unrelated to P
    null = shuffle_null(p, p * q, s_after, 300, np.random.default_rng(1))
    observed = pearson_by_hand(p, np.abs(s_after / (p * q) - 1))[0]
    assert null.shape == (300,)
    perms = np.random.default_rng(1).permuted(np.tile(np.arange(n), (300, 1)), axis=1)  # the same permutations
    assert null[7] == pytest.approx(np.corrcoef(p, np.abs(s_after[perms[7]] / (p * q) - 1))[0, 1], abs=1e-12)
    assert observed < -0.2 and abs(null.mean() - observed) < 3 * null.std()  # built in, and the null reproduces it


def test_figure_draws_from_the_stats(tmp_path):
    from presyn.figures import appfig4 as fig

    rec = parse.load_recordings(five_row_files(tmp_path))
    fig.draw(rec, appfig4_stats(rec, 100), str(tmp_path / "a.pdf"), str(tmp_path / "a.png"))
    assert (tmp_path / "a.pdf").stat().st_size > 1000 and (tmp_path / "a.png").exists()


# --------------------------------------------------------------------------- end to end
@pytest.mark.e2e
def test_quick_config_builds_the_real_appfig4_offline(workdir):
    offline = workdir.overlay(
        "offline",
        {
            "sjostrom": {
                "sources": ["github", "vendored"],
                "timeout_s": 2,
                "github": {"url": "http://127.0.0.1:9/{commit}/{file}"},
            }
        },
    )
    workdir.snakemake("figures/appfig4.pdf", configfiles=("config/quick.yaml", str(offline)))
    wd = workdir.path
    assert (wd / "figures/appfig4.pdf").stat().st_size > 1000 and (wd / "figures/appfig4.png").exists()
    record = json.loads((wd / "data/raw/sjostrom/sources.json").read_text())
    assert {m["source"] for m in record["files"].values()} == {"vendored"}
    table = pd.read_csv(wd / "results/tables/sjostrom_recordings.csv")
    assert len(table) == 44 and table["group"].value_counts().to_dict() == {"ltp": 30, "ltd": 14}
    stats = pd.read_csv(wd / "results/stats/appfig4.csv").set_index("name")
    assert stats.loc["appfig4.pearson.all", "n"] == 44 and stats.loc["appfig4.shuffle_null_r", "n"] == 1000


@pytest.mark.e2e
def test_disabled_section_leaves_appfig4_out_of_figures_all(workdir):
    off = workdir.overlay("off", {"sjostrom": {"enabled": False, "left_out_reason": "no data here"}})
    res = workdir.snakemake("figures/all", configfiles=("config/quick.yaml", str(off)), extra=("-n",), check=True)
    assert "appfig4" not in res.stdout and "sjostrom" not in res.stdout
    on = workdir.snakemake("figures/all", extra=("-n",), check=True)
    assert "appfig4" in on.stdout
