"""Atomic writes (presyn.io): a write that fails midway leaves no new file, the old file unchanged and no
temporary file. About 20 Snakemake scripts call ``write_table`` / ``write_json`` directly on declared
outputs, so a truncated table under its final name would be taken as complete by downstream rules.

The failures are simulated where the bytes are written: the patched writer puts part of the output on
disk (at whatever path it was given) and then raises, as a full disk or a kill would leave it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from presyn import io as pio

DF = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})


class DiskFull(OSError):
    pass


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _fail_midway_csv(self, path, *args, **kwargs):
    Path(path).write_text("a,b\n1,")  # a truncated table
    raise DiskFull("no space left on device")


def _fail_midway_parquet(self, path, *args, **kwargs):
    Path(path).write_bytes(b"PAR1\x15\x04")  # a truncated parquet file
    raise DiskFull("no space left on device")


_real_write_text = Path.write_text


def _fail_midway_text(self, data, *args, **kwargs):
    _real_write_text(self, data[: len(data) // 2])  # half the JSON
    raise DiskFull("no space left on device")


@pytest.fixture
def failing_csv(monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _fail_midway_csv)


@pytest.fixture
def failing_parquet(monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _fail_midway_parquet)


@pytest.fixture
def failing_text(monkeypatch):
    monkeypatch.setattr(Path, "write_text", _fail_midway_text)


# ------------------------------------------------------------------------------------ write_table
@pytest.mark.parametrize("suffix,fixture", [(".csv", "failing_csv"), (".parquet", "failing_parquet")])
def test_write_table_failing_midway_leaves_no_new_target(tmp_path, suffix, fixture, request):
    target = tmp_path / f"table{suffix}"
    request.getfixturevalue(fixture)
    with pytest.raises(DiskFull):
        pio.write_table(DF, target)
    assert not target.exists()
    assert listing(tmp_path) == []  # and no temporary file either


@pytest.mark.parametrize("suffix,fixture", [(".csv", "failing_csv"), (".parquet", "failing_parquet")])
def test_write_table_failing_midway_keeps_the_existing_table(tmp_path, suffix, fixture, request):
    target = tmp_path / f"table{suffix}"
    old = DF.assign(a=[7, 8, 9])
    pio.write_table(old, target)
    before = target.read_bytes()
    request.getfixturevalue(fixture)
    with pytest.raises(DiskFull):
        pio.write_table(DF, target)
    assert target.read_bytes() == before
    pd.testing.assert_frame_equal(pio.read_table(target), old)
    assert listing(tmp_path) == [target.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_never_writes_under_the_final_name(tmp_path, suffix, monkeypatch):
    """The writer gets a hidden temporary sibling; the final name appears only by the rename."""
    target = tmp_path / f"table{suffix}"
    seen = []
    method = "to_parquet" if suffix == ".parquet" else "to_csv"
    real = getattr(pd.DataFrame, method)

    def spy(self, path, *args, **kwargs):
        seen.append((Path(path), target.exists()))
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, method, spy)
    pio.write_table(DF, target)
    [(written, existed)] = seen
    assert written != target and written.parent == target.parent and written.name.startswith(".")
    assert not existed
    pd.testing.assert_frame_equal(pio.read_table(target), DF)
    assert listing(tmp_path) == [target.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_round_trip_and_replaces(tmp_path, suffix):
    target = tmp_path / "sub" / f"t{suffix}"  # parent folder created
    pio.write_table(DF.assign(a=[0, 0, 0]), target)
    pio.write_table(DF, target)
    pd.testing.assert_frame_equal(pio.read_table(target), DF)
    assert listing(target.parent) == [target.name]


def test_write_table_csv_has_no_index_column(tmp_path):
    pio.write_table(DF, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[0] == "a,b"


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_write_table_never_stores_the_index(tmp_path, suffix):
    """A filtered frame has a non-default index; the table holds the columns only."""
    pio.write_table(DF[DF.a > 1], tmp_path / f"t{suffix}")
    back = pio.read_table(tmp_path / f"t{suffix}")
    assert list(back.columns) == ["a", "b"] and back["a"].tolist() == [2, 3]
    assert back.index.tolist() == [0, 1]  # parquet would otherwise keep [1, 2] in its pandas metadata


def test_write_table_parquet_is_parquet(tmp_path):
    pio.write_table(DF, tmp_path / "t.parquet")
    assert (tmp_path / "t.parquet").read_bytes()[:4] == b"PAR1"
    assert list(pd.read_parquet(tmp_path / "t.parquet").columns) == ["a", "b"]  # no index column


def test_write_table_unknown_suffix_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match=r"^unsupported table format '\.txt' for .*t\.txt; use \.csv or \.parquet$"):
        pio.write_table(DF, tmp_path / "t.txt")
    assert listing(tmp_path) == []


# ------------------------------------------------------------------------------------ write_json
def test_write_json_failing_midway_leaves_no_new_target(tmp_path, failing_text):
    target = tmp_path / "out.json"
    with pytest.raises(DiskFull):
        pio.write_json({"a": 1, "b": list(range(50))}, target)
    assert not target.exists()
    assert listing(tmp_path) == []


def test_write_json_failing_midway_keeps_the_existing_file(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    pio.write_json({"old": True}, target)
    before = target.read_bytes()
    monkeypatch.setattr(Path, "write_text", _fail_midway_text)
    with pytest.raises(DiskFull):
        pio.write_json({"new": list(range(50))}, target)
    assert target.read_bytes() == before
    assert json.loads(before) == {"old": True}
    assert listing(tmp_path) == [target.name]


class Unprintable:
    def __str__(self) -> str:
        raise DiskFull("serialiser failed midway")


def test_write_json_serialiser_failing_midway_leaves_old_file_and_no_temporary(tmp_path):
    """Whether the JSON is built first or streamed, a failure while serialising changes nothing."""
    target = tmp_path / "out.json"
    pio.write_json({"old": True}, target)
    before = target.read_bytes()
    with pytest.raises(DiskFull):
        pio.write_json({"a": list(range(1000)), "z": Unprintable()}, target)
    assert target.read_bytes() == before
    assert listing(tmp_path) == [target.name]


def test_write_json_format(tmp_path):
    target = tmp_path / "deep" / "out.json"
    pio.write_json({"b": 1, "a": {"d": Path("x/y"), "c": [1, 2]}}, target)
    text = target.read_text()
    assert text == json.dumps({"a": {"c": [1, 2], "d": "x/y"}, "b": 1}, indent=2, sort_keys=True) + "\n"
    assert text.index('"a"') < text.index('"b"')  # keys sorted


def test_write_json_never_writes_under_the_final_name(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    seen = []

    def spy(self, data, *args, **kwargs):
        seen.append(Path(self))
        return _real_write_text(self, data, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", spy)
    pio.write_json({"a": 1}, target)
    assert seen and all(p != target and p.parent == target.parent and p.name.startswith(".") for p in seen)
    assert json.loads(target.read_text()) == {"a": 1}


# ------------------------------------------------------------------------------------ atomic_path
def test_atomic_path_exception_leaves_nothing(tmp_path):
    target = tmp_path / "f.bin"
    with pytest.raises(RuntimeError):
        with pio.atomic_path(target) as tmp:
            assert tmp.parent == tmp_path and tmp.name.startswith(".f.bin.") and tmp.name.endswith(".tmp")
            tmp.write_bytes(b"partial")
            raise RuntimeError("killed")
    assert listing(tmp_path) == []


def test_atomic_path_exception_keeps_existing_file(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with pio.atomic_path(target) as tmp:
            tmp.write_bytes(b"new, partial")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old" and listing(tmp_path) == ["f.bin"]


def test_atomic_path_success_has_umask_permissions(tmp_path):
    old = os.umask(0o027)
    try:
        with pio.atomic_path(tmp_path / "a" / "f.bin") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    target = tmp_path / "a" / "f.bin"
    assert target.read_bytes() == b"x"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # 0o666 & ~0o027, not mkstemp's private 0o600
    assert listing(tmp_path / "a") == ["f.bin"]


def test_umask_is_read_without_changing_it():
    old = os.umask(0o022)
    try:
        assert pio._umask() == 0o022
        assert pio._umask() == 0o022
    finally:
        os.umask(old)


# ------------------------------------------------------------------------------------ atomic_dir
def test_atomic_dir_replaces_the_folder_whole(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pio.atomic_dir(target) as staging:
        assert staging.parent == tmp_path and staging.name.startswith(".run.") and staging.name.endswith(".staging")
        assert not target.joinpath("new.txt").exists()
        (staging / "new.txt").write_text("new")
        assert not (target / "new.txt").exists()  # nothing visible before the swap
    assert listing(target) == ["new.txt"]
    assert listing(tmp_path) == ["run"]


def test_atomic_dir_into_absent_or_empty_folder(tmp_path):
    for target in (tmp_path / "absent", tmp_path / "empty"):
        if target.name == "empty":
            target.mkdir()
        with pio.atomic_dir(target) as staging:
            (staging / "f").write_text("1")
        assert listing(target) == ["f"]
    assert listing(tmp_path) == ["absent", "empty"]


def test_atomic_dir_exception_keeps_the_old_folder(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with pio.atomic_dir(target) as staging:
            (staging / "new.txt").write_text("partial")
            raise RuntimeError("killed")
    assert listing(target) == ["old.txt"] and (target / "old.txt").read_text() == "old"
    assert listing(tmp_path) == ["run"]


def test_atomic_dir_removes_stale_staging_and_old_folders(tmp_path):
    for name in (".run.abc.staging", ".run.def.old"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "junk").write_text("x")
    (tmp_path / ".other.abc.staging").mkdir()  # another target's: kept
    with pio.atomic_dir(tmp_path / "run") as staging:
        (staging / "f").write_text("1")
    assert listing(tmp_path) == [".other.abc.staging", "run"]


def test_atomic_dir_folder_permissions_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with pio.atomic_dir(tmp_path / "run") as staging:
            (staging / "f").write_text("1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "run").stat().st_mode) == 0o755  # not mkdtemp's private 0o700


def test_atomic_dir_without_an_atomic_swap(tmp_path, monkeypatch):
    """Where the file system cannot exchange two folders: the old one is renamed aside, then removed."""
    monkeypatch.setattr(pio, "_exchange", lambda a, b: False)
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pio.atomic_dir(target) as staging:
        (staging / "new.txt").write_text("new")
    assert listing(target) == ["new.txt"] and listing(tmp_path) == ["run"]


def test_replace_dir_swaps_a_non_empty_folder(tmp_path):
    new, path = tmp_path / ".run.x.staging", tmp_path / "run"
    new.mkdir()
    (new / "new.txt").write_text("new")
    path.mkdir()
    (path / "old.txt").write_text("old")
    pio._replace_dir(new, path)
    assert listing(path) == ["new.txt"] and listing(tmp_path) == ["run"]


def test_replace_dir_propagates_other_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        pio._replace_dir(tmp_path / ".missing.x.staging", tmp_path / "run")


def test_exchange_swaps_two_folders(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "from_a").write_text("a")
    (b / "from_b").write_text("b")
    if not pio._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not supported here")
    assert listing(a) == ["from_b"] and listing(b) == ["from_a"]


def test_exchange_missing_path_raises(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    if not pio._exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not supported here")
    with pytest.raises(FileNotFoundError) as exc:  # supported, so any other failure is an error, never "unsupported"
        pio._exchange(a, tmp_path / "missing")
    assert str(tmp_path / "missing") in str(exc.value)
    assert listing(tmp_path) == ["a", "b"]


def _kernel_can_exchange(a: Path, b: Path) -> bool:
    """Probe renameat2(RENAME_EXCHANGE) directly (independently of presyn.io): swaps a and b if it can."""
    import ctypes

    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    return fn is not None and fn(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0


def test_exchange_is_used_wherever_the_kernel_offers_it(tmp_path, monkeypatch):
    """Where renameat2 swaps folders, _exchange must swap them (not fall back), relative paths included."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    if not _kernel_can_exchange(a, b):
        pytest.skip("renameat2(RENAME_EXCHANGE) not supported here")
    (a / "from_a").write_text("a")
    monkeypatch.chdir(tmp_path)
    assert pio._exchange(Path("a"), Path("b")) is True  # relative to the working folder (Snakemake's paths)
    assert listing(b) == ["from_a"] and listing(a) == []


