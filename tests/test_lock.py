"""The pinned, hashed CPU environment (issue 32): requirements/cpu.lock.txt is fresh for pyproject.toml, pins every
package with hashes (torch 2.13.0+cpu with the hash of the wheel pip installs here), and every run's provenance, the
bundle manifest and reviewer mode say whether the environment matches it (presyn.lockfile)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from conftest import ROOT
from presyn import bundle, lockfile, provenance

LOCK = ROOT / lockfile.LOCK
TORCH_WHEEL = Path("/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl")


def test_lock_is_fresh_for_pyproject():
    """Fails when pyproject.toml's dependency section (or requirements/cpu.in) changed without a refresh."""
    recorded, now = lockfile.lock_digest(LOCK), lockfile.pyproject_digest()
    assert recorded == now, (
        f"{lockfile.LOCK} was made from another dependency section of pyproject.toml / {lockfile.LOCK_INPUT} "
        f"(recorded {recorded}, now {now}): refresh it with `bash scripts/lock.sh` and commit it"
    )


def test_digest_follows_the_dependency_section_only(tmp_path):
    py, inp = tmp_path / "pyproject.toml", tmp_path / "cpu.in"
    shutil.copy(ROOT / "pyproject.toml", py)
    shutil.copy(ROOT / lockfile.LOCK_INPUT, inp)
    base = lockfile.pyproject_digest(py, inp)
    text = py.read_text()
    py.write_text("# a comment\n" + text.replace('description = "', 'description = "changed '))
    assert lockfile.pyproject_digest(py, inp) == base  # comments and other keys do not matter
    py.write_text(text.replace('"scipy>=1.11,<2"', '"scipy>=1.12,<2"'))
    assert lockfile.pyproject_digest(py, inp) != base
    py.write_text(text.replace('    "pytest>=8",\n', '    "pytest>=8",\n    "hypothesis",\n'))
    assert lockfile.pyproject_digest(py, inp) != base
    py.write_text(text)
    inp.write_text("torch==2.12.0+cpu\n")
    assert lockfile.pyproject_digest(py, inp) != base


def test_lock_pins_every_package_exactly_with_hashes():
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    reqs = [b for b in blocks if re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*[=<>!~ ]", b) and not b.startswith("--")]
    assert len(reqs) == len(lockfile.parse_lock(LOCK, all_markers=True)) >= 50
    for b in reqs:
        assert re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*==\S+", b), f"not pinned exactly: {b.splitlines()[0]}"
        assert "--hash=sha256:" in b, f"no hash: {b.splitlines()[0]}"
    locked = lockfile.parse_lock(LOCK)
    # every dependency named in pyproject.toml (and its locked extras) is in the lock
    section = lockfile.dependency_section()
    names = section["dependencies"] + [r for e in section["optional-dependencies"].values() for r in e]
    for req in names:
        assert lockfile.canonical(re.match(r"[A-Za-z0-9._-]+", req).group(0)) in locked, req
    assert locked["torch"] == "2.13.0+cpu" and "setuptools" in locked  # torch needs setuptools at run time


@pytest.mark.skipif(
    not TORCH_WHEEL.is_file(), reason=f"{TORCH_WHEEL} (the torch CPU wheel pip installs here) is absent"
)
def test_locked_torch_hash_is_the_local_cpu_wheel():
    block = LOCK.read_text().split("\ntorch==2.13.0+cpu", 1)[1].split("\n#", 1)[0]
    hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block.split("# via")[0])
    assert hashes == [hashlib.sha256(TORCH_WHEEL.read_bytes()).hexdigest()]
    assert f"--find-links {TORCH_WHEEL.parent}" in LOCK.read_text()


def test_conda_env_and_snakefile_use_the_lock():
    env_text = (ROOT / "envs/presyn.yaml").read_text()
    env = yaml.safe_load(env_text)
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip == ["-r ../requirements/cpu.lock.txt"]
    assert f"# lock sha256: {lockfile.sha256_of(LOCK)}" in env_text, "run `bash scripts/lock.sh` (it updates the line)"
    assert (ROOT / "envs/presyn.post-deploy.sh").is_file()
    assert re.search(r'^min_version\("9\.\d+"\)', (ROOT / "workflow/Snakefile").read_text(), re.M)


def fake_lock(tmp_path: Path, pins: dict[str, str]) -> Path:
    path = tmp_path / "cpu.lock.txt"
    path.write_text(
        "# pyproject-deps-sha256: x\n"
        + "".join(f"{k}=={v} \\\n    --hash=sha256:{'0' * 64}\n    # via x\n" for k, v in pins.items())
    )
    return path


def test_environment_names_the_packages_that_differ_from_the_lock(tmp_path):
    from importlib import metadata

    numpy, pyyaml = metadata.version("numpy"), metadata.version("PyYAML")
    good = fake_lock(tmp_path, {"numpy": numpy, "PyYAML": pyyaml})
    env = lockfile.environment(good)
    assert env["matches_lock"] is True and env["differs_from_lock"] == {}
    assert env["lock_sha256"] == hashlib.sha256(good.read_bytes()).hexdigest()
    bad = fake_lock(tmp_path, {"numpy": "0.0.1", "pyyaml": pyyaml, "not-installed-pkg": "1.0"})
    env = lockfile.environment(bad, packages=True)
    assert env["matches_lock"] is False
    assert env["differs_from_lock"] == {"numpy": ["0.0.1", numpy], "not-installed-pkg": ["1.0", None]}
    assert env["packages"]["numpy"] == numpy
    assert lockfile.environment(tmp_path / "absent.txt")["matches_lock"] is None


