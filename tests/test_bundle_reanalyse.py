"""Issue 28: refreshing the shipped bundle's analysis layer (presyn.bundle.reanalyse, target bundle_reanalyse).

Stats, scorecard and figures come from a reviewer-mode rebuild; tables and the run's code_version stay; the manifest
records the analysis commit and the new sha256s, so verify() and compare() accept the refreshed bundle."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from presyn import bundle
from presyn.io import sha256_file
from test_bundle import card_rows, stats_rows, tiny_bundle  # noqa: F401  (fixture)


def rebuilt(tmp_path: Path, with_new_stats: bool = True) -> Path:
    root = tmp_path / "reviewer"
    (root / "results/stats").mkdir(parents=True)
    (root / "figures").mkdir()
    stats_rows({"fig3.ks.layer2": 0.465, "fig3.ks.layer3": 0.2, "fig3.new": 1.0}).to_csv(
        root / "results/stats/fig3.csv", index=False
    )
    if with_new_stats:
        stats_rows({"fig9.extra": 2.0}).to_csv(root / "results/stats/fig9.csv", index=False)
    card = card_rows({"fig3.ks": ("close", 0.465), "fig3.other": ("not reproduced", 0.9)})
    card["status"] = "current"
    card.to_csv(root / "results/reproduction.csv", index=False)
    (root / "results/reproduction.md").write_text("# card, rules of today\n")
    (root / "figures/fig3.png").write_bytes(b"\x89PNG new drawing")
    return root


def test_reanalyse_replaces_the_analysis_layer_and_keeps_the_tables(tiny_bundle, tmp_path):  # noqa: F811
    before = bundle.verify(tiny_bundle)
    table_sha = before["files"]["results/tables/t.csv"]["sha256"]
    m = bundle.reanalyse(tiny_bundle, rebuilt(tmp_path))
    assert m["code_version"] == before["code_version"] and m["created_utc"] == before["created_utc"]
    assert m["analysis_code_version"] and m["analysis_created_utc"]
    assert m["files"]["results/tables/t.csv"]["sha256"] == table_sha  # the run's tables are untouched
    assert (tiny_bundle / "figures/fig3.png").read_bytes() == b"\x89PNG new drawing"
    assert m["files"]["results/stats/fig9.csv"]["role"] == "expected"  # a stats file the rebuild added
    assert bundle.verify(tiny_bundle)["files"] == m["files"]  # every sha256 matches the refreshed files
    for rel, e in m["files"].items():
        assert sha256_file(tiny_bundle / rel) == e["sha256"], rel
    diffs, _ = bundle.compare(tiny_bundle, tmp_path / "reviewer")  # bundle_check passes against the refreshed bundle
    assert diffs == []
    assert pd.read_csv(tiny_bundle / "results/reproduction.csv").set_index("id").loc["fig3.ks", "verdict"] == "close"


def test_reanalyse_refuses_an_incomplete_rebuild_and_changes_nothing(tiny_bundle, tmp_path):  # noqa: F811
    root = rebuilt(tmp_path)
    (root / "figures/fig3.png").unlink()
    manifest = (tiny_bundle / "manifest.json").read_text()
    with pytest.raises(bundle.BundleError, match="lacks.*figures/fig3.png"):
        bundle.reanalyse(tiny_bundle, root)
    assert (tiny_bundle / "manifest.json").read_text() == manifest
    bundle.verify(tiny_bundle)


def test_status_section_of_a_distinct_count_scorecard(tiny_bundle, tmp_path):  # noqa: F811
    bundle.reanalyse(tiny_bundle, rebuilt(tmp_path))
    text = bundle.status_section(tiny_bundle, "reference/bundle")
    assert "| published numbers | 2 | 0 | 1 | 1 | 0 | 0 |" in text  # 2 distinct: 1 close, 1 not reproduced
    assert "recomputed from its tables by code" in text


def test_update_tables_records_the_partial_rerun(tiny_bundle, tmp_path):  # noqa: F811
    """A table of a partial rerun replaces the shipped one; the manifest says which file, rows before / after, the
    code and the note; a config section follows the runs; verify() accepts the result; only tables can be replaced."""
    before = bundle.verify(tiny_bundle)
    new = tmp_path / "t.csv"
    pd.DataFrame({"seed": [1, 2, 3], "x": [0.1, 0.2, 0.3]}).to_csv(new, index=False)
    m = bundle.update_tables(
        tiny_bundle, {"results/tables/t.csv": new}, "seed 3 added by a rerun", config_sections={"seeds": [1, 2, 3]}
    )
    assert bundle.verify(tiny_bundle) == m
    assert m["code_version"] == before["code_version"]  # the run's commit stays; the update names its own
    (upd,) = m["table_updates"]
    assert upd["note"] == "seed 3 added by a rerun" and upd["files"]["results/tables/t.csv"] == {
        "rows_before": 2,
        "rows_after": 3,
    }
    assert upd["config_sections"] == ["seeds"] and upd["code_version"]
    assert pd.read_csv(tiny_bundle / "results/tables/t.csv")["seed"].tolist() == [1, 2, 3]
    assert bundle.yaml.safe_load((tiny_bundle / "config.yaml").read_text())["seeds"] == [1, 2, 3]
    with pytest.raises(bundle.BundleError, match="not tables of the bundle"):
        bundle.update_tables(tiny_bundle, {"results/stats/fig3.csv": new}, "no")


def test_update_tables_adds_a_new_analysis_table(tiny_bundle, tmp_path):  # noqa: F811
    """A new table of the bundled runs (issue 29's spread over every energy run) is added with role table and
    rows_before None; a path outside results/tables is refused."""
    new = tmp_path / "n.csv"
    pd.DataFrame({"seed": [1, 2], "d": [0.4, 0.5]}).to_csv(new, index=False)
    m = bundle.update_tables(tiny_bundle, {"results/tables/new_spread.csv": new}, "a new analysis of the same runs")
    assert m["files"]["results/tables/new_spread.csv"]["role"] == "table" and bundle.verify(tiny_bundle) == m
    assert m["table_updates"][-1]["files"]["results/tables/new_spread.csv"] == {"rows_before": None, "rows_after": 2}
    with pytest.raises(bundle.BundleError, match="not tables of the bundle"):
        bundle.update_tables(tiny_bundle, {"figures/extra.csv": new}, "no")
