"""Read the two processed Sjöström et al. 2001 files (``Sjostrom2001_{LTP,LTD}_schug.csv``) exactly.

Their layout (vendor/sjostrom/PROVENANCE.md) has pitfalls that a generic CSV reader gets wrong:

- UTF-8 with a byte-order mark before the first header;
- ``Recording`` cells are quoted ids with leading spaces (``    'EPSP_Sat_Sep_9_2000_5_to_6'``); the same id
  occurs in both files with other numbers: ids are labels, never keys;
- the LTD file repeats the names ``w (before)`` and ``w (after)`` as its last two columns, holding other
  numbers (products of the change columns): the FIRST occurrence of a name is the one read;
- in every row w = Pr * q (the files round w to 9 decimals).

So the expected strength w is recomputed as Pr * q and checked against the file's own first w columns.
Any missing or non-numeric cell, Pr outside (0, 1], q <= 0, a w column that is not Pr * q, or a row whose
strength moves against its file's group (LTP must potentiate, LTD depress) stops with every problem listed
by file, row (header = row 1) and column. LTP / LTD comes from which file a row is in.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

GROUPS = ("ltp", "ltd")
ID_COLUMN = "Recording"
NUMERIC_COLUMNS = {  # tidy name -> the file's column (first occurrence)
    "pairing_freq_hz": "Pairing freq.",
    "timing_ms": "Timing",
    "P_before": "Pr (before)",
    "P_after": "Pr (after)",
    "q_before": "q (mV, before)",
    "q_after": "q (mV, after)",
    "w_file_before": "w (before)",
    "w_file_after": "w (after)",
}
W_ATOL = 1e-9  # the files give w rounded to 9 decimals (max |w - Pr q| in the real files: 5e-10)

# the columns of results/tables/sjostrom_recordings.csv, in order
RECORDING_COLUMNS = [
    "recording",
    "group",
    "pairing_freq_hz",
    "timing_ms",
    "P_before",
    "q_before",
    "P_after",
    "q_after",
    "strength_before",
    "strength_after",
    "rel_change",
    "rel_change_size",
    "source_file",
    "file_row",
]


class SjostromDataError(ValueError):
    """A file does not have the expected layout or values; the message lists every problem found."""


def read_cells(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """Header and data rows of one file as text cells (byte-order mark removed, blank lines skipped)."""
    path = Path(path)
    text = path.read_bytes().decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    if not rows:
        raise SjostromDataError(f"{path.name}: empty file")
    return [c.strip() for c in rows[0]], rows[1:]


def first_index(header: list[str]) -> dict[str, int]:
    """Column name -> index of its FIRST occurrence (the LTD file repeats two names at its end)."""
    index: dict[str, int] = {}
    for i, name in enumerate(header):
        index.setdefault(name, i)
    return index


def _number(cell: str | None) -> float | None:
    if cell is None or not cell.strip():
        return None
    try:
        value = float(cell.strip().replace("\u2212", "-"))
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def parse_file(path: str | Path, group: str) -> pd.DataFrame:
    """One file -> tidy rows (``RECORDING_COLUMNS``), every row of group ``group``; SjostromDataError lists
    every problem as ``<file>, row <r>, column '<col>': <what>``."""
    if group not in GROUPS:
        raise ValueError(f"group must be one of {GROUPS}, not {group!r}")
    path = Path(path)
    header, rows = read_cells(path)
    index = first_index(header)
    needed = [ID_COLUMN, *NUMERIC_COLUMNS.values()]
    missing = [c for c in needed if c not in index]
    if missing:
        raise SjostromDataError(f"{path.name}: missing column(s) {missing}; the file has {header}")
    if not rows:
        raise SjostromDataError(f"{path.name}: no data rows")
    problems: list[str] = []
    values = {key: np.full(len(rows), np.nan) for key in NUMERIC_COLUMNS}
    ids = []
    for i, row in enumerate(rows):
        file_row = i + 2
        ids.append((row[index[ID_COLUMN]] if index[ID_COLUMN] < len(row) else "").strip().strip("'\"").strip())
        if not ids[-1]:
            problems.append(f"{path.name}, row {file_row}, column {ID_COLUMN!r}: empty cell")
        for key, col in NUMERIC_COLUMNS.items():
            cell = row[index[col]] if index[col] < len(row) else None
            number = _number(cell)
            if number is None:
                what = "empty cell" if cell is None or not cell.strip() else f"non-numeric cell {cell.strip()!r}"
                problems.append(f"{path.name}, row {file_row}, column {col!r}: {what}")
            else:
                values[key][i] = number
    for i in range(len(rows)):
        file_row = i + 2
        for when in ("before", "after"):
            p, q, w = values[f"P_{when}"][i], values[f"q_{when}"][i], values[f"w_file_{when}"][i]
            if np.isfinite(p) and not 0 < p <= 1:
                problems.append(
                    f"{path.name}, row {file_row}, column {NUMERIC_COLUMNS[f'P_{when}']!r}: {p:g} outside (0, 1]"
                )
            if np.isfinite(q) and q <= 0:
                problems.append(f"{path.name}, row {file_row}, column {NUMERIC_COLUMNS[f'q_{when}']!r}: {q:g} <= 0")
            if np.isfinite(p * q * w) and abs(w - p * q) > W_ATOL:
                problems.append(
                    f"{path.name}, row {file_row}, column {NUMERIC_COLUMNS[f'w_file_{when}']!r}: {w:.9g} is not "
                    f"Pr * q = {p * q:.9g} (|difference| {abs(w - p * q):.2g} > {W_ATOL:g})"
                )
    strength_before = values["P_before"] * values["q_before"]
    strength_after = values["P_after"] * values["q_after"]
    change = strength_after / strength_before - 1
    wrong_way = change < 0 if group == "ltp" else change > 0
    for i in np.flatnonzero(wrong_way):
        problems.append(
            f"{path.name}, row {i + 2}: strength Pr*q changes by {change[i]:+.3g}, against the file's "
            f"group {group.upper()} (every {group.upper()} row must {'potentiate' if group == 'ltp' else 'depress'})"
        )
    if problems:
        shown = problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else [])
        raise SjostromDataError(
            f"{path.name}: {len(problems)} problem(s) (rows numbered as in the file, header = row 1):\n  "
            + "\n  ".join(shown)
        )
    return pd.DataFrame(
        {
            "recording": ids,
            "group": group,
            "pairing_freq_hz": values["pairing_freq_hz"],
            "timing_ms": values["timing_ms"],
            "P_before": values["P_before"],
            "q_before": values["q_before"],
            "P_after": values["P_after"],
            "q_after": values["q_after"],
            "strength_before": strength_before,
            "strength_after": strength_after,
            "rel_change": change,
            "rel_change_size": np.abs(change),
            "source_file": path.name,
            "file_row": np.arange(2, len(rows) + 2),
        },
        columns=RECORDING_COLUMNS,
    )


def load_recordings(files: dict[str, str | Path]) -> pd.DataFrame:
    """group -> file path (``{"ltp": ..., "ltd": ...}``) -> one tidy table, LTP rows first."""
    missing = [g for g in GROUPS if g not in files]
    if missing:
        raise ValueError(f"no file given for group(s) {missing}")
    return pd.concat([parse_file(files[g], g) for g in GROUPS], ignore_index=True)
