"""Atomic writes: a result file (or a folder of them) either exists complete or not at all.

Everything is written to a temporary name in the target folder and renamed into place,
so an interrupted job never leaves a file that downstream rules would take as complete.
A folder whose files belong together (a run's three outputs, a dataset's raw files) is
written into a hidden staging folder beside it and swapped in by one rename (``atomic_dir``).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import glob
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of a file's exact bytes (read in 1 MB chunks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where the C
    library or the file system cannot."""
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is None:
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _replace_dir(new: Path, path: Path) -> None:
    """Put folder ``new`` at ``path``, replacing what is there, by one rename where possible."""
    try:
        os.rename(new, path)  # path absent or an empty folder (Snakemake creates it before the job)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise
    if _exchange(new, path):  # path held other files (e.g. a checkpoint): swap, then drop the old folder
        shutil.rmtree(new)
        return
    old = new.with_name(new.name[: -len(".staging")] + ".old")  # no atomic swap here: path is absent briefly
    os.rename(path, old)
    os.rename(new, path)
    shutil.rmtree(old)


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty hidden staging folder beside ``path``; on success it replaces ``path`` whole.

    Readers see the old folder or the complete new one, never some of the new files: a kill at any
    moment leaves at most a hidden ``.<name>.*.staging`` sibling, which nothing reads and the next
    attempt removes. Whatever else ``path`` held goes with the old folder. On an exception the staging
    folder is removed and ``path`` is untouched. (Where the file system cannot swap two folders, a
    non-empty ``path`` is first renamed aside to ``.<name>.*.old``: a kill between the two renames
    leaves ``path`` absent, which is still "nothing", never a partial folder.)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    name = glob.escape(path.name)
    for stale in (*path.parent.glob(f".{name}.*.staging"), *path.parent.glob(f".{name}.*.old")):
        shutil.rmtree(stale, ignore_errors=True)  # left by a killed attempt (one job per path at a time)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".staging", dir=path.parent))
    try:
        yield staging
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private
        _replace_dir(staging, path)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Write JSON atomically (sorted keys, readable indentation)."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """Write a DataFrame atomically; format from the suffix (.csv or .parquet)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        elif path.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            raise ValueError(f"unsupported table format {path.suffix!r} for {path}; use .csv or .parquet")


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a .csv or .parquet table."""
    path = Path(path)
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
