"""Read a Sjöström recordings file (csv / xls / xlsx) through the config's column mapping.

The real file's layout is not known in advance, so every column is named in config
(``sjostrom.columns``). Two layouts are understood (``sjostrom.estimates``):

- ``pq``: release probability P and quantal size q before and after induction, as given;
- ``binomial``: EPSC/EPSP mean and coefficient of variation before and after, from which P and q follow
  by the binomial model with N release sites (Costa et al. 2017: N = 5.5):
  mean mu = N P q, variance sigma^2 = N P (1 - P) q^2 with sigma = CV * mu, so
  q = sigma^2 / mu + mu / N and P = mu / (N q).

Each recording is an LTP or an LTD experiment (``sjostrom.group_from``): from the protocol column via
``protocol_map`` (case-insensitive substrings), from the sign of a spike-timing column (pre before post,
dt > 0 -> LTP), or, where neither exists, from the sign of the change in strength.

Validation reports every problem at once: missing columns (named, with the columns the file has),
non-numeric or empty cells (row and column), out-of-range values (P outside (0, 1], q <= 0, mean <= 0,
CV < 0). With ``invalid_rows: drop`` rows with bad values are dropped and counted instead (logged).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from presyn.sjostrom import RAW_SUFFIXES

log = logging.getLogger(__name__)

WHEN = ("before", "after")
PQ_KEYS = ("P_before", "P_after", "q_before", "q_after")
BINOMIAL_KEYS = ("mean_before", "mean_after", "cv_before", "cv_after")
GROUPS = ("ltp", "ltd")

# the columns of results/tables/sjostrom_recordings.csv, in order
RECORDING_COLUMNS = ["recording", "group", "protocol", "P_before", "q_before", "P_after", "q_after",
                     "strength_before", "strength_after", "rel_change", "estimates", "source_file", "synthetic"]


class ParseError(ValueError):
    """The recordings file does not fit the column mapping; the message lists every problem found."""


@dataclass
class ColumnMapping:
    """``sjostrom.columns`` + how to read them (see config/README.md, section sjostrom)."""

    columns: dict[str, str | None]
    estimates: str = "pq"                 # pq | binomial
    n_sites: float = 5.5                  # N of the binomial model
    group_from: str = "protocol"          # protocol | timing | change
    protocol_map: dict[str, str] = field(default_factory=lambda: {"ltp": "ltp", "ltd": "ltd"})
    invalid_rows: str = "error"           # error | drop
    sheet: str | int | None = None        # Excel sheet (name or 0-based index); None = the first
    header_row: int = 0                   # 0-based row holding the column names

    @classmethod
    def from_config(cls, cfg: dict) -> "ColumnMapping":
        return cls(columns=dict(cfg["columns"]), estimates=cfg.get("estimates", "pq"),
                   n_sites=float(cfg.get("n_sites", 5.5)), group_from=cfg.get("group_from", "protocol"),
                   protocol_map=dict(cfg.get("protocol_map") or {"ltp": "ltp", "ltd": "ltd"}),
                   invalid_rows=cfg.get("invalid_rows", "error"), sheet=cfg.get("sheet"),
                   header_row=int(cfg.get("header_row") or 0))

    def numeric_keys(self) -> tuple[str, ...]:
        if self.estimates == "pq":
            return PQ_KEYS
        if self.estimates == "binomial":
            return BINOMIAL_KEYS
        raise ParseError(f"sjostrom.estimates must be 'pq' or 'binomial', not {self.estimates!r}")

    def required_keys(self) -> tuple[str, ...]:
        keys = self.numeric_keys()
        if self.group_from == "protocol":
            keys += ("protocol",)
        elif self.group_from == "timing":
            keys += ("timing",)
        elif self.group_from != "change":
            raise ParseError(f"sjostrom.group_from must be protocol, timing or change, not {self.group_from!r}")
        return keys


# --------------------------------------------------------------------------- binomial model
def binomial_pq(mean, cv, n_sites: float = 5.5) -> tuple[np.ndarray, np.ndarray]:
    """Release probability P and quantal size q from the mean and CV of the response amplitude under
    a binomial model with ``n_sites`` release sites: q = sigma^2/mu + mu/N, P = mu/(N q), sigma = CV mu."""
    mu = np.asarray(mean, dtype=float)
    sigma = np.asarray(cv, dtype=float) * mu
    q = sigma**2 / mu + mu / n_sites
    p = mu / (n_sites * q)
    return p, q


# --------------------------------------------------------------------------- reading
def read_raw(path: str | Path, sheet: str | int | None = None, header_row: int = 0) -> pd.DataFrame:
    """The file as a table of raw cells (csv, xls via xlrd, xlsx via openpyxl), column names from row
    ``header_row`` (0-based; rows above it are skipped); fully empty rows dropped. ``df.attrs["row_numbers"]``
    holds each remaining row's 1-based row number in the file, for error messages."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=object, skipinitialspace=True, encoding_errors="replace", header=header_row,
                             skip_blank_lines=False)
        elif suffix in (".xls", ".xlsx"):
            engine = "xlrd" if suffix == ".xls" else "openpyxl"
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, dtype=object, engine=engine,
                               header=header_row)
        else:
            raise ParseError(f"{path}: unsupported format {suffix!r}; expected one of {', '.join(RAW_SUFFIXES)}")
    except ImportError as exc:
        raise ParseError(f"{path}: reading {suffix} files needs {exc.name} (pip install {exc.name})") from exc
    except (ValueError, OSError, KeyError) as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(f"{path}: cannot read as {suffix} ({type(exc).__name__}: {exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    numbers = np.arange(len(df)) + header_row + 2
    keep = ~df.isna().all(axis=1).to_numpy()
    df = df[keep].reset_index(drop=True)
    df.attrs["row_numbers"] = [int(r) for r in numbers[keep]]
    df.attrs["header_line"] = header_row + 1
    return df


def choose_file(raw_dir: str | Path, name: str | None = None) -> Path:
    """The recordings file in ``raw_dir``: ``name`` (a file name or glob) if given, else the only
    csv/xls/xlsx file there; anything else is an error that lists what is there."""
    raw_dir = Path(raw_dir)
    candidates = sorted(p for p in raw_dir.glob(name or "*") if p.is_file() and p.suffix.lower() in RAW_SUFFIXES)
    if len(candidates) == 1:
        return candidates[0]
    present = sorted(p.name for p in raw_dir.glob("*") if p.is_file() and not p.name.startswith(".")) if raw_dir.exists() else []
    if not candidates:
        raise ParseError(f"no {'/'.join(s.lstrip('.') for s in RAW_SUFFIXES)} file matching {name or '*'!r} in {raw_dir} "
                         f"(present: {present or 'nothing'})")
    raise ParseError(f"{len(candidates)} files in {raw_dir} could be the recordings ({[p.name for p in candidates]}); "
                     "name the one to use in config sjostrom.file")


def _numeric(df: pd.DataFrame, key: str, col: str, problems: list[str], bad_rows: set[int], rows: list[int]) -> pd.Series:
    raw = df[col]
    text = raw.astype(str).str.strip().str.replace("\u2212", "-", regex=False)  # unicode minus
    values = pd.to_numeric(text.where(raw.notna()), errors="coerce")
    for i in np.flatnonzero(values.isna().to_numpy()):
        cell = raw.iloc[i]
        what = "empty cell" if pd.isna(cell) or str(cell).strip() == "" else f"non-numeric cell {str(cell)!r}"
        problems.append(f"row {rows[i]}, column {col!r} ({key}): {what}")
        bad_rows.add(i)
    return values.astype(float)


def _range_check(values: pd.Series, key: str, col: str, ok, rule: str, problems: list[str], bad_rows: set[int],
                 rows: list[int]) -> None:
    bad = values.notna() & ~ok(values)
    for i in np.flatnonzero(bad.to_numpy()):
        problems.append(f"row {rows[i]}, column {col!r} ({key}): {values.iloc[i]:g} out of range ({rule})")
        bad_rows.add(i)


def _groups_from_protocol(protocols: pd.Series, col: str, mapping: dict[str, str], problems, bad_rows, rows) -> pd.Series:
    out = []
    for i, value in enumerate(protocols):
        text = "" if pd.isna(value) else str(value).lower()
        hits = {grp for sub, grp in mapping.items() if sub.lower() in text}
        if len(hits) == 1:
            out.append(hits.pop())
        else:
            why = "matches none of" if not hits else "matches more than one group of"
            problems.append(f"row {rows[i]}, column {col!r} (protocol): {value!r} {why} sjostrom.protocol_map {mapping}")
            bad_rows.add(i)
            out.append(None)
    return pd.Series(out, index=protocols.index, dtype=object)


def parse_recordings(df: pd.DataFrame, mapping: ColumnMapping, source_file: str = "", synthetic: bool = False) -> pd.DataFrame:
    """Validate the raw table against the mapping and return the tidy recordings table
    (``RECORDING_COLUMNS``); raise ParseError listing every problem."""
    cols = mapping.columns
    required = mapping.required_keys()
    unmapped = [k for k in required if not cols.get(k)]
    if unmapped:
        raise ParseError(f"{source_file}: config sjostrom.columns must name a column for {unmapped} "
                         f"(estimates={mapping.estimates}, group_from={mapping.group_from})")
    missing = [f"{cols[k]!r} ({k})" for k in required if cols[k] not in df.columns]
    if cols.get("recording") and cols["recording"] not in df.columns:
        missing.append(f"{cols['recording']!r} (recording)")
    if missing:
        raise ParseError(f"{source_file}: missing column(s) {', '.join(missing)}; the file has columns {list(df.columns)}. "
                         "Fix the mapping in config sjostrom.columns")
    if df.empty:
        raise ParseError(f"{source_file}: no data rows")

    problems: list[str] = []
    bad_rows: set[int] = set()
    rows = list(df.attrs.get("row_numbers") or range(2, len(df) + 2))  # file row numbers (header = 1)
    num = {k: _numeric(df, k, cols[k], problems, bad_rows, rows) for k in mapping.numeric_keys()}
    if mapping.estimates == "pq":
        p = {w: num[f"P_{w}"] for w in WHEN}
        q = {w: num[f"q_{w}"] for w in WHEN}
        for w in WHEN:
            _range_check(p[w], f"P_{w}", cols[f"P_{w}"], lambda v: (v > 0) & (v <= 1), "0 < P <= 1", problems, bad_rows, rows)
            _range_check(q[w], f"q_{w}", cols[f"q_{w}"], lambda v: v > 0, "q > 0", problems, bad_rows, rows)
    else:
        p, q = {}, {}
        for w in WHEN:
            mean, cv = num[f"mean_{w}"], num[f"cv_{w}"]
            _range_check(mean, f"mean_{w}", cols[f"mean_{w}"], lambda v: v > 0, "mean > 0", problems, bad_rows, rows)
            _range_check(cv, f"cv_{w}", cols[f"cv_{w}"], lambda v: v >= 0, "CV >= 0", problems, bad_rows, rows)
            pw, qw = binomial_pq(mean, cv, mapping.n_sites)
            p[w], q[w] = pd.Series(pw, index=df.index), pd.Series(qw, index=df.index)
            _range_check(p[w], f"P_{w} (binomial, N={mapping.n_sites:g})", f"{cols[f'mean_{w}']}/{cols[f'cv_{w}']}",
                         lambda v: (v > 0) & (v <= 1), "0 < P <= 1", problems, bad_rows, rows)

    strength = {w: p[w] * q[w] for w in WHEN}
    rel_change = strength["after"] / strength["before"] - 1
    protocol = df[cols["protocol"]].astype(object) if cols.get("protocol") in df.columns else pd.Series([None] * len(df), dtype=object)
    if mapping.group_from == "protocol":
        group = _groups_from_protocol(df[cols["protocol"]], cols["protocol"], mapping.protocol_map, problems, bad_rows, rows)
    elif mapping.group_from == "timing":
        timing = _numeric(df, "timing", cols["timing"], problems, bad_rows, rows)
        for i in np.flatnonzero((timing == 0).to_numpy()):
            problems.append(f"row {rows[i]}, column {cols['timing']!r} (timing): 0 is neither LTP (>0) nor LTD (<0)")
            bad_rows.add(i)
        group = pd.Series(np.where(timing > 0, "ltp", "ltd"), index=df.index, dtype=object)
    else:
        group = pd.Series(np.where(rel_change >= 0, "ltp", "ltd"), index=df.index, dtype=object)

    if problems:
        if mapping.invalid_rows != "drop" or len(bad_rows) == len(df):
            head = f"{source_file}: {len(problems)} problem(s) in {len(bad_rows)} of {len(df)} rows (numbered as in the file: header = row {df.attrs.get('header_line', 1)})"
            shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
            raise ParseError(head + ":\n  " + "\n  ".join(shown))
        log.warning("%s: dropping %d of %d rows with invalid values (sjostrom.invalid_rows = drop):\n  %s",
                    source_file, len(bad_rows), len(df), "\n  ".join(problems))

    rec_col = cols.get("recording")
    recording = df[rec_col].astype(str) if rec_col else pd.Series([f"row{r}" for r in rows], index=df.index)
    synthetic_flag = synthetic or _file_says_synthetic(df)
    out = pd.DataFrame({
        "recording": recording, "group": group, "protocol": protocol.to_numpy(),
        "P_before": p["before"], "q_before": q["before"], "P_after": p["after"], "q_after": q["after"],
        "strength_before": strength["before"], "strength_after": strength["after"], "rel_change": rel_change,
        "estimates": mapping.estimates if mapping.estimates == "pq" else f"binomial N={mapping.n_sites:g}",
        "source_file": source_file, "synthetic": synthetic_flag,
    }, columns=RECORDING_COLUMNS)
    out = out.drop(index=sorted(bad_rows)).reset_index(drop=True)
    if out["recording"].duplicated().any():
        dup = sorted(set(out.loc[out["recording"].duplicated(), "recording"]))
        raise ParseError(f"{source_file}: duplicate recording ids {dup[:10]} in column {rec_col!r}")
    return out


def _file_says_synthetic(df: pd.DataFrame) -> bool:
    if "synthetic" not in df.columns:
        return False
    return bool(df["synthetic"].astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).any())


