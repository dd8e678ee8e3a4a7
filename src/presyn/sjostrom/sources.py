"""Get the two processed Sjöström et al. 2001 files (App. fig 4) into ``data/raw/sjostrom/``, verified.

Sources are tried in the order of ``sjostrom.sources``:

- ``github``: the pinned raw URLs of the public repository JamesMalkin/EfficientBayes (folder ``data-fig6/``,
  commit in config), where the files were published under CC BY 4.0;
- ``vendored``: the byte-identical copy shipped with this project (``vendor/sjostrom/``, with its licence
  and provenance), so the real figure needs no network anywhere.

Every file's bytes are checked against the sha256 recorded in config before it gets its final name and
before anything parses it; a file that differs (a tampered copy, a truncated download, a larger file than
any of these) is refused by name and the next source is tried. The verified set is staged in a hidden
folder beside ``data/raw/sjostrom/`` and installed by one rename (``presyn.io.atomic_dir``), so a fetch that
fails or is interrupted leaves the destination as it was: never one file of the two, never a file that looks
complete. ``sources.json`` beside them records where each file came from and why earlier sources failed.
"""

from __future__ import annotations

import shutil
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from presyn.io import atomic_dir, atomic_path, sha256_file, write_json

SOURCES = ("github", "vendored")
MAX_BYTES = 1 << 24  # 16 MiB: each file is a few kB; a download larger than this is refused unread


class SjostromUnavailableError(RuntimeError):
    """No source delivered a verified copy of every file; the message lists each source's failure."""


@dataclass(frozen=True)
class ExpectedFile:
    """One file of the data set: its name and the sha256 of its exact bytes."""

    group: str  # "ltp" | "ltd"
    name: str
    sha256: str


def expected_files(cfg: dict) -> list[ExpectedFile]:
    """The files named in ``sjostrom.files`` (group -> {name, sha256})."""
    return [ExpectedFile(group, f["name"], f["sha256"].lower()) for group, f in cfg["files"].items()]


def _install_verified(stage, dest: Path, expected: ExpectedFile, origin: str) -> None:
    """Write ``dest`` through ``stage(tmp_path)`` and keep it only if its sha256 is the recorded one."""
    with atomic_path(dest) as tmp:
        stage(tmp)
        digest = sha256_file(tmp)
        if digest != expected.sha256:
            raise ValueError(
                f"{origin}: sha256 {digest[:16]}... differs from {expected.sha256[:16]}... recorded in "
                f"config sjostrom.files.{expected.group} for {expected.name}: refused (changed or truncated copy)"
            )


def _from_github(cfg: dict, expected: ExpectedFile, dest: Path, repo_root: Path) -> str:
    gh = cfg["github"]
    url = gh["url"].format(commit=gh["commit"], file=expected.name)

    def stage(tmp: Path) -> None:
        with urllib.request.urlopen(url, timeout=float(cfg.get("timeout_s", 10))) as resp:
            blob = resp.read(MAX_BYTES + 1)
        if len(blob) > MAX_BYTES:
            raise ValueError(f"{url}: more than {MAX_BYTES} bytes: refused")
        tmp.write_bytes(blob)

    _install_verified(stage, dest, expected, url)
    return url


def _from_vendored(cfg: dict, expected: ExpectedFile, dest: Path, repo_root: Path) -> str:
    src = repo_root / cfg["vendored"] / expected.name
    if not src.is_file():
        raise FileNotFoundError(
            f"{src} is missing (the vendored copy ships with the code; restore it with git checkout)"
        )
    _install_verified(lambda tmp: shutil.copyfile(src, tmp), dest, expected, str(src))
    return str(src)


FETCHERS = {"github": _from_github, "vendored": _from_vendored}


def fetch(cfg: dict, raw_dir: str | Path, repo_root: str | Path) -> dict:
    """Fetch every expected file from the first source that gives a verified copy; write ``sources.json``.

    Returns the record written (per file: source, location, sha256; the failures of earlier sources).
    Raises ``SjostromUnavailableError`` naming each source's failure when a file cannot be had."""
    raw_dir, repo_root = Path(raw_dir), Path(repo_root)
    unknown = [s for s in cfg["sources"] if s not in FETCHERS]
    if unknown:
        raise ValueError(f"unknown sjostrom.sources {unknown}; known: {list(FETCHERS)}")
    record: dict = {"files": {}, "failures": []}
    with atomic_dir(raw_dir) as stage:  # the verified set replaces raw_dir whole, or raw_dir stays as it was
        for expected in expected_files(cfg):
            dest = stage / expected.name
            tried = []
            for source in cfg["sources"]:
                try:
                    where = FETCHERS[source](cfg, expected, dest, repo_root)
                except Exception as exc:  # noqa: BLE001 - every failure is reported, the next source is tried
                    tried.append(f"{source}: {type(exc).__name__}: {exc}")
                    continue
                record["files"][expected.name] = {
                    "group": expected.group,
                    "source": source,
                    "from": where,
                    "sha256": expected.sha256,
                }
                break
            record["failures"] += [f"{expected.name}: {t}" for t in tried]
            if expected.name not in record["files"]:
                raise SjostromUnavailableError(
                    f"{expected.name}: every source failed:\n  "
                    + "\n  ".join(tried)
                    + f"\nThe vendored copy ({repo_root / cfg['vendored']}) ships with the code: restore it with "
                    "`git checkout -- vendor/sjostrom`, or put a copy with the recorded sha256 into "
                    f"{raw_dir}/ and rerun."
                )
        write_json(record, stage / "sources.json")
    return record


def verify(cfg: dict, raw_dir: str | Path) -> dict[str, Path]:
    """group -> path of each file in ``raw_dir``, after checking it against its recorded sha256 (again: the
    files may have been edited after they were fetched). Raises ValueError naming the file that differs."""
    out = {}
    for expected in expected_files(cfg):
        path = Path(raw_dir) / expected.name
        digest = sha256_file(path)
        if digest != expected.sha256:
            raise ValueError(
                f"{path}: sha256 {digest[:16]}... differs from {expected.sha256[:16]}... recorded in config "
                f"sjostrom.files.{expected.group}: the file changed after it was fetched; delete it and rerun"
            )
        out[expected.group] = path
    return out
