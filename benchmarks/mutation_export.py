"""Every mutant of one module in a mutmut 2 cache, with its one-line diff, as JSON lines (benchmarks/mutation.py).

    <mutmut's python> benchmarks/mutation_export.py SCRATCH MODULE CACHE

Rebuilds each mutant from the committed source (``git show HEAD:src/presyn/<module>.py`` in the scratch copy)
with mutmut's own ``mutate``, so it never reads the possibly mutated working file and never writes mutmut's
cache (``mutmut show`` does both; it is unsafe while a run is going).
"""

import difflib
import json
import sqlite3
import subprocess
import sys

from mutmut import Context, RelativeMutationID, mutate

scratch, module, cache = sys.argv[1:4]
fn = f"src/presyn/{module}.py"
src = subprocess.run(["git", "show", f"HEAD:{fn}"], cwd=scratch, capture_output=True, text=True, check=True).stdout
con = sqlite3.connect(cache)
query = (
    'SELECT m.id, l.line, m."index", l.line_number, m.status FROM Mutant m JOIN Line l ON m.line = l.id '
    'JOIN SourceFile f ON l.sourcefile = f.id WHERE f.filename = ? ORDER BY l.line_number, m."index"'
)
for pk, line, index, line_number, status in con.execute(query, (fn,)):
    try:
        new, _ = mutate(Context(source=src, mutation_id=RelativeMutationID(line, index, line_number), filename=fn))
        diff = [d for d in difflib.unified_diff(src.splitlines(), new.splitlines(), lineterm="", n=0)][2:]
        change = " => ".join(d[1:].strip() for d in diff if d[:1] in "+-")
    except Exception as exc:  # a line the cache holds that HEAD does not (should not happen)
        change = f"(not rebuilt: {type(exc).__name__})"
    print(
        json.dumps(
            {"module": module, "id": pk, "line": line_number + 1, "index": index, "status": status, "mutation": change}
        )
    )
