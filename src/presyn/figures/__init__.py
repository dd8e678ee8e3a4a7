"""One module per figure: reads tables and stats, draws, saves PDF + PNG. No statistics here.

``code_files(name)`` lists the source files that draw figure ``name`` (its module, every ``presyn.figures``
module it imports, transitively, and ``presyn/plotting.py``), repo-relative. Each figure rule takes them as
inputs (``code=figure_code("<name>")`` in ``workflow/rules/*.smk``), so that Snakemake reruns the rule when the
code that draws it changes: its own ``code`` rerun trigger covers only the entry script (``scripts/plot_*.py``),
not the library it imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent.parent  # src/
# style, palette, markers; the judging of panel claims (presyn.scorecard: the published file and the verdicts)
SHARED = (
    "presyn/plotting.py",
    "presyn/scorecard/__init__.py",
    "presyn/scorecard/published.py",
    "presyn/scorecard/judging.py",
)


def _imports(path: Path) -> set[str]:
    """Names of the ``presyn.figures`` modules that ``path`` imports (``from presyn.figures import x``,
    ``from presyn.figures.x import y``, ``import presyn.figures.x``)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "presyn.figures":
                out |= {a.name for a in node.names}
            elif node.module.startswith("presyn.figures."):
                out.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[2] for a in node.names if a.name.startswith("presyn.figures.")}
    return {m for m in out if (HERE / f"{m}.py").exists()}


def code_files(name: str) -> list[str]:
    """Repo-relative paths of the code that draws figure ``name``: ``src/presyn/figures/<name>.py``, the figure
    modules it imports (transitively), ``src/presyn/plotting.py`` and ``src/presyn/scorecard/``'s reading of the
    published file and judging (which decide the "not reproduced" marks)."""
    seen, todo = [], [name]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.append(m)
        todo += sorted(_imports(HERE / f"{m}.py") - set(seen))
    return [f"src/presyn/figures/{m}.py" for m in seen] + [f"src/{s}" for s in SHARED]
