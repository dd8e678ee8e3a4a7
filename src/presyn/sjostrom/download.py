"""Fetch the Sjöström et al. 2001 recordings by DOI through the repositories' public APIs.

Sources, tried in the order of ``sjostrom.sources`` after any files already in ``data/raw/sjostrom/``:

- ``dryad`` (doi:10.5061/dryad.p286g, the paper's data-availability statement), Dryad REST API v2:
  ``GET {api}/datasets/{urlencoded "doi:..."}`` -> ``_links["stash:versions"]`` ->
  ``_embedded["stash:versions"]`` (latest = highest ``versionNumber``) -> its ``_links["stash:files"]``
  (paged via ``_links.next``) -> per file ``path``, ``size``, ``digest`` + ``digestType`` and
  ``_links["stash:download"]`` (or ``stash:file-download``). Dryad may refuse anonymous file downloads:
  a bearer token is sent when the environment variable named by ``dryad.token_env`` is set.
- ``mendeley`` (doi:10.17632/7wvf2yw4jn.1, Costa et al. 2017), Mendeley Data public API:
  ``GET {api}/datasets/{id}/files?folder_id=root&version={v}`` -> list of ``filename``, ``size``,
  ``content_details.download_url`` and ``content_details.sha256_hash``; falls back to the ``files`` of
  ``GET {api}/datasets/{id}?version={v}``.

Only csv / xls / xlsx files (and csv / xls / xlsx inside zip archives) are kept. Every file is written
atomically (a killed download leaves only a hidden ``.*.tmp`` file, never one that looks complete), checked
against the API's digest where it gives one, and its sha256 is recorded in ``checksums.json``; later runs
verify against it (``presyn.sjostrom.parse.verify_checksums``). When every source fails, the error lists why
each failed and says which file to put where to continue offline.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import urllib.parse
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

import requests

from presyn.io import atomic_path, write_json
from presyn.sjostrom import RAW_SUFFIXES

log = logging.getLogger(__name__)

USER_AGENT = "presyn-repro (reproduction of Schug, Benzing & Steger 2021; python-requests)"
CHECKSUMS = "checksums.json"
KEEP_SUFFIXES = RAW_SUFFIXES + (".zip",)
DIGEST_ALGOS = {"md5": "md5", "sha-1": "sha1", "sha1": "sha1", "sha-256": "sha256", "sha256": "sha256",
                "sha-512": "sha512", "sha512": "sha512"}


class SourceError(RuntimeError):
    """One source could not deliver the files (unreachable, refused, no tabular file, digest mismatch)."""


class ChecksumError(RuntimeError):
    """A file differs from the digest the API gave or from the one recorded on first download."""


class SjostromUnavailableError(RuntimeError):
    """Every source failed; the message says what to put where to continue offline."""


@dataclass
class RemoteFile:
    name: str
    url: str
    size: int | None = None
    digest: str | None = None
    digest_type: str | None = None  # hashlib name


@dataclass
class FetchSpec:
    """``config['sjostrom']`` as the downloader needs it."""

    sources: list[str]
    dryad_api: str = "https://datadryad.org/api/v2"
    dryad_doi: str = "10.5061/dryad.p286g"
    dryad_token_env: str | None = "DRYAD_API_TOKEN"
    mendeley_api: str = "https://data.mendeley.com/public-api"
    mendeley_doi: str = "10.17632/7wvf2yw4jn.1"
    timeout_s: float = 10.0

    @classmethod
    def from_config(cls, cfg: dict) -> "FetchSpec":
        dryad, mendeley = cfg.get("dryad") or {}, cfg.get("mendeley") or {}
        return cls(sources=list(cfg.get("sources") or ["dryad", "mendeley"]),
                   dryad_api=dryad.get("api", cls.dryad_api), dryad_doi=dryad.get("doi", cls.dryad_doi),
                   dryad_token_env=dryad.get("token_env", cls.dryad_token_env),
                   mendeley_api=mendeley.get("api", cls.mendeley_api), mendeley_doi=mendeley.get("doi", cls.mendeley_doi),
                   timeout_s=float(cfg.get("timeout_s", 10.0)))


# --------------------------------------------------------------------------- HTTP
def _headers(token: str | None = None, accept: str = "application/json") -> dict:
    h = {"User-Agent": USER_AGENT, "Accept": accept}
    if token:
        h["Authorization"] = f"Bearer {token}"
    return h


def _get(url: str, timeout: float, headers: dict, stream: bool = False):
    """requests.get with short timeouts; network failures become SourceError naming the URL."""
    try:
        resp = requests.get(url, headers=headers, timeout=(min(timeout, 5.0), timeout), stream=stream, allow_redirects=True)
    except requests.RequestException as exc:
        raise SourceError(f"GET {url}: {type(exc).__name__}: {_short(exc)}") from exc
    if resp.status_code in (401, 403):
        raise SourceError(f"GET {url}: HTTP {resp.status_code} (access refused; Dryad needs an API token for file "
                          "downloads: set the environment variable named in sjostrom.dryad.token_env)")
    if resp.status_code >= 400:
        raise SourceError(f"GET {url}: HTTP {resp.status_code}")
    return resp


def _short(exc: Exception) -> str:
    """The gist of a requests error (urllib3's are long and nested)."""
    text = str(exc)
    m = re.search(r"Failed to resolve '([^']+)'", text)
    if m:
        return f"cannot resolve host {m.group(1)} (offline?)"
    if isinstance(exc, requests.Timeout) or "timed out" in text:
        return "timed out"
    m = re.search(r"\[Errno -?\d+\] ([^'\)\]]+)", text)
    if m:
        return m.group(1).strip()
    return text if len(text) < 200 else text[:200] + "..."


def get_json(url: str, timeout: float, token: str | None = None):
    resp = _get(url, timeout, _headers(token))
    try:
        return resp.json()
    except ValueError as exc:
        raise SourceError(f"GET {url}: response is not JSON ({resp.headers.get('content-type', '?')})") from exc


def _absolute(base: str, href: str) -> str:
    """Dryad's HAL links are site-relative (``/api/v2/...``)."""
    return urllib.parse.urljoin(base, href)


def _link(obj: dict, rel: str) -> str | None:
    link = (obj.get("_links") or {}).get(rel)
    if isinstance(link, list):
        link = link[0] if link else None
    return link.get("href") if isinstance(link, dict) else None


# --------------------------------------------------------------------------- Dryad
def dryad_dataset_url(api: str, doi: str) -> str:
    doi = doi if doi.startswith("doi:") else f"doi:{doi}"
    return f"{api.rstrip('/')}/datasets/{urllib.parse.quote(doi, safe='')}"


def dryad_files(spec: FetchSpec, token: str | None = None) -> list[RemoteFile]:
    """Resolve the DOI to the latest version's file list via the Dryad v2 API."""
    t = spec.timeout_s
    ds_url = dryad_dataset_url(spec.dryad_api, spec.dryad_doi)
    dataset = get_json(ds_url, t, token)
    versions_href = _link(dataset, "stash:versions") or f"{ds_url}/versions"
    versions = get_json(_absolute(ds_url, versions_href), t, token)
    listed = (versions.get("_embedded") or {}).get("stash:versions") or []
    if listed:
        latest = max(enumerate(listed), key=lambda iv: (iv[1].get("versionNumber") or 0, iv[0]))[1]
        files_href = _link(latest, "stash:files")
        if not files_href and _link(latest, "self"):
            files_href = _link(latest, "self").rstrip("/") + "/files"
    else:  # no version list: the dataset's own latest-version link
        version_href = _link(dataset, "stash:version")
        files_href = version_href.rstrip("/") + "/files" if version_href else None
    if not files_href:
        raise SourceError(f"{ds_url}: no version with a files link in the API response")
    files, url, pages = [], _absolute(ds_url, files_href), 0
    while url and pages < 50:
        page = get_json(url, t, token)
        files += (page.get("_embedded") or {}).get("stash:files") or []
        nxt = _link(page, "next")
        url = _absolute(ds_url, nxt) if nxt and _absolute(ds_url, nxt) != url else None
        pages += 1
    out = []
    for f in files:
        href = _link(f, "stash:download") or _link(f, "stash:file-download")
        name = f.get("path") or ""
        if not href:
            log.warning("dryad: %s has no download link (not public?)", name)
            continue
        algo = DIGEST_ALGOS.get(str(f.get("digestType") or "").lower())
        out.append(RemoteFile(name=name, url=_absolute(ds_url, href), size=f.get("size"),
                              digest=f.get("digest") if algo else None, digest_type=algo))
    return out


# --------------------------------------------------------------------------- Mendeley Data
def mendeley_id(doi: str) -> tuple[str, str | None]:
    """10.17632/<id>.<version> -> (id, version)."""
    m = re.fullmatch(r"(?:doi:)?10\.17632/([a-z0-9]+)(?:\.(\d+))?", doi.strip().lower())
    if not m:
        raise SourceError(f"{doi!r} is not a Mendeley Data DOI (10.17632/<id>.<version>)")
    return m.group(1), m.group(2)


def mendeley_files(spec: FetchSpec) -> list[RemoteFile]:
    """Resolve the DOI to its files via the Mendeley Data public API."""
    t = spec.timeout_s
    ident, version = mendeley_id(spec.mendeley_doi)
    base = f"{spec.mendeley_api.rstrip('/')}/datasets/{ident}"
    vq = f"&version={version}" if version else ""
    errors = []
    entries = None
    try:
        listing = get_json(f"{base}/files?folder_id=root{vq}", t)
        entries = listing if isinstance(listing, list) else listing.get("files")
    except SourceError as exc:
        errors.append(str(exc))
    if not entries:
        try:
            dataset = get_json(f"{base}?{vq.lstrip('&')}" if vq else base, t)
            entries = dataset.get("files") if isinstance(dataset, dict) else None
        except SourceError as exc:
            errors.append(str(exc))
    if not entries:
        raise SourceError("no file list" + (f" ({'; '.join(errors)})" if errors else " in the API responses"))
    out = []
    for f in entries:
        details = f.get("content_details") or {}
        url = details.get("download_url") or f.get("download_url")
        if not url:
            log.warning("mendeley: %s has no download_url", f.get("filename"))
            continue
        digest = details.get("sha256_hash")
        out.append(RemoteFile(name=f.get("filename") or "", url=url, size=f.get("size") or details.get("size"),
                              digest=digest, digest_type="sha256" if digest else None))
    return out


# --------------------------------------------------------------------------- files
def safe_name(name: str) -> str:
    """The base name of a repository path, refusing anything that could escape the raw folder."""
    base = PurePosixPath(str(name).replace("\\", "/")).name
    if base in ("", ".", "..") or base.startswith("."):
        raise SourceError(f"refusing file name {name!r}")
    return base


def sha256_file(path: str | Path) -> str:
    return hash_file(path, "sha256")


def hash_file(path: str | Path, algo: str) -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(remote: RemoteFile, raw_dir: Path, timeout: float, token: str | None = None) -> tuple[Path, str]:
    """Stream one file into raw_dir atomically; check size and the API digest; return (path, sha256)."""
    target = raw_dir / safe_name(remote.name)
    resp = _get(remote.url, timeout, _headers(token, accept="*/*"), stream=True)
    sha = hashlib.sha256()
    api_h = hashlib.new(remote.digest_type) if remote.digest and remote.digest_type else None
    n = 0
    try:
        with atomic_path(target) as tmp, open(tmp, "wb") as fh:
            for chunk in resp.iter_content(chunk_size=1 << 16):
                if not chunk:
                    continue
                fh.write(chunk)
                sha.update(chunk)
                if api_h:
                    api_h.update(chunk)
                n += len(chunk)
            fh.flush()
            if remote.size is not None and n != int(remote.size):
                raise SourceError(f"{remote.url}: got {n} bytes, the API lists {remote.size} (interrupted download?)")
            if api_h and api_h.hexdigest().lower() != str(remote.digest).lower():
                raise ChecksumError(f"{remote.url}: {remote.digest_type} {api_h.hexdigest()} differs from the API's "
                                    f"digest {remote.digest}")
    except requests.RequestException as exc:
        raise SourceError(f"{remote.url}: download failed: {type(exc).__name__}: {_short(exc)}") from exc
    log.info("downloaded %s (%d bytes, sha256 %s)", target, n, sha.hexdigest())
    return target, sha.hexdigest()


def extract_tabular(archive: Path, raw_dir: Path) -> list[Path]:
    """csv/xls/xlsx members of a zip archive, written beside it (base names, atomically)."""
    out = []
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.is_dir() or PurePosixPath(info.filename).suffix.lower() not in RAW_SUFFIXES:
                    continue
                if "__MACOSX" in info.filename:
                    continue
                target = raw_dir / safe_name(info.filename)
                with atomic_path(target) as tmp:
                    tmp.write_bytes(zf.read(info))
                out.append(target)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{archive}: not a valid zip archive ({exc})") from exc
    return out


def local_files(raw_dir: Path) -> list[Path]:
    if not raw_dir.exists():
        return []
    return sorted(p for p in raw_dir.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in RAW_SUFFIXES)


def _record(raw_dir: Path, source: str, detail: dict, files: dict[str, dict]) -> dict:
    rec = {"source": source, "retrieved_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           **detail, "files": files}
    write_json(rec, raw_dir / CHECKSUMS)
    return rec


def fetch_from(source: str, spec: FetchSpec, raw_dir: Path) -> dict:
    """Download every tabular file of one source into raw_dir; return the checksum record."""
    token = os.environ.get(spec.dryad_token_env) if (source == "dryad" and spec.dryad_token_env) else None
    if source == "dryad":
        remote, doi = dryad_files(spec, token), spec.dryad_doi
    elif source == "mendeley":
        remote, doi = mendeley_files(spec), spec.mendeley_doi
    else:
        raise SourceError(f"unknown source {source!r} (known: dryad, mendeley)")
    keep = [r for r in remote if PurePosixPath(r.name).suffix.lower() in KEEP_SUFFIXES]
    if not keep:
        raise SourceError(f"{source} ({doi}): no csv/xls/xlsx/zip file among {[r.name for r in remote] or 'no files'}")
    files: dict[str, dict] = {}
    for r in keep:
        path, sha = download(r, raw_dir, spec.timeout_s * 6, token)
        meta = {"sha256": sha, "size": path.stat().st_size, "url": r.url, "api_digest": r.digest,
                "api_digest_type": r.digest_type}
        if path.suffix.lower() == ".zip":
            for member in extract_tabular(path, raw_dir):
                files[member.name] = {"sha256": sha256_file(member), "size": member.stat().st_size,
                                      "extracted_from": path.name}
        files[path.name] = meta
    if not any(Path(n).suffix.lower() in RAW_SUFFIXES for n in files):
        raise SourceError(f"{source} ({doi}): the archives hold no csv/xls/xlsx file")
    return _record(raw_dir, source, {"doi": doi}, files)


def fetch(cfg: dict, raw_dir: str | Path) -> tuple[dict, list[str]]:
    """Files already in raw_dir (placed by hand) or the first source that delivers; writes checksums.json.

    Returns (checksum record, failures of the sources tried before). Raises SjostromUnavailableError
    with the offline instruction when nothing works."""
    raw_dir = Path(raw_dir)
    spec = FetchSpec.from_config(cfg)
    if (raw_dir / CHECKSUMS).exists():
        from presyn.sjostrom.parse import verify_checksums

        return verify_checksums(raw_dir, raw_dir / CHECKSUMS), []
    present = local_files(raw_dir)
    if present:
        log.info("using files placed in %s: %s", raw_dir, [p.name for p in present])
        return _record(raw_dir, "local", {"note": "placed by hand in data/raw/sjostrom/ (not downloaded)"},
                       {p.name: {"sha256": sha256_file(p), "size": p.stat().st_size} for p in present}), []
    raw_dir.mkdir(parents=True, exist_ok=True)  # the folder the offline instruction names
    failures = []
    for source in spec.sources:
        try:
            return fetch_from(source, spec, raw_dir), failures
        except (SourceError, ChecksumError) as exc:
            log.warning("sjostrom: source %s failed: %s", source, exc)
            failures.append(f"{source}: {exc}")
    raise SjostromUnavailableError(offline_instructions(spec, raw_dir, failures))


def offline_instructions(spec: FetchSpec, raw_dir: Path, failures: list[str]) -> str:
    lines = ["The Sjöström et al. 2001 recordings (App. fig 4) could not be downloaded; every source failed:"]
    lines += [f"  - {f}" for f in failures] or ["  - (no sources configured in sjostrom.sources)"]
    lines += [
        "To continue offline:",
        f"  1. On a machine with internet access, download the recordings table (csv, xls or xlsx) from Dryad "
        f"https://doi.org/{spec.dryad_doi} or Mendeley Data https://doi.org/{spec.mendeley_doi}",
        f"  2. Put that one file into {raw_dir}/ (create the folder; e.g. {raw_dir}/sjostrom2001.xlsx); its sha256 is recorded in "
        f"{raw_dir}/{CHECKSUMS} on the next run and checked on every run after",
        "  3. Check that config sjostrom.columns names its columns (and sjostrom.file / sjostrom.sheet if needed), then rerun.",
        "Or leave App. fig 4 out: set sjostrom.enabled: false (figures/all then says 'left out: appfig4'), "
        "or use the SYNTHETIC stand-in: sjostrom.source: synthetic (never the real data).",
    ]
    return "\n".join(lines)