# --------------------------------------------------------------------------- checksums
def verify_checksums(raw_dir: str | Path, checksums_file: str | Path) -> dict:
    """Check every file recorded in ``checksums.json`` against its sha256; raise naming any mismatch."""
    from presyn.sjostrom.download import ChecksumError, sha256_file

    record = json.loads(Path(checksums_file).read_text())
    bad = []
    for name, meta in record.get("files", {}).items():
        path = Path(raw_dir) / name
        if not path.exists():
            bad.append(f"{path} is missing (recorded in {checksums_file})")
        elif sha256_file(path) != meta["sha256"]:
            bad.append(f"{path}: sha256 {sha256_file(path)[:16]}... differs from {meta['sha256'][:16]}... recorded in {checksums_file}")
    if bad:
        raise ChecksumError("Sjöström raw data changed since it was first fetched:\n  " + "\n  ".join(bad)
                            + f"\nIf the new file is intended, delete {checksums_file} and rerun to record it again.")
    return record


def load_recordings(path: str | Path, mapping: ColumnMapping, synthetic: bool = False) -> pd.DataFrame:
    """Read and parse one recordings file."""
    path = Path(path)
    return parse_recordings(read_raw(path, mapping.sheet, mapping.header_row), mapping, source_file=path.name, synthetic=synthetic)
