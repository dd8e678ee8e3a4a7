"""App. fig 4 (Sjöström et al. 2001 recordings): binomial P/q, parser, API handling, analysis, e2e."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests
import yaml

from presyn.figures import appfig4 as fig
from presyn.sjostrom import download as dl
from presyn.sjostrom.analysis import appfig4_stats, shuffle_null
from presyn.sjostrom.parse import (ColumnMapping, ParseError, binomial_pq, choose_file, load_recordings,
                                   parse_recordings, read_raw, verify_checksums)
from presyn.sjostrom.synthetic import make_synthetic, write_synthetic

from conftest import pearson_by_hand

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "sjostrom"
SAMPLE = DATA / "sample_recordings.csv"
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["sjostrom"]


def pq_mapping(**kw) -> ColumnMapping:
    return ColumnMapping.from_config({**copy.deepcopy(CONFIG), **kw})


def binomial_mapping() -> ColumnMapping:
    cfg = copy.deepcopy(CONFIG)
    cfg["estimates"] = "binomial"
    cfg["columns"].update(P_before=None, P_after=None, q_before=None, q_after=None,
                          mean_before="epsp_mean_before", mean_after="epsp_mean_after",
                          cv_before="epsp_cv_before", cv_after="epsp_cv_after")
    return ColumnMapping.from_config(cfg)


# --------------------------------------------------------------------------- binomial model
def test_binomial_pq_hand_computed():
    # mu = 1.1, CV = 0.5, N = 5.5: sigma = 0.55, sigma^2 = 0.3025,
    # q = 0.3025 / 1.1 + 1.1 / 5.5 = 0.275 + 0.2 = 0.475, P = 1.1 / (5.5 * 0.475) = 1.1 / 2.6125 = 0.421052...
    p, q = binomial_pq(1.1, 0.5, 5.5)
    assert q == pytest.approx(0.475, abs=1e-12)
    assert p == pytest.approx(1.1 / 2.6125, abs=1e-12)
    assert p == pytest.approx(0.42105263, abs=1e-8)


def test_binomial_pq_inverts_the_binomial_moments():
    p_true, q_true, n = np.array([0.1, 0.5, 0.9]), np.array([0.2, 1.0, 3.0]), 5.5
    mu = n * p_true * q_true
    cv = np.sqrt(n * p_true * (1 - p_true)) * q_true / mu
    p, q = binomial_pq(mu, cv, n)
    np.testing.assert_allclose(p, p_true, rtol=1e-12)
    np.testing.assert_allclose(q, q_true, rtol=1e-12)


# --------------------------------------------------------------------------- parser: good files
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_parser_reads_csv_and_xlsx(tmp_path, suffix):
    raw = write_synthetic(tmp_path / f"recordings{suffix}", n=12, seed=3)
    rec = load_recordings(tmp_path / f"recordings{suffix}", pq_mapping())
    assert len(rec) == 12
    assert list(rec["recording"]) == list(raw["recording"])
    assert (rec["group"] == np.where(raw["protocol"].str.startswith("LTP"), "ltp", "ltd")).all()
    np.testing.assert_allclose(rec["P_before"], raw["P_before"], rtol=1e-12)
    np.testing.assert_allclose(rec["rel_change"],
                               raw["P_after"] * raw["q_after"] / (raw["P_before"] * raw["q_before"]) - 1, rtol=1e-12)
    assert rec["synthetic"].all()  # the synthetic file says so in its own column
    assert rec["source_file"].iloc[0] == f"recordings{suffix}"


def test_parser_binomial_layout_gives_the_same_p_and_q():
    raw = read_raw(SAMPLE)
    a = parse_recordings(raw, pq_mapping(), "sample.csv")
    b = parse_recordings(raw, binomial_mapping(), "sample.csv")
    for col in ("P_before", "P_after", "q_before", "q_after", "rel_change"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-9)
    assert b["estimates"].iloc[0] == "binomial N=5.5"


def test_parser_groups_from_timing():
    cfg = copy.deepcopy(CONFIG)
    cfg["group_from"] = "timing"
    cfg["columns"]["timing"] = "timing_ms"
    rec = parse_recordings(read_raw(SAMPLE), ColumnMapping.from_config(cfg), "sample.csv")
    raw = pd.read_csv(SAMPLE)
    assert (rec["group"] == np.where(raw["timing_ms"] > 0, "ltp", "ltd")).all()


def test_real_file_is_not_flagged_synthetic_unless_told(tmp_path):
    raw = make_synthetic(6).drop(columns=["synthetic", "note"])
    assert not parse_recordings(raw.astype(str), pq_mapping(), "x.csv")["synthetic"].any()
    assert parse_recordings(raw.astype(str), pq_mapping(), "x.csv", synthetic=True)["synthetic"].all()


# --------------------------------------------------------------------------- parser: bad files
def test_missing_column_is_named(tmp_path):
    df = make_synthetic(6).drop(columns=["q_after"])
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ParseError) as err:
        load_recordings(tmp_path / "bad.csv", pq_mapping())
    msg = str(err.value)
    assert "'q_after' (q_after)" in msg and "the file has columns" in msg and "P_before" in msg


def test_text_in_numeric_cell_is_located(tmp_path):
    df = make_synthetic(6).astype(object)
    df.loc[2, "q_after"] = "n.d."
    df.loc[4, "P_before"] = None
    df.to_excel(tmp_path / "bad.xlsx", index=False)
    with pytest.raises(ParseError) as err:
        load_recordings(tmp_path / "bad.xlsx", pq_mapping())
    msg = str(err.value)
    # data row index 2 is spreadsheet row 4 (header = row 1)
    assert "row 4, column 'q_after' (q_after): non-numeric cell 'n.d.'" in msg
    assert "row 6, column 'P_before' (P_before): empty cell" in msg
    assert "2 problem(s) in 2 of 6 rows" in msg


def test_title_rows_and_blank_lines_keep_file_row_numbers(tmp_path):
    df = make_synthetic(5).astype(object)
    df.loc[3, "P_after"] = "?"
    body = df.to_csv(index=False).splitlines()
    # a title line above the header, a blank line after the second data row
    lines = ["Sjostrom et al. 2001, re-analysed,,,"] + body[:3] + [""] + body[3:]
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n")
    cfg = copy.deepcopy(CONFIG)
    with pytest.raises(ParseError) as err:
        load_recordings(tmp_path / "t.csv", ColumnMapping.from_config(cfg))  # header_row 0: the title is no header
    assert "missing column(s)" in str(err.value)
    cfg["header_row"] = 1
    with pytest.raises(ParseError) as err:
        load_recordings(tmp_path / "t.csv", ColumnMapping.from_config(cfg))
    # lines: 1 title, 2 header, 3 syn000, 4 syn001, 5 blank, 6 syn002, 7 syn003 (the "?")
    assert "row 7, column 'P_after' (P_after): non-numeric cell '?'" in str(err.value)
    assert "header = row 2" in str(err.value)
    cfg["invalid_rows"] = "drop"
    rec = load_recordings(tmp_path / "t.csv", ColumnMapping.from_config(cfg))
    assert list(rec["recording"]) == ["syn000", "syn001", "syn002", "syn004"]


def test_out_of_range_p_rejected_or_dropped(tmp_path):
    df = make_synthetic(6)
    df.loc[1, "P_after"] = 1.3
    df.loc[3, "P_before"] = 0.0
    df.to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ParseError, match=r"row 3, column 'P_after' \(P_after\): 1.3 out of range \(0 < P <= 1\)"):
        load_recordings(tmp_path / "bad.csv", pq_mapping())
    rec = load_recordings(tmp_path / "bad.csv", pq_mapping(invalid_rows="drop"))
    assert len(rec) == 4 and set(rec["recording"]) == set(df["recording"].drop([1, 3]))


def test_binomial_p_above_one_rejected(tmp_path):
    df = make_synthetic(4)
    df.loc[0, "epsp_cv_before"] = 0.0  # sigma = 0 -> q = mu / N -> P = 1 exactly: allowed
    df.loc[1, "epsp_cv_before"] = -0.1
    df.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(ParseError) as err:
        load_recordings(tmp_path / "b.csv", binomial_mapping())
    assert "row 3, column 'epsp_cv_before' (cv_before): -0.1 out of range (CV >= 0)" in str(err.value)
    assert "row 2" not in str(err.value)


def test_unknown_protocol_is_located():
    raw = make_synthetic(4).astype(str)
    raw.loc[3, "protocol"] = "control, no pairing"
    with pytest.raises(ParseError, match=r"row 5, column 'protocol' \(protocol\): 'control, no pairing' matches none"):
        parse_recordings(raw, pq_mapping(), "x.csv")


def test_choose_file(tmp_path):
    with pytest.raises(ParseError, match="no csv/xls/xlsx file"):
        choose_file(tmp_path)
    (tmp_path / "a.csv").write_text("x\n")
    (tmp_path / "checksums.json").write_text("{}")
    assert choose_file(tmp_path).name == "a.csv"
    (tmp_path / "b.xlsx").write_bytes(b"")
    with pytest.raises(ParseError, match="name the one to use in config sjostrom.file"):
        choose_file(tmp_path)
    assert choose_file(tmp_path, "b.*").name == "b.xlsx"


# --------------------------------------------------------------------------- API handling (HTTP mocked)
class FakeResponse:
    def __init__(self, url, status=200, payload=None, content=b"", fail_after=None):
        self.url, self.status_code, self._payload, self._content = url, status, payload, content
        self.headers = {"content-type": "application/json" if payload is not None else "text/csv"}
        self.fail_after = fail_after

    def json(self):
        if self._payload is None:
            raise ValueError("not json")
        return self._payload

    def iter_content(self, chunk_size=1):
        for i in range(0, len(self._content), 100):
            if self.fail_after is not None and i >= self.fail_after:
                raise requests.ConnectionError("connection reset by peer")
            yield self._content[i:i + 100]


def load(name):
    return json.loads((DATA / name).read_text())


DRYAD = "https://datadryad.org"
DS = f"{DRYAD}/api/v2/datasets/doi%3A10.5061%2Fdryad.p286g"
MENDELEY_FILES = "https://data.mendeley.com/public-api/datasets/7wvf2yw4jn/files?folder_id=root&version=1"


def routes(csv_bytes=None, **override):
    csv_bytes = SAMPLE.read_bytes() if csv_bytes is None else csv_bytes
    mendeley = load("mendeley_files.json")
    table = {
        DS: load("dryad_dataset.json"),
        f"{DS}/versions": load("dryad_versions.json"),
        f"{DRYAD}/api/v2/versions/90002/files": load("dryad_files_page1.json"),
        f"{DRYAD}/api/v2/versions/90002/files?page=2": load("dryad_files_page2.json"),
        f"{DRYAD}/api/v2/files/70002/download": csv_bytes,
        MENDELEY_FILES: mendeley,
        mendeley[0]["content_details"]["download_url"]: csv_bytes,
    }
    table.update(override)
    return table


@pytest.fixture
def http(monkeypatch):
    """Route requests.get to canned responses; record the URLs asked for."""
    state = {"routes": routes(), "calls": []}

    def fake_get(url, headers=None, timeout=None, stream=False, allow_redirects=True):
        state["calls"].append({"url": url, "headers": headers or {}})
        assert timeout is not None, "every request needs a timeout"
        item = state["routes"].get(url)
        if item is None:
            raise requests.ConnectionError(f"HTTPSConnectionPool(host='{url.split('/')[2]}', port=443): Max retries "
                                           f"exceeded (Caused by NameResolutionError(\"Failed to resolve "
                                           f"'{url.split('/')[2]}' ([Errno -2] Name or service not known)\"))")
        if isinstance(item, Exception):
            raise item
        if isinstance(item, FakeResponse):
            return item
        if isinstance(item, int):
            return FakeResponse(url, status=item)
        if isinstance(item, bytes):
            return FakeResponse(url, content=item)
        return FakeResponse(url, payload=item)

    monkeypatch.setattr(dl.requests, "get", fake_get)
    return state


def test_dryad_resolution_latest_version_paging_and_digest(tmp_path, http):
    raw = tmp_path / "raw"
    record, failures = dl.fetch(CONFIG, raw)
    assert failures == [] and record["source"] == "dryad" and record["doi"] == "10.5061/dryad.p286g"
    urls = [c["url"] for c in http["calls"]]
    assert urls[0] == DS  # the DOI url-encoded, "doi:" prefixed
    assert f"{DRYAD}/api/v2/versions/90001/files" not in urls  # the latest version (versionNumber 2) only
    assert f"{DRYAD}/api/v2/files/70001/download" not in urls  # README.txt: not tabular, not downloaded
    assert (raw / "sjostrom2001_recordings.csv").read_bytes() == SAMPLE.read_bytes()
    meta = json.loads((raw / "checksums.json").read_text())["files"]["sjostrom2001_recordings.csv"]
    assert meta["sha256"] == "56b17c5748fb449c74c93cc43efe0ed0edf8ecfda8a7f0843dc831fcc9557c51"
    assert meta["api_digest_type"] == "md5" and meta["api_digest"] == "0407f42b22c53c8ed961355d855a889b"
    assert sorted(p.name for p in raw.iterdir()) == ["checksums.json", "sjostrom2001_recordings.csv"]
    # later runs: verified against the record, no network
    http["routes"].clear()
    assert dl.fetch(CONFIG, raw)[0]["source"] == "dryad"
    assert verify_checksums(raw, raw / "checksums.json")["files"]


def test_dryad_digest_mismatch_falls_back_to_mendeley(tmp_path, http):
    bad = SAMPLE.read_bytes().replace(b"syn000", b"syn999")
    http["routes"][f"{DRYAD}/api/v2/files/70002/download"] = bad
    raw = tmp_path / "raw"
    record, failures = dl.fetch(CONFIG, raw)
    assert record["source"] == "mendeley" and record["doi"] == "10.17632/7wvf2yw4jn.1"
    assert len(failures) == 1 and failures[0].startswith("dryad:") and "differs from the API's digest" in failures[0]
    # the corrupt Dryad file never appeared under its name; the .m script was not fetched
    assert sorted(p.name for p in raw.iterdir()) == ["checksums.json", "sjostrom2001_P_q_estimates.csv"]
    meta = json.loads((raw / "checksums.json").read_text())["files"]["sjostrom2001_P_q_estimates.csv"]
    assert meta["api_digest_type"] == "sha256" and meta["api_digest"] == meta["sha256"]


def test_dryad_refusal_mentions_token_and_token_is_sent(tmp_path, http, monkeypatch):
    http["routes"][f"{DRYAD}/api/v2/files/70002/download"] = 401
    http["routes"][MENDELEY_FILES] = 404
    http["routes"]["https://data.mendeley.com/public-api/datasets/7wvf2yw4jn?version=1"] = 404
    monkeypatch.setenv("DRYAD_API_TOKEN", "t0ken")
    with pytest.raises(dl.SjostromUnavailableError) as err:
        dl.fetch(CONFIG, tmp_path / "raw")
    assert "HTTP 401" in str(err.value) and "token_env" in str(err.value)
    assert all(c["headers"].get("Authorization") == "Bearer t0ken" for c in http["calls"] if "datadryad" in c["url"])
    assert not any("Authorization" in c["headers"] for c in http["calls"] if "mendeley" in c["url"])


def test_interrupted_download_leaves_no_complete_looking_file(tmp_path, http):
    url = f"{DRYAD}/api/v2/files/70002/download"
    http["routes"][url] = FakeResponse(url, content=SAMPLE.read_bytes(), fail_after=1000)
    mendeley_url = load("mendeley_files.json")[0]["content_details"]["download_url"]
    http["routes"][mendeley_url] = FakeResponse(mendeley_url, content=SAMPLE.read_bytes(), fail_after=1000)
    raw = tmp_path / "raw"
    with pytest.raises(dl.SjostromUnavailableError) as err:
        dl.fetch(CONFIG, raw)
    assert "connection reset" in str(err.value)
    assert list(raw.iterdir()) == []  # no partial file, no temporary, no checksums


def test_all_sources_offline_says_what_to_put_where(tmp_path, http):
    http["routes"].clear()
    raw = tmp_path / "data" / "raw" / "sjostrom"
    with pytest.raises(dl.SjostromUnavailableError) as err:
        dl.fetch(CONFIG, raw)
    msg = str(err.value)
    assert ("dryad: GET https://datadryad.org/api/v2/datasets/doi%3A10.5061%2Fdryad.p286g: ConnectionError: "
            "cannot resolve host datadryad.org (offline?)") in msg
    assert "mendeley: no file list (GET https://data.mendeley.com/public-api/datasets/7wvf2yw4jn/files" in msg
    assert f"Put that one file into {raw}/" in msg and "(csv, xls or xlsx)" in msg
    assert "https://doi.org/10.5061/dryad.p286g" in msg and "https://doi.org/10.17632/7wvf2yw4jn.1" in msg
    assert "sjostrom.enabled: false" in msg
    assert not (raw / "checksums.json").exists()


def test_file_placed_by_hand_is_recorded_then_verified(tmp_path, http):
    http["routes"].clear()  # offline
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SAMPLE, raw / "placed.csv")
    record, _ = dl.fetch(CONFIG, raw)
    assert record["source"] == "local" and http["calls"] == []
    assert record["files"]["placed.csv"]["sha256"] == dl.sha256_file(SAMPLE)
    (raw / "placed.csv").write_text((raw / "placed.csv").read_text().replace("syn000", "syn777"))
    with pytest.raises(dl.ChecksumError, match="placed.csv: sha256 .* differs"):
        verify_checksums(raw, raw / "checksums.json")


def test_zip_archive_members_extracted(tmp_path, http):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/recordings.xlsx", b"not really excel but tabular by name")
        zf.writestr("__MACOSX/data/._recordings.xlsx", b"junk")
        zf.writestr("data/notes.txt", b"text")
    page = load("dryad_files_page2.json")
    entry = page["_embedded"]["stash:files"][0]
    entry.update(path="archive.zip", size=len(buf.getvalue()), digest=None, digestType=None)
    http["routes"][f"{DRYAD}/api/v2/versions/90002/files?page=2"] = page
    http["routes"][f"{DRYAD}/api/v2/files/70002/download"] = buf.getvalue()
    record, _ = dl.fetch(CONFIG, tmp_path / "raw")
    assert set(record["files"]) == {"archive.zip", "recordings.xlsx"}
    assert record["files"]["recordings.xlsx"]["extracted_from"] == "archive.zip"


def test_mendeley_doi_parsing_and_safe_names():
    assert dl.mendeley_id("10.17632/7wvf2yw4jn.1") == ("7wvf2yw4jn", "1")
    assert dl.mendeley_id("doi:10.17632/7wvf2yw4jn") == ("7wvf2yw4jn", None)
    with pytest.raises(dl.SourceError):
        dl.mendeley_id("10.5061/dryad.p286g")
    assert dl.safe_name("folder/sub/x.csv") == "x.csv"
    for bad in ("../", "..", ".hidden.csv", ""):
        with pytest.raises(dl.SourceError):
            dl.safe_name(bad)


# --------------------------------------------------------------------------- analysis
def test_stats_rows_and_pearson_match_the_formula():
    rec = parse_recordings(make_synthetic(40, seed=2).astype(str), pq_mapping(), "s.csv")
    st = appfig4_stats(rec, n_shuffle=500, seed=0).set_index("name")
    for name in ("appfig4.pearson.all", "appfig4.pearson.ltp", "appfig4.pearson.ltd", "appfig4.shuffle_null_r",
                 "appfig4.shuffle_null_r.ltp", "appfig4.shuffle_null_r.ltd", "appfig4.shuffle_p", "appfig4.r_minus_null",
                 "appfig4.regression.slope", "appfig4.regression.intercept", "appfig4.n_recordings.all",
                 "appfig4.pearson_abs.all"):
        assert name in st.index, name
    r, p = pearson_by_hand(rec["P_before"], rec["rel_change"])
    assert st.loc["appfig4.pearson.all", "value"] == pytest.approx(r, rel=1e-9)
    assert st.loc["appfig4.pearson.all", "p_value"] == pytest.approx(p, rel=1e-6)
    ltd = rec[rec["group"] == "ltd"]
    assert st.loc["appfig4.pearson.ltd", "value"] == pytest.approx(pearson_by_hand(ltd["P_before"], ltd["rel_change"])[0], rel=1e-9)
    assert st.loc["appfig4.pearson_abs.all", "value"] == pytest.approx(pearson_by_hand(rec["P_before"], rec["rel_change"].abs())[0],
                                                                      rel=1e-9)
    assert st.loc["appfig4.n_recordings.ltp", "value"] == 20
    assert "data=synthetic" in st.loc["appfig4.pearson.all", "groups"]
    assert st.loc["appfig4.r_minus_null", "value"] == pytest.approx(
        st.loc["appfig4.pearson.all", "value"] - st.loc["appfig4.shuffle_null_r", "value"])


def test_shuffle_null_measures_the_built_in_correlation():
    """After-strengths independent of P: the observed r is negative (P on both axes) and the shuffle null
    reproduces it, so the permutation p is not small."""
    rng = np.random.default_rng(7)
    n = 60
    p = rng.uniform(0.1, 0.9, n)
    q = rng.lognormal(0, 0.3, n)
    s_after = rng.permutation(p * q) * rng.lognormal(0, 0.1, n)  # unrelated to each recording's P
    rec = pd.DataFrame({"recording": [str(i) for i in range(n)], "group": ["ltp"] * n, "P_before": p, "q_before": q,
                        "P_after": np.full(n, 0.5), "q_after": s_after / 0.5, "strength_before": p * q,
                        "strength_after": s_after, "rel_change": s_after / (p * q) - 1, "synthetic": True})
    st = appfig4_stats(rec, n_shuffle=2000, seed=1).set_index("name")
    r, null = st.loc["appfig4.pearson.all", "value"], st.loc["appfig4.shuffle_null_r", "value"]
    assert r < -0.3 and null < -0.3
    assert st.loc["appfig4.shuffle_p", "p_value"] > 0.05
    lo, hi = st.loc["appfig4.shuffle_null_q025", "value"], st.loc["appfig4.shuffle_null_q975", "value"]
    assert lo < r < hi


def test_shuffle_null_is_r_of_each_permutation():
    rng = np.random.default_rng(0)
    p, s_before, s_after = rng.uniform(size=10), rng.uniform(1, 2, size=10), rng.uniform(1, 2, size=10)
    null = shuffle_null(p, s_before, s_after, 50, np.random.default_rng(5))
    perms = np.random.default_rng(5).permuted(np.tile(np.arange(10), (50, 1)), axis=1)  # the same draws
    ref = [np.corrcoef(p, s_after[perm] / s_before - 1)[0, 1] for perm in perms]
    assert null.shape == (50,) and len(set(perms[:, 0])) > 1
    np.testing.assert_allclose(null, ref, rtol=1e-10)


def test_figure_title_says_synthetic(tmp_path):
    rec = parse_recordings(make_synthetic(12).astype(str), pq_mapping(), "s.csv")
    assert fig.is_synthetic(rec) and "SYNTHETIC" in fig.figure_title(True)
    assert "SYNTHETIC" not in fig.figure_title(False)
    fig.draw(rec, appfig4_stats(rec, 200), str(tmp_path / "a.pdf"), str(tmp_path / "a.png"))
    assert (tmp_path / "a.pdf").stat().st_size > 1000 and (tmp_path / "a.png").exists()


# --------------------------------------------------------------------------- end to end
@pytest.mark.e2e
def test_quick_config_builds_appfig4_from_synthetic(workdir):
    workdir.snakemake("figures/appfig4.pdf")
    wd = workdir.path
    assert (wd / "figures/appfig4.pdf").stat().st_size > 1000 and (wd / "figures/appfig4.png").exists()
    assert (wd / "data/raw/sjostrom_synthetic/sjostrom_synthetic.csv").exists()
    assert not (wd / "data/raw/sjostrom").exists()  # nothing pretends to be the real data
    table = pd.read_csv(wd / "results/tables/sjostrom_recordings.csv")
    assert len(table) == 40 and table["synthetic"].all() and set(table["group"]) == {"ltp", "ltd"}
    stats = pd.read_csv(wd / "results/stats/appfig4.csv").set_index("name")
    assert {"appfig4.pearson.all", "appfig4.pearson.ltp", "appfig4.pearson.ltd", "appfig4.shuffle_null_r"} <= set(stats.index)
    assert stats.loc["appfig4.shuffle_null_r", "n"] == 1000  # quick: n_shuffle 1000
    assert "SYNTHETIC" in (wd / "logs/tables/sjostrom_recordings.log").read_text()


@pytest.mark.e2e
def test_offline_full_config_fails_at_fetch_with_instruction_then_runs_from_placed_file(workdir):
    offline = workdir.overlay("offline", {"sjostrom": {
        "source": "download", "timeout_s": 2,
        # a closed local port: refused at once, no DNS look-up
        "dryad": {"api": "http://127.0.0.1:9/api/v2"}, "mendeley": {"api": "http://127.0.0.1:9/public-api"}}})
    res = workdir.snakemake("figures/appfig4.pdf", configfiles=("config/quick.yaml", str(offline)), check=False)
    wd = workdir.path
    assert res.returncode != 0
    assert "Error in rule fetch_sjostrom" in res.stdout + res.stderr
    log = (wd / "logs/data/sjostrom.log").read_text()
    assert "every source failed" in log and "dryad:" in log and "mendeley:" in log
    assert "Put that one file into data/raw/sjostrom/" in log
    assert not (wd / "data/raw/sjostrom/checksums.json").exists()
    assert not (wd / "results/tables/sjostrom_recordings.csv").exists()
    # continue offline: place the file by hand, as the message says
    (wd / "data/raw/sjostrom").mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, wd / "data/raw/sjostrom/recordings.csv")
    workdir.snakemake("figures/appfig4.pdf", configfiles=("config/quick.yaml", str(offline)))
    record = json.loads((wd / "data/raw/sjostrom/checksums.json").read_text())
    assert record["source"] == "local" and "recordings.csv" in record["files"]
    table = pd.read_csv(wd / "results/tables/sjostrom_recordings.csv")
    assert len(table) == 8 and table["synthetic"].all()  # the sample file carries its own synthetic flag
    assert (wd / "figures/appfig4.pdf").exists()


@pytest.mark.e2e
def test_disabled_section_leaves_appfig4_out_of_figures_all(workdir):
    off = workdir.overlay("off", {"sjostrom": {"enabled": False, "left_out_reason": "no data here"}})
    res = workdir.snakemake("figures/all", configfiles=("config/quick.yaml", str(off)), extra=("-n",), check=True)
    assert "appfig4" not in res.stdout and "sjostrom" not in res.stdout
    on = workdir.snakemake("figures/all", extra=("-n",), check=True)
    assert "rule appfig4:" in on.stdout or "appfig4" in on.stdout
