"""The import graph of src/presyn has the trainers (``presyn.experiments``) on its top floor (issue 31).

Only entry points (scripts/, benchmarks/) import the trainers; a library module that imports them would be a
second training engine or an orchestrator hiding in the science package. Read from the source with ``ast``, so
the check costs no imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "presyn"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every presyn module a source file imports (``import a.b``, ``from a import b``, ``from a.b import c``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "presyn" or m.startswith("presyn.")}


def test_imported_modules_reads_every_import_form(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import presyn.a.b\nfrom presyn import c\nfrom presyn.d import e\nimport os\nfrom . import x\n")
    assert imported_modules(f) == {"presyn.a.b", "presyn", "presyn.c", "presyn.d", "presyn.d.e"}


def test_no_library_module_imports_the_trainers():
    sources = sorted(SRC.rglob("*.py"))
    assert len(sources) > 50, f"found {len(sources)} modules under {SRC}"
    above = {}
    for path in sources:
        name = _module_name(path)
        if name == "presyn.experiments" or name.startswith("presyn.experiments."):
            continue
        hits = sorted(m for m in imported_modules(path) if m.startswith("presyn.experiments"))
        if hits:
            above[name] = hits
    assert above == {}, f"library modules above presyn.experiments (only entry points may import it): {above}"