def test_exchange_without_renameat2_or_unsupported_falls_back(tmp_path, monkeypatch):
    import ctypes
    import errno as errno_

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    monkeypatch.setattr(pio.ctypes, "CDLL", lambda *args, **kw: object())  # a C library without renameat2
    assert pio._exchange(a, b) is False

    class Lib:
        def __init__(self, err):
            self.err = err

        @property
        def renameat2(self):
            def fn(*args):
                ctypes.set_errno(self.err)
                return -1

            return fn

    for err in (errno_.EINVAL, errno_.ENOSYS, errno_.EOPNOTSUPP):
        monkeypatch.setattr(pio.ctypes, "CDLL", lambda *args, err=err, **kw: Lib(err))
        assert pio._exchange(a, b) is False
    monkeypatch.setattr(pio.ctypes, "CDLL", lambda *args, **kw: Lib(errno_.EACCES))
    with pytest.raises(PermissionError):
        pio._exchange(a, b)


def test_fallback_sets_the_old_folder_aside_under_the_name_atomic_dir_cleans(tmp_path, monkeypatch):
    """A kill between the fallback's two renames leaves '.<name>.*.old', which the next atomic_dir removes."""
    monkeypatch.setattr(pio, "_exchange", lambda a, b: False)
    removed = []
    real_rmtree = pio.shutil.rmtree
    monkeypatch.setattr(
        pio.shutil, "rmtree", lambda p, *a, **k: (removed.append(Path(p).name), real_rmtree(p, *a, **k))
    )
    target = tmp_path / "run"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with pio.atomic_dir(target) as staging:
        (staging / "new.txt").write_text("new")
    [old] = [n for n in removed if n.endswith(".old")]
    assert old.startswith(".run.") and old == staging.name[: -len(".staging")] + ".old"


