"""The reference bundle (presyn.bundle) and reviewer mode: writing, verifying, comparing a rebuild, README's
generated section; end to end, a quick run's bundle rebuilt without training, and an altered analysis caught."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, SNAKEFILE
from presyn import bundle
from presyn.stats import COLUMNS

SHIPPED = ROOT / "reference" / "bundle"


def stats_rows(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "figure": "fig3",
                "name": k,
                "kind": "ks",
                "value": v,
                "sem": np.nan,
                "n": 3,
                "statistic": v,
                "p_value": 0.01,
                "test": "KS",
                "groups": "layer=2",
                "detail": "",
            }
            for k, v in values.items()
        ]
    )[COLUMNS]


def card_rows(verdicts: dict[str, tuple[str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "kind": "number",
                "id": k,
                "figure": "fig3",
                "statement": "KS D",
                "unit": "",
                "published": 0.5,
                "published_sem": np.nan,
                "published_source": "text",
                "ours": v,
                "ours_sem": np.nan,
                "n": 3,
                "difference": v - 0.5,
                "tolerance": "abs 0.1",
                "verdict": verdict,
                "source": "",
                "detail": "",
            }
            for k, (verdict, v) in verdicts.items()
        ]
    )


@pytest.fixture
def tiny_bundle(tmp_path: Path) -> Path:
    """A bundle written by write_bundle from a hand-made run folder."""
    run = tmp_path / "run"
    (run / "results/tables").mkdir(parents=True)
    (run / "results/stats").mkdir(parents=True)
    (run / "figures").mkdir()
    pd.DataFrame({"seed": [1, 2], "x": [0.1, 0.2]}).to_csv(run / "results/tables/t.csv", index=False)
    stats_rows({"fig3.ks.layer2": 0.465, "fig3.ks.layer3": 0.2}).to_csv(run / "results/stats/fig3.csv", index=False)
    card_rows({"fig3.ks": ("reproduced", 0.465), "fig3.other": ("not reproduced", 0.9)}).to_csv(
        run / "results/reproduction.csv", index=False
    )
    (run / "results/reproduction.md").write_text("# card\n")
    (run / "figures/fig3.png").write_bytes(b"\x89PNG fake")
    jobs = pd.DataFrame(
        {"rule": ["train"], "job": ["energy/presyn/mnist/seed1"], "wall_s": [3600.0], "max_rss_mb": [100.0]}
    )
    out = tmp_path / "bundle"
    bundle.write_bundle(
        out,
        {
            "table": ["results/tables/t.csv"],
            "expected": ["results/stats/fig3.csv", "results/reproduction.csv", "results/reproduction.md"],
            "figure": ["figures/fig3.png"],
        },
        {"seeds": [1, 2], "run_label": "", "reference_bundle": "dropped"},
        jobs,
        left_out={"fig4": "lifelong not run"},
        root=run,
    )
    return out


def test_write_bundle_records_every_file_with_its_sha256_and_the_run(tiny_bundle):
    m = bundle.verify(tiny_bundle)
    assert set(m["files"]) == {
        "results/tables/t.csv",
        "results/stats/fig3.csv",
        "results/reproduction.csv",
        "results/reproduction.md",
        "figures/fig3.png",
        "config.yaml",
        "job_summary.csv",
    }
    assert m["files"]["results/tables/t.csv"]["role"] == "table"
    assert m["jobs"] == {"n": 1, "summed_wall_s": 3600.0} and m["left_out"] == {"fig4": "lifelong not run"}
    assert m["code_version"] and m["machine"]["cpu_count"] >= 1 and m["created_utc"]
    cfg = yaml.safe_load((tiny_bundle / "config.yaml").read_text())
    assert cfg == {"seeds": [1, 2], "run_label": ""}  # the reviewer keys never enter a bundle's config
    assert m["config_hash"] == bundle.config_hash(cfg)


def test_an_edited_or_missing_bundle_file_is_refused_by_name(tiny_bundle):
    (tiny_bundle / "results/stats/fig3.csv").write_text("name,value\nfig3.ks.layer2,0.5\n")
    with pytest.raises(bundle.BundleError, match=r"results/stats/fig3.csv differs from the sha256.*git checkout"):
        bundle.verify(tiny_bundle)
    (tiny_bundle / "results/tables/t.csv").unlink()
    with pytest.raises(bundle.BundleError, match=r"results/tables/t.csv is listed in the bundle manifest but missing"):
        bundle.verify(tiny_bundle, only=["results/tables/t.csv"])
    with pytest.raises(bundle.BundleError, match="not in the reference bundle"):
        bundle.verify(tiny_bundle, only=["results/tables/lifelong_final.csv"])
    with pytest.raises(bundle.BundleError, match="is not a reference bundle"):
        bundle.verify(tiny_bundle / "nowhere")


def test_write_bundle_refuses_a_file_the_run_did_not_make(tmp_path):
    with pytest.raises(bundle.BundleError, match=r"results/tables/absent.csv is not there"):
        bundle.write_bundle(
            tmp_path / "b",
            {"table": ["results/tables/absent.csv"]},
            {},
            pd.DataFrame(columns=["wall_s"]),
            root=tmp_path,
        )
    assert not (tmp_path / "b").exists()  # nothing half-written


def _rebuild(tiny_bundle: Path, tmp_path: Path, stats: pd.DataFrame, card: pd.DataFrame) -> Path:
    root = tmp_path / "rebuilt"
    (root / "results/stats").mkdir(parents=True, exist_ok=True)
    stats.to_csv(root / "results/stats/fig3.csv", index=False)
    card.to_csv(root / "results/reproduction.csv", index=False)
    return root


def test_compare_passes_an_identical_rebuild_and_reports_new_rows_without_failing(tiny_bundle, tmp_path):
    root = _rebuild(
        tiny_bundle,
        tmp_path,
        stats_rows({"fig3.ks.layer2": 0.465 * (1 + 1e-12), "fig3.ks.layer3": 0.2, "fig3.new": 1.0}),
        card_rows({"fig3.ks": ("reproduced", 0.465), "fig3.other": ("not reproduced", 0.9)}),
    )
    diffs, new = bundle.compare(tiny_bundle, root)
    assert diffs == [] and new == {"results/stats/fig3.csv": ["fig3.new"]}


def test_compare_names_every_changed_number_verdict_and_missing_row(tiny_bundle, tmp_path):
    root = _rebuild(
        tiny_bundle,
        tmp_path,
        stats_rows({"fig3.ks.layer2": 0.475}),
        card_rows({"fig3.ks": ("not reproduced", 0.475), "fig3.other": ("not reproduced", 0.9)}),
    )
    diffs, _ = bundle.compare(tiny_bundle, root)
    got = {(d.file, d.key, d.column) for d in diffs}
    assert ("results/stats/fig3.csv", "fig3.ks.layer2", "value") in got
    assert ("results/stats/fig3.csv", "fig3.ks.layer2", "statistic") in got
    assert ("results/stats/fig3.csv", "fig3.ks.layer3", "(row)") in got
    assert ("results/reproduction.csv", "fig3.ks", "verdict") in got and (
        "results/reproduction.csv",
        "fig3.ks",
        "ours",
    ) in got
    assert not any(d.key == "fig3.other" for d in diffs)
    (root / "results/reproduction.csv").unlink()
    diffs, _ = bundle.compare(tiny_bundle, root)
    assert ("results/reproduction.csv", "(file)", "(file)") in {(d.file, d.key, d.column) for d in diffs}


def test_status_section_reads_every_number_from_the_bundle(tiny_bundle):
    text = bundle.status_section(tiny_bundle, "reference/bundle")
    assert text.startswith(bundle.README_BEGIN) and text.rstrip().endswith(bundle.README_END)
    assert "| published numbers | 1 | 1 | 0 |" in text
    assert (
        "| `fig3.other` | 0.5 | 0.9 (n=3) | not reproduced |" in text
        and "| `fig3.ks` | 0.5 | 0.465 (n=3) | reproduced |" in text
    )
    assert "1.0 job-hours" in text and "- fig4: lifelong not run" in text
    assert '<img src="reference/bundle/figures/fig3.png"' in text
    readme = f"intro\n{bundle.README_BEGIN}\nold text\n{bundle.README_END}\noutro\n"
    new = bundle.replace_section(readme, text)
    assert (
        new.startswith("intro\n")
        and new.endswith("\noutro\n")
        and "old text" not in new
        and new.count(bundle.README_BEGIN) == 1
    )
    with pytest.raises(bundle.BundleError, match="no generated section"):
        bundle.replace_section("no markers", text)


def test_reviewer_setup_takes_the_bundles_config_and_its_own_folder(tiny_bundle, tmp_path):
    config = {"seeds": [7], "energy": {"enabled": True}, "reference_bundle": str(tiny_bundle)}
    review = bundle.reviewer_setup(config, tmp_path)
    assert config == {
        "seeds": [1, 2],
        "run_label": "",
        "reference_bundle": str(tiny_bundle),
        "reviewer_dir": str(tmp_path / "reviewer"),
    }
    assert review["note"].startswith("reference bundle: code ") and review["workdir"] == str(tmp_path / "reviewer")
    assert review["tables"] == tiny_bundle.resolve() / "results/tables"  # the workflow's TABLES in reviewer mode
    with pytest.raises(bundle.BundleError, match="must not be the repository itself"):
        bundle.reviewer_setup({"reference_bundle": str(tiny_bundle), "reviewer_dir": str(tmp_path)}, tmp_path)


def test_reviewer_tables_are_the_bundles_own_and_a_missing_one_says_why(tiny_bundle):
    """Reviewer mode reads the bundle's table folder in place: a file there that the manifest does not list is
    refused by name; a table a target needs but the bundle lacks names the left-out figure and its reason."""
    m = bundle.verify(tiny_bundle)
    assert bundle.tables_dir(tiny_bundle, m) == tiny_bundle.resolve() / "results/tables"
    msg = bundle.missing_table_message(tiny_bundle, m, "results/tables/lifelong_final.csv", ["fig4", "appfig3"])
    assert msg.startswith("results/tables/lifelong_final.csv is not in the reference bundle")
    assert f"fig4 is not in the reference bundle {tiny_bundle}: lifelong not run" in msg and "appfig3" not in msg
    assert "the bundled run did not make it" in bundle.missing_table_message(tiny_bundle, m, "results/tables/x.csv", [])
    (tiny_bundle / "results/tables/sub").mkdir()
    (tiny_bundle / "results/tables/sub/extra.csv").write_text("a\n1\n")
    with pytest.raises(bundle.BundleError, match=r"results/tables/sub/extra.csv is not listed as a table"):
        bundle.tables_dir(tiny_bundle, m)


def test_job_summary_keeps_this_configs_runs_and_the_analysis_jobs(tmp_path):
    root = tmp_path / "benchmarks"
    for rel in (
        "train/energy/presyn/mnist/seed1.tsv",
        "train/lifelong/ewcsearch-screen_x/split_mnist/seed1.tsv",
        "energy_lesion/all.tsv",
        "ablation_search_trial/perm_mnist/full/trial0.tsv",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("s\tmax_rss\n12.5\t300\n")
    jobs = bundle.job_summary(root, ["energy/presyn/mnist/seed1"])
    assert sorted(jobs["job"]) == ["all", "energy/presyn/mnist/seed1"] and jobs["wall_s"].sum() == 25.0


def test_figure_run_keys_leave_out_search_trials_and_diagnostic_runs():
    """The bundle's job summary is the figures' run: the 460 EWC search and the BGD evidence runs are other targets."""
    runs = {
        "lifelong/ewc/split_mnist/seed2019": {"experiment": "lifelong"},
        "lifelong/ewcsearch-screen_x/split_mnist/seed2019": {"search": {"stage": "screen"}},
        "ablation/search-trial0/perm_mnist/seed2019": {"search": {"trial": 0}},
        "lifelong/bgd-fork-init-raw/perm_mnist/seed2019": {"diagnostic": "bgd_evidence"},
        "energy/presyn/mnist/seed2019": {"experiment": "energy"},
    }
    assert bundle.figure_run_keys(runs) == ["energy/presyn/mnist/seed2019", "lifelong/ewc/split_mnist/seed2019"]


# ----------------------------------------------------------------------------- the shipped bundle
def test_readme_status_section_is_the_one_generated_from_the_shipped_bundle():
    if not SHIPPED.is_dir():
        pytest.skip("no reference bundle shipped")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert bundle.replace_section(readme, bundle.status_section(SHIPPED, "reference/bundle")) == readme, (
        "README's reproduction status is not the one `snakemake readme_status` writes from reference/bundle: run it"
    )


def test_shipped_bundle_is_intact_and_small():
    if not SHIPPED.is_dir():
        pytest.skip("no reference bundle shipped")
    m = bundle.verify(SHIPPED)
    assert sum(e["bytes"] for e in m["files"].values()) <= 10e6
    assert not any(p.endswith(".parquet") for p in m["files"])  # per-synapse tables are aggregated, not shipped


def reviewer(*targets: str, bundle_dir: Path, out: Path, env_extra: dict | None = None, check: bool = True):
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--cores",
        "2",
        *targets,
        "--configfile",
        str(ROOT / "config/reviewer.yaml"),
        "--config",
        f"reference_bundle={bundle_dir}",
        f"reviewer_dir={out}",
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0", **(env_extra or {})}
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)
    if check and res.returncode != 0:
        raise AssertionError(f"snakemake failed ({res.returncode}):\n{res.stdout[-4000:]}\n{res.stderr[-6000:]}")
    return res


@pytest.mark.e2e
def test_shipped_bundle_rebuilds_every_figure_and_the_scorecard_exactly(tmp_path):
    if not SHIPPED.is_dir():
        pytest.skip("no reference bundle shipped")
    out = tmp_path / "reviewer"
    reviewer("bundle_check", bundle_dir=SHIPPED, out=out)
    assert (out / "bundle_check.txt").read_text().startswith(f"bundle {SHIPPED} (code ")
    m = bundle.read_manifest(SHIPPED)
    for png in bundle.files_of(m, "figure"):
        assert (out / png).stat().st_size > 1000, png
    assert not (out / "results/runs").exists() and not (out / "data").exists()  # nothing trained, no dataset
    for name, why in (m.get("left_out") or {}).items():  # a figure the bundled run left out says why
        res = reviewer(
            f"figures/{name}.pdf" if name != "apptable1" else "figures/apptable1.md",
            bundle_dir=SHIPPED,
            out=out,
            check=False,
        )
        assert res.returncode != 0 and f"{name} is not in the reference bundle" in res.stdout + res.stderr
        assert why[:40] in res.stdout + res.stderr
        break


# ----------------------------------------------------------------------------- a quick run, end to end
def altered_ks_source(tmp_path: Path) -> Path:
    """A scratch copy of the package whose two-sample KS statistic is off by 0.01 (a drifted analysis)."""
    src = tmp_path / "altered_src"
    shutil.copytree(ROOT / "src", src, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    stats_py = src / "presyn" / "stats.py"
    text = stats_py.read_text()
    marker = "def ks_2samp("
    assert marker in text
    stats_py.write_text(
        text + "\n\n_ks_2samp_true = ks_2samp\n\n\ndef ks_2samp(*args, **kwargs):\n"
        "    row = _ks_2samp_true(*args, **kwargs)\n    row['value'] += 0.01\n    row['statistic'] += 0.01\n"
        "    return row\n"
    )
    return src


@pytest.mark.e2e
def test_quick_run_bundle_round_trip_and_a_drifted_analysis_fails_the_check(workdir, tmp_path):
    workdir.snakemake("figures/all")
    workdir.snakemake("reference_bundle")
    b = workdir.path / "reference" / "bundle"
    m = bundle.verify(b)
    assert bundle.files_of(m, "table") and "results/reproduction.csv" in m["files"]
    assert yaml.safe_load((b / "config.yaml").read_text())["run_label"].startswith("QUICK")
    # reviewer mode: every figure and the scorecard from the bundle, equal to what the run produced
    out = tmp_path / "reviewer"
    reviewer("bundle_check", bundle_dir=b, out=out)
    assert "0 differences" in (out / "bundle_check.txt").read_text()
    card = (out / "results/reproduction.md").read_text()
    assert "**Rebuilt from:** reference bundle: code " in card
    assert not (out / "results/runs").exists() and not (out / "data").exists()
    # a drifted analysis (KS statistic + 0.01) fails the check, naming the KS rows
    bad = reviewer(
        "bundle_check",
        bundle_dir=b,
        out=tmp_path / "reviewer_bad",
        check=False,
        env_extra={"PYTHONPATH": str(altered_ks_source(tmp_path))},
    )
    assert bad.returncode != 0
    log = (tmp_path / "reviewer_bad" / "logs" / "bundle_check.log").read_text()
    assert "DIFF results/stats/fig3.csv: fig3.ks.layer2: value: bundle " in log
    # a table the bundle does not have is an error, never a training run
    (b / "manifest.json").write_text(
        json.dumps({**m, "files": {k: v for k, v in m["files"].items() if k != "results/tables/energy_final.csv"}})
    )
    res = reviewer("figures/fig1.pdf", bundle_dir=b, out=tmp_path / "reviewer_missing", check=False)
    assert res.returncode != 0 and "results/tables/energy_final.csv" in res.stdout + res.stderr
    assert not (tmp_path / "reviewer_missing" / "results/runs").exists()
