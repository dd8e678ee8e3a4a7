"""Issue 30.1: every figure rule takes the code that draws it as inputs (its module, the figure modules it imports,
plotting.py), so Snakemake reruns a figure whose drawing code changed."""

from __future__ import annotations

import re
from pathlib import Path

from presyn.figures import code_files

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "energy": ["fig1", "fig2", "fig3", "appfig1", "appfig2"],
    "lifelong": ["fig4", "appfig3"],
    "ablation": ["fig5", "perceptron_capacity"],
    "robustness": ["appfig_robustness"],
    "sjostrom": ["appfig4"],
}


def test_code_files_follow_imports():
    files = code_files("appfig2")  # imports fig2 (stat) and fig3 (histograms, scatter)
    assert files[0] == "src/presyn/figures/appfig2.py"
    assert {"src/presyn/figures/fig2.py", "src/presyn/figures/fig3.py", "src/presyn/plotting.py"} <= set(files)
    assert all((ROOT / f).exists() for f in files)
    assert "src/presyn/figures/fig4.py" not in files


def test_every_figure_rule_has_its_code_as_input():
    every = set()
    for smk, names in FIGURES.items():
        text = (ROOT / "workflow" / "rules" / f"{smk}.smk").read_text()
        for name in names:
            block = re.search(rf"^rule {name}:\n(.*?)(?=^rule |\Z)", text, re.S | re.M).group(1)
            inputs = block.split("output:")[0]
            assert f'figure_code_files("{name}")' in inputs, f"rule {name} lacks its code inputs"
        every |= set(names)
    modules = {p.stem for p in (ROOT / "src" / "presyn" / "figures").glob("*.py")} - {"__init__"}
    assert modules <= every, f"figure modules without a rule checked here: {modules - every}"