def test_this_environment_against_the_lock():
    """Where scripts/setup_env.sh installed from the lock (CI), the environment matches it."""
    env = lockfile.environment()
    assert env["lock_sha256"] == lockfile.sha256_of(LOCK)
    install = lockfile.install_record()
    if not install or install.get("mode") != "lock" or install.get("lock_sha256") != env["lock_sha256"]:
        pytest.skip("this venv was not set up from the current lock by scripts/setup_env.sh")
    assert env["matches_lock"], f"installed from the lock, yet differs: {env['differs_from_lock']}"
    assert env["install"]["mode"] == "lock"


def test_provenance_records_the_lock():
    rec = provenance.record({"config_hash": "abc"}, seed=1, device="cpu")
    json.dumps(rec)
    env = rec["environment"]
    assert env["lock_sha256"] == lockfile.sha256_of(LOCK)
    assert isinstance(env["matches_lock"], bool) and isinstance(env["differs_from_lock"], dict)
    assert "packages" not in env  # per run only the verdict and the differences


def write_tiny_bundle(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    (run / "results/tables").mkdir(parents=True)
    pd.DataFrame({"seed": [1], "x": [0.1]}).to_csv(run / "results/tables/t.csv", index=False)
    jobs = pd.DataFrame({"rule": ["train"], "job": ["a"], "wall_s": [1.0], "max_rss_mb": [1.0]})
    out = tmp_path / "bundle"
    bundle.write_bundle(out, {"table": ["results/tables/t.csv"]}, {"seeds": [1]}, jobs, root=run)
    return out


def test_bundle_manifest_records_the_lock_and_every_locked_version(tmp_path):
    m = bundle.verify(write_tiny_bundle(tmp_path))
    env = m["environment"]
    assert env["lock_sha256"] == lockfile.sha256_of(LOCK) and isinstance(env["matches_lock"], bool)
    assert set(env["packages"]) == set(lockfile.parse_lock(LOCK))
    assert bundle.environment_differences(m) == {}


def test_reviewer_mode_warns_naming_the_packages_that_differ(tmp_path, capsys):
    from importlib import metadata

    out = write_tiny_bundle(tmp_path)
    path = out / bundle.MANIFEST
    manifest = json.loads(path.read_text())
    manifest["environment"]["packages"]["scipy"] = "0.1.0"
    path.write_text(json.dumps(manifest))
    config = {"reference_bundle": str(out), "reviewer_dir": str(tmp_path / "reviewer")}
    review = bundle.reviewer_setup(dict(config), ROOT)
    assert review["environment_differences"] == {"scipy": ["0.1.0", metadata.version("scipy")]}
    err = capsys.readouterr().err
    assert "warning: today's environment differs from the reference bundle's in 1 package(s)" in err
    assert f"scipy 0.1.0 (bundle) vs {metadata.version('scipy')} (now)" in err
    # a bundle written before the lock records the main libraries only (machine.libraries): compared too
    del manifest["environment"]
    manifest["machine"]["libraries"]["pandas"] = "0.2.0"
    path.write_text(json.dumps(manifest))
    review = bundle.reviewer_setup(dict(config), ROOT)
    assert review["environment_differences"] == {"pandas": ["0.2.0", metadata.version("pandas")]}
    assert "pandas 0.2.0 (bundle)" in capsys.readouterr().err
    # the same environment: no warning
    manifest["machine"]["libraries"]["pandas"] = metadata.version("pandas")
    path.write_text(json.dumps(manifest))
    assert bundle.reviewer_setup(dict(config), ROOT)["environment_differences"] == {}
    assert "warning" not in capsys.readouterr().err


def test_shipped_bundle_against_this_environment():
    """The shipped bundle (written before the lock) records its main library versions; reviewer mode's warning
    names exactly the ones the lock moved away from them (today: none, the lock kept the bundle's versions)."""
    m = bundle.read_manifest(ROOT / "reference" / "bundle")
    locked = lockfile.parse_lock(LOCK)
    libs = {lockfile.canonical(k): v for k, v in m["machine"]["libraries"].items() if k != "python"}
    moved = lockfile.compare_packages(libs, locked)
    if not lockfile.environment()["matches_lock"]:
        pytest.skip("this venv differs from the lock")
    assert bundle.environment_differences(m) == moved


def test_setup_env_installs_the_lock_by_default_and_ranges_on_request():
    text = (ROOT / "scripts/setup_env.sh").read_text()
    assert "--require-hashes --no-deps" in text and '-r "$LOCK"' in text
    assert 'PRESYN_UNLOCKED:-0}" = 1' in text and "pip-freeze.txt" in text
    assert "--no-deps --no-build-isolation -e ." in text
