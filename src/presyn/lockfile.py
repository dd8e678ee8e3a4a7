"""The pinned, hashed CPU environment (``requirements/cpu.lock.txt``, made by ``scripts/lock.sh``) and whether the
running environment is that one.

- ``pyproject_digest``: sha256 of pyproject.toml's dependency section (``requires-python``, ``dependencies``, the
  extras ``workflow`` and ``test``) and of ``requirements/cpu.in`` (the torch build); the lock's header records
  it, and tests/test_lock.py fails when pyproject.toml changes without a refresh of the lock.
- ``environment``: the lock's sha256, whether every locked package is installed at its locked version
  (``importlib.metadata``), the ones that are not, and how ``scripts/setup_env.sh`` installed the environment
  (``install.json`` in the venv: from the lock, or from the ranges with ``PRESYN_UNLOCKED=1``). Every run's
  provenance and the reference bundle's manifest record it.
- ``compare_packages``: two {package: version} maps, the packages whose versions differ (reviewer mode's warning).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCK = "requirements/cpu.lock.txt"
LOCK_INPUT = "requirements/cpu.in"
DIGEST_KEY = "pyproject-deps-sha256"
EXTRAS = ("workflow", "test")
INSTALL_RECORD = "install.json"  # written into the venv (sys.prefix) by scripts/setup_env.sh

_REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\#]+?))?\s*(?:\\)?\s*(?:#.*)?$")


def canonical(name: str) -> str:
    """PEP 503 normalised name (``PyYAML`` -> ``pyyaml``, ``typing_extensions`` -> ``typing-extensions``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dependency_section(pyproject: str | Path | None = None, lock_input: str | Path | None = None) -> dict:
    """What the lock is made from: pyproject.toml's requires-python, dependencies and the locked extras, and the
    requirement lines of requirements/cpu.in."""
    pyproject = Path(pyproject) if pyproject is not None else REPO / "pyproject.toml"
    lock_input = Path(lock_input) if lock_input is not None else REPO / LOCK_INPUT
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = project.get("optional-dependencies", {})
    inp = (
        [l.split("#", 1)[0].strip() for l in lock_input.read_text(encoding="utf-8").splitlines()]
        if lock_input.is_file()
        else []
    )
    return {
        "requires-python": project.get("requires-python"),
        "dependencies": project.get("dependencies", []),
        "optional-dependencies": {e: extras.get(e, []) for e in EXTRAS},
        "cpu.in": [l for l in inp if l],
    }


def pyproject_digest(pyproject: str | Path | None = None, lock_input: str | Path | None = None) -> str:
    blob = json.dumps(dependency_section(pyproject, lock_input), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def lock_digest(lock: str | Path | None = None) -> str | None:
    """The sha256 recorded in the lock's header (None if it has none)."""
    lock = Path(lock) if lock is not None else REPO / LOCK
    for line in lock.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"# {DIGEST_KEY}:"):
            return line.split(":", 1)[1].split()[0]
    return None


def _marker_ok(marker: str | None) -> bool:
    if not marker:
        return True
    try:
        from packaging.markers import Marker
    except ImportError:  # pragma: no cover - packaging comes with the lock (snakemake, pytest)
        return True
    return Marker(marker).evaluate()


def parse_lock(lock: str | Path | None = None, all_markers: bool = False) -> dict[str, str]:
    """{canonical name: version} of every pinned package of the lock (those whose environment marker holds here,
    unless ``all_markers``)."""
    lock = Path(lock) if lock is not None else REPO / LOCK
    out = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        m = _REQ.match(line.strip())
        if m and (all_markers or _marker_ok(m.group(3))):
            out[canonical(m.group(1))] = m.group(2)
    return out


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def installed_versions(names) -> dict[str, str | None]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def compare_packages(expected: dict[str, str | None], actual: dict[str, str | None]) -> dict[str, list]:
    """{package: [expected, actual]} for every package of ``expected`` whose version differs in ``actual``
    (a package missing on one side is ``None`` there)."""
    actual = {canonical(k): v for k, v in actual.items()}
    return {
        k: [v, actual.get(k)] for k, v in sorted((canonical(k), v) for k, v in expected.items()) if actual.get(k) != v
    }


def install_record() -> dict | None:
    """How scripts/setup_env.sh installed this venv (mode lock / unlocked, the lock's sha256 then, the sha256 of
    ``pip freeze`` and, unlocked, the freeze file), or None when it was set up otherwise."""
    path = Path(sys.prefix) / INSTALL_RECORD
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def environment(lock: str | Path | None = None, packages: bool = False) -> dict:
    """The lock's sha256 and whether this environment matches it. ``matches_lock``: every locked package is
    installed at exactly its locked version (None when there is no lock file, e.g. a non-editable install);
    ``differs_from_lock``: {package: [locked, installed]}; ``packages`` (on request): the installed version of
    every locked package (the bundle manifest records them for reviewer mode). Computed once per process."""
    return copy.deepcopy(_environment(None if lock is None else str(lock), packages))


@functools.lru_cache(maxsize=8)
def _environment(lock: str | None, packages: bool) -> dict:
    path = Path(lock) if lock is not None else REPO / LOCK
    rec: dict = {"lock_file": LOCK, "lock_sha256": None, "matches_lock": None, "differs_from_lock": {}}
    install = install_record()
    if install is not None:
        rec["install"] = {
            k: install.get(k) for k in ("mode", "lock_sha256", "freeze_sha256", "freeze_file") if k in install
        }
    if not path.is_file():
        return rec
    locked = parse_lock(path)
    installed = installed_versions(locked)
    diff = compare_packages(locked, installed)
    rec.update({"lock_sha256": sha256_of(path), "matches_lock": not diff, "differs_from_lock": diff})
    if packages:
        rec["packages"] = dict(sorted(installed.items()))
    return rec


def main(argv: list[str] | None = None) -> int:
    """``python -m presyn.lockfile digest|check``: print the dependency-section digest; check this environment
    against the lock (exit 1 naming the packages that differ)."""
    argv = sys.argv[1:] if argv is None else argv
    cmd = argv[0] if argv else "check"
    if cmd == "digest":
        print(pyproject_digest())
        return 0
    env = environment()
    if env["matches_lock"]:
        print(f"environment matches {LOCK} (sha256 {env['lock_sha256'][:12]}, {len(parse_lock())} packages)")
        return 0
    for name, (want, got) in env["differs_from_lock"].items():
        print(f"{name}: locked {want}, installed {got}")
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