def test_permissions_with_an_empty_umask(tmp_path):
    old = os.umask(0)
    try:
        pio.write_json({}, tmp_path / "f.json")
        with pio.atomic_dir(tmp_path / "d") as staging:
            (staging / "x").write_text("1")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "f.json").stat().st_mode) == 0o666
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o777


# ------------------------------------------------------------------------------------ sha256_file
def test_sha256_file_known_digest_and_large_file(tmp_path):
    small = tmp_path / "abc"
    small.write_bytes(b"abc")
    assert pio.sha256_file(small) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    big = tmp_path / "big"
    data = bytes(range(256)) * ((3 << 20) // 256 + 7)  # over three 1 MB chunks, not a multiple of one
    big.write_bytes(data)
    assert pio.sha256_file(big) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert pio.sha256_file(empty) == hashlib.sha256(b"").hexdigest()


def test_missing_parent_folders_are_made_at_every_depth(tmp_path):
    """A declared output deep in a folder nothing has made yet (results/stats/x/y/...)."""
    pio.write_table(DF, tmp_path / "a" / "b" / "c" / "t.csv")
    pio.write_json({"x": 1}, tmp_path / "d" / "e" / "f.json")
    with pio.atomic_dir(tmp_path / "g" / "h" / "run") as staging:
        (staging / "x").write_text("1")
    assert (tmp_path / "a" / "b" / "c" / "t.csv").exists() and (tmp_path / "d" / "e" / "f.json").exists()
    assert listing(tmp_path / "g" / "h" / "run") == ["x"]
