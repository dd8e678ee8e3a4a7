"""The repository stands alone: nothing it tracks points to files a user of the repository does not have.

- No git-tracked text file names a path outside the repository (the project's former working folder, or the
  notes beside it) or the protocol notes the project was first built from: the protocol is `docs/protocol.md`.
- Every link into `docs/protocol.md` with an anchor resolves to one of its headings (GitHub's anchor rules).

The forbidden strings are assembled from parts so that this file does not contain them itself.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROTOCOL = ROOT / "docs" / "protocol.md"

FORBIDDEN = (
    ".." + "/shared",  # the notes beside the former working tree
    "/" + "work/",  # an absolute path of one machine
    "SPEC " + "\u00a7",  # section references into the old protocol notes
    "SPEC" + ".md",
    "spec_map" + ".md",  # folded into docs/protocol.md
)
ANCHOR_LINK = re.compile(r"protocol\.md#([\w-]+)")
LOCAL_LINK = re.compile(r"\]\(#([\w-]+)\)")  # a link within docs/protocol.md itself
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def tracked_text_files() -> list[Path]:
    """Every git-tracked file that exists in the work tree and decodes as UTF-8 text (no NUL bytes)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git work tree")
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    files = []
    for name in names.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        files.append(path)
    return files


def github_anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading: markup dropped, lowercase, punctuation removed, spaces to '-'."""
    text = re.sub(r"`([^`]*)`", r"\1", heading)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def protocol_anchors(text: str) -> set[str]:
    """Anchors of every heading outside code blocks; repeated headings get GitHub's -1, -2, ... suffixes."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if not m:
            continue
        base = github_anchor(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        anchors.add(base if n == 0 else f"{base}-{n}")
    return anchors


def forbidden_hits(path: Path, root: Path = ROOT) -> list[str]:
    hits = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for s in FORBIDDEN:
            if s in line:
                hits.append(f"{path.relative_to(root)}:{i}: {s!r}: {line.strip()[:120]}")
    return hits


def broken_anchor_links(path: Path, anchors: set[str], root: Path = ROOT) -> list[str]:
    bad = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found = ANCHOR_LINK.findall(line) + (LOCAL_LINK.findall(line) if path == PROTOCOL else [])
        for anchor in found:
            if anchor not in anchors:
                bad.append(f"{path.relative_to(root)}:{i}: #{anchor}")
    return bad


def test_no_tracked_file_points_outside_the_repository():
    hits = [h for path in tracked_text_files() for h in forbidden_hits(path)]
    assert not hits, "references to files outside the repository (use docs/protocol.md):\n" + "\n".join(hits)


def test_every_protocol_anchor_link_resolves():
    assert PROTOCOL.is_file(), "docs/protocol.md is missing"
    anchors = protocol_anchors(PROTOCOL.read_text(encoding="utf-8"))
    files = set(tracked_text_files()) | {PROTOCOL}
    bad = [b for path in sorted(files) for b in broken_anchor_links(path, anchors)]
    assert not bad, "links to headings docs/protocol.md does not have:\n" + "\n".join(bad)


def test_the_checks_can_fail(tmp_path):
    """The two checks on planted lines: each forbidden string is caught, a wrong anchor is caught."""
    anchors = protocol_anchors(
        "# Top\n## Fig 2: importance of high-p synapses\n### Fig 2b: lesion\n```\n# not a heading\n```\n"
    )
    assert anchors == {"top", "fig-2-importance-of-high-p-synapses", "fig-2b-lesion"}
    assert github_anchor("App. fig 1: energy variants") == "app-fig-1-energy-variants"
    assert github_anchor("Fig 5b, c: perceptron") == "fig-5b-c-perceptron"
    planted = tmp_path / "planted.py"
    for s in FORBIDDEN:
        planted.write_text(f"x = 1\n# see {s}x\n", encoding="utf-8")
        hits = forbidden_hits(planted, tmp_path)
        assert len(hits) == 1 and hits[0].startswith("planted.py:2:")
    planted.write_text("# docs/protocol" + ".md#fig-2b-lesion and docs/protocol" + ".md#fig-9-none\n", encoding="utf-8")
    assert broken_anchor_links(planted, anchors, tmp_path) == ["planted.py:1: #fig-9-none"]
