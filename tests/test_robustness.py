"""Model robustness (Methods; issue 21): p_up / p_down 25 % lower and higher.

The planner adds the variant runs without touching any other run; the stats are Fig 1's and Fig 2's functions
on the variant's runs (checked on hand-made tables against the published claims: one variant that holds them,
one that fails them); the quick config builds the figure and stats end to end; a disabled section is left out.
"""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from presyn import configs, planning
from presyn import scorecard as sc
from presyn.analysis.robustness import FIGURE, robustness_stats, variant_of
from presyn.analysis.synapses import synapse_stats
from presyn.config_check import ConfigError, validate
from presyn.manifest import section_disabled_reason

SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
PUBLISHED = ROOT / "config" / "published.yaml"


def paper_config() -> dict:
    return configs.load_config(ROOT / "config" / "config.yaml")


def quick_config() -> dict:
    return configs.load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")


# ----------------------------------------------------------------------------- planner


def test_planner_adds_the_variant_runs_with_replaced_p_up_p_down():
    cfg = paper_config()
    sec = cfg["energy"]
    variants = sec["robustness"]["variants"]
    assert {k: (v["p_up"], v["p_down"]) for k, v in variants.items()} == {
        "p_low": (0.0525, 0.0525),
        "p_high": (0.0875, 0.0875),
    }
    runs = planning.robustness_runs(cfg)
    assert len(runs) == len(variants) * len(sec["weight_decays"]) * len(cfg["seeds"]) == 36
    base = sec["models"]["presyn"]
    seen = set()
    for s in runs:
        v = s["model"]["p_up"]
        assert s["model"] == {**base, "p_up": v, "p_down": v, "weight_decay": s["weight_decay"]}
        assert s["method"] == planning.method_name("presyn", pup=v, pdown=v, wd=s["weight_decay"])
        assert (s["experiment"], s["energy_group"], s["model_name"], s["epochs"]) == (
            "energy",
            "robustness",
            "presyn",
            sec["epochs"],
        )
        seen.add((v, s["weight_decay"], s["seed"]))
    assert seen == {
        (v["p_up"], wd, seed) for v in variants.values() for wd in sec["weight_decays"] for seed in cfg["seeds"]
    }
    keys = set(planning.all_runs(cfg))
    assert "energy/presyn_pup0.0525_pdown0.0525_wd0.01/mnist/seed2019" in keys
    assert "energy/presyn_pup0.0875_pdown0.0875_wd0/mnist/seed2021" in keys
    # quick config: the same variants at toy size (3 weight decays x 2 seeds)
    assert len(planning.robustness_runs(quick_config())) == 2 * 3 * 2


@pytest.mark.parametrize("make_config", [paper_config, quick_config])
def test_variants_leave_every_other_run_and_its_hash_unchanged(make_config):
    cfg = make_config()
    without = copy.deepcopy(cfg)
    del without["energy"]["robustness"]
    before, after = planning.all_runs(without), planning.all_runs(cfg)
    added = set(after) - set(before)
    assert set(before) <= set(after)
    assert {k: s["config_hash"] for k, s in before.items()} == {k: after[k]["config_hash"] for k in before}
    assert {k: s for k, s in before.items()} == {k: after[k] for k in before}  # the whole spec, not only its hash
    assert added == {planning.run_key(s) for s in planning.robustness_runs(cfg)}
    assert all(after[k]["energy_group"] == "robustness" for k in added)
    # changing a variant's values moves only that variant's runs
    other = copy.deepcopy(cfg)
    other["energy"]["robustness"]["variants"]["p_high"]["p_down"] = 0.08
    moved = set(planning.all_runs(other)) ^ set(after)
    assert moved and all("pup0.0875" in k for k in moved)


def test_disabled_section_or_experiment_plans_no_variant_runs():
    cfg = paper_config()
    cfg["energy"]["robustness"]["enabled"] = False
    assert planning.robustness_runs(cfg) == [] and not [k for k in planning.all_runs(cfg) if "_pup" in k]
    cfg = paper_config()
    cfg["energy"]["enabled"] = False
    assert planning.robustness_runs(cfg) == []


def test_planner_refuses_equal_variants_and_a_non_presyn_base():
    cfg = paper_config()
    cfg["energy"]["robustness"]["variants"]["twin"] = dict(cfg["energy"]["robustness"]["variants"]["p_low"])
    with pytest.raises(ValueError, match="share the path"):
        planning.all_runs(cfg)
    cfg = paper_config()
    cfg["energy"]["robustness"]["model"] = "fixedp"
    with pytest.raises(ValueError, match="kind presyn"):
        planning.robustness_runs(cfg)


@pytest.mark.parametrize(
    "edit, where",
    [
        (lambda r: r["variants"]["p_low"].pop("p_down"), "energy.robustness.variants.p_low.p_down"),
        (lambda r: r["variants"]["p_low"].update(p_up=1.5), "energy.robustness.variants.p_low.p_up"),
        (lambda r: r["variants"]["p_low"].update(g_lim=0.1), "energy.robustness.variants.p_low.g_lim"),
        (lambda r: r.update(model="nope"), "energy.robustness.model"),
    ],
)
def test_config_check_names_a_bad_robustness_key(edit, where):
    cfg = paper_config()
    edit(cfg["energy"]["robustness"])
    with pytest.raises(ConfigError) as err:
        validate(cfg, SCHEMA)
    assert f"config error at {where}" in str(err.value)


def test_batched_training_takes_one_variant_method_and_refuses_to_mix_variants():
    from presyn.experiments import energy

    runs = planning.robustness_runs(paper_config())
    assert all(energy.groupable(s) for s in runs)
    one = [s for s in runs if s["method"] == "presyn_pup0.0525_pdown0.0525_wd0.01"]
    assert len(one) == 3
    energy.check_group(one)  # one method's seeds share everything but the seed
    mixed = one[:1] + [s for s in runs if s["method"] == "presyn_pup0.0875_pdown0.0875_wd0.01"][:1]
    with pytest.raises(ValueError, match="differ in"):
        energy.check_group(mixed)


def test_section_disabled_reason_walks_a_dotted_section():
    cfg = paper_config()
    assert section_disabled_reason(cfg, "energy.robustness") is None
    assert section_disabled_reason(cfg, "sjostrom") is None
    cfg["energy"]["robustness"]["enabled"] = False
    assert section_disabled_reason(cfg, "energy.robustness") == cfg["energy"]["robustness"]["left_out_reason"]
    cfg["energy"]["robustness"]["enabled"] = True
    cfg["energy"]["enabled"] = False  # the level above wins
    assert section_disabled_reason(cfg, "energy.robustness") == "config energy.enabled is false"
    del cfg["energy"]["robustness"]
    cfg["energy"]["enabled"] = True
    assert section_disabled_reason(cfg, "energy.robustness") == "config has no energy.robustness section"
    cfg["sjostrom"].update(enabled=False, left_out_reason="no data here")
    assert section_disabled_reason(cfg, "sjostrom") == "no data here"


# ----------------------------------------------------------------------------- stats on hand-made tables

SEEDS = [1, 2, 3]
VARIANTS = {"p_low": {"p_up": 0.0525, "p_down": 0.0525}, "p_high": {"p_up": 0.0875, "p_down": 0.0875}}


def final_rows(model: str, method, by_wd: dict[float, list[float]]) -> list[dict]:
    """energy.final_table rows: only MI per energy matters here (energy 1, so MI = MI per energy)."""
    return [
        {
            "method": method(wd),
            "seed": seed,
            "model": model,
            "weight_decay": wd,
            "mi_per_energy": v,
            "mutual_information": v,
            "synaptic_energy": 1.0,
            "neuronal_energy": 1.0,
            "mi_per_neuronal_energy": v,
            "test_accuracy": 0.9,
        }
        for wd, vals in by_wd.items()
        for seed, v in zip(SEEDS, vals)
    ]


def synapses(n_high: int, high_bigger: bool, n: int = 100) -> pd.DataFrame:
    """Per seed n synapses, the first n_high with p = 0.95; |w_bar| and Fisher larger on them iff high_bigger."""
    frames = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        high = np.arange(n) < n_high
        big, small = 1.0 + rng.random(n), 0.1 * rng.random(n)
        w = np.where(high == high_bigger, big, small)
        frames.append(
            pd.DataFrame(
                {
                    "seed": seed,
                    "layer": 1,
                    "p": np.where(high, 0.95, 0.3),
                    "p_init": 0.25,
                    "w_bar": w,
                    "abs_w": w,
                    "important": high,
                    "important_init": False,
                    "fisher": w**2,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def lesion(lowp_first: list[float], random: list[float]) -> pd.DataFrame:
    rows = [{"seed": s, "order": o, "fraction": 0.0, "accuracy": 0.95} for s in SEEDS for o in ("lowp_first", "random")]
    rows += [{"seed": s, "order": "lowp_first", "fraction": 0.5, "accuracy": a} for s, a in zip(SEEDS, lowp_first)]
    rows += [{"seed": s, "order": "random", "fraction": 0.5, "accuracy": a} for s, a in zip(SEEDS, random)]
    return pd.DataFrame(rows)


@pytest.fixture
def hand_made():
    fig1 = final_rows(
        "presyn", lambda wd: planning.method_name("presyn", wd=wd), {0.0: [1.0, 1.1, 1.2], 0.01: [2.0, 2.1, 2.2]}
    )
    fig1 += final_rows(
        "fixedp", lambda wd: planning.method_name("fixedp", wd=wd), {0.0: [0.5, 0.6, 0.7], 0.01: [0.4, 0.45, 0.5]}
    )
    fig1 += final_rows(
        "deterministic",
        lambda wd: planning.method_name("deterministic", wd=wd),
        {0.0: [0.8, 0.9, 1.0], 0.01: [0.7, 0.75, 0.8]},
    )
    # p_low keeps every Fig 1 / Fig 2 result; p_high loses every one of them
    rob = final_rows(
        "presyn",
        lambda wd: planning.robustness_method("presyn", VARIANTS["p_low"], wd),
        {0.0: [1.5, 1.6, 1.7], 0.01: [3.0, 3.1, 3.3]},
    )
    rob += final_rows(
        "presyn",
        lambda wd: planning.robustness_method("presyn", VARIANTS["p_high"], wd),
        {0.0: [0.3, 0.35, 0.4], 0.01: [0.2, 0.25, 0.3]},
    )
    syn = {
        v: synapse_stats(t, figure=f"robustness.{v}")
        for v, t in (("p_low", synapses(10, True)), ("p_high", synapses(80, False)))
    }
    les = {
        "p_low": lesion([0.90, 0.88, 0.91], [0.50, 0.55, 0.52]),
        "p_high": lesion([0.30, 0.32, 0.31], [0.60, 0.62, 0.65]),
    }
    return pd.DataFrame(fig1), pd.DataFrame(rob), syn, les


def test_stats_are_fig1_and_fig2_of_each_variant_against_the_fig1_controls(hand_made):
    energy_final, rob, syn, les = hand_made
    out = robustness_stats(energy_final, rob, syn, les, VARIANTS)
    assert set(out["figure"]) == {FIGURE}
    assert out["name"].str.match(r"^robustness\.(p_low|p_high)\.").all() and out["name"].is_unique
    row = out.set_index("name").loc
    # the variant's presyn at its own best weight decay; the controls are the Fig 1 runs
    assert row["robustness.p_low.best_mi_per_energy.presyn", "value"] == pytest.approx(np.mean([3.0, 3.1, 3.3]))
    assert row["robustness.p_low.best_mi_per_energy.presyn", "groups"].startswith(
        "variant=p_low;p_up=0.0525;p_down=0.0525;"
    )
    assert "wd=0.01" in row["robustness.p_low.best_mi_per_energy.presyn", "groups"]
    assert "wd=0" in row["robustness.p_high.best_mi_per_energy.presyn", "groups"].split(";")
    assert row["robustness.p_high.best_mi_per_energy.fixedp", "value"] == pytest.approx(0.6)
    assert row["robustness.p_high.best_mi_per_energy.deterministic", "value"] == pytest.approx(0.9)
    # independent t-test by hand (pooled variance), presyn p_low vs fixed p at their best weight decays
    a, b = np.array([3.0, 3.1, 3.3]), np.array([0.5, 0.6, 0.7])
    sp2 = ((a - a.mean()) ** 2).sum() / 4 + ((b - b.mean()) ** 2).sum() / 4
    t = (a.mean() - b.mean()) / np.sqrt(sp2 * (1 / 3 + 1 / 3))
    assert row["robustness.p_low.best_mi_per_energy.presyn_vs_fixedp", "statistic"] == pytest.approx(t)
    assert row["robustness.p_low.best_mi_per_energy.presyn_vs_default", "value"] == pytest.approx(a.mean() - 2.1)
    # Fig 2 of the variant's own tables
    assert row["robustness.p_low.fraction_important.after", "value"] == pytest.approx(0.1)
    assert row["robustness.p_high.fraction_important.after", "value"] == pytest.approx(0.8)
    assert row["robustness.p_low.lesion.lowp_first.50", "value"] == pytest.approx(np.mean([0.90, 0.88, 0.91]))
    assert row["robustness.p_low.lesion.lowp_vs_random.50", "n"] == 3


def test_published_claims_hold_for_one_variant_and_fail_for_the_other(hand_made):
    out = robustness_stats(*hand_made, VARIANTS)
    pub = sc.load_published(PUBLISHED)
    claims = [c for c in pub["claims"] if c["id"].startswith("robustness.")]
    assert {c["figure"] for c in claims} == {FIGURE} and all(c.get("our_test") for c in claims)
    ids = {v: {c["id"] for c in claims if c["id"].startswith(f"robustness.{v}.")} for v in VARIANTS}
    assert len(ids["p_low"]) == len(ids["p_high"]) == 9
    card = sc.scorecard({"claims": claims}, out).set_index("id")["verdict"]
    assert (card[sorted(ids["p_low"])] == sc.REPRODUCED).all(), card[sorted(ids["p_low"])]
    assert (card[sorted(ids["p_high"])] == sc.NOT_REPRODUCED).all(), card[sorted(ids["p_high"])]


def test_a_run_of_no_configured_variant_is_refused(hand_made):
    _, rob, _, _ = hand_made
    assert set(variant_of(rob, VARIANTS)) == {"p_low", "p_high"}
    with pytest.raises(ValueError, match="no configured variant"):
        variant_of(rob, {"p_low": VARIANTS["p_low"]})


# ----------------------------------------------------------------------------- end to end


def check_names(check: dict) -> set[str]:
    """Every stats name a claim's check reads."""
    if "all" in check:
        return set().union(*(check_names(c) for c in check["all"]))
    ops = [check[k] for k in ("left", "right", "test") if k in check]
    return {o if isinstance(o, str) else o["stat"] for o in ops}


@pytest.mark.e2e
def test_quick_config_builds_the_robustness_figure_and_stats(workdir):
    # one weight decay (the analysis one) and batched training (one job per method, its 2 seeds): the new runs
    # go through rule train_batched here; the generic train rule is what tests/test_scorecard.py's figures/all uses
    # the lesion curve at the one fraction the claims read (50 %) with few samples
    small = workdir.overlay(
        "small",
        {
            "energy": {"weight_decays": [0.01], "analysis": {"lesion_fractions": [0.0, 0.5], "lesion_samples": 2}},
            "batched_training": {"enabled": True, "over": "seeds"},
        },
    )
    res = workdir.snakemake("figures/appfig_robustness.pdf", configfiles=("config/quick.yaml", str(small)))
    assert "rule train_batched:" in res.stdout + res.stderr and "rule train:" not in res.stdout + res.stderr
    wd = workdir.path
    assert (wd / "figures/appfig_robustness.pdf").stat().st_size > 1000
    assert (wd / "figures/appfig_robustness.png").stat().st_size > 1000
    # the variant runs, with the replaced p_up / p_down, and no extra control runs
    methods = {p.name for p in (wd / "results/runs/energy").iterdir()}
    fig1 = {planning.method_name(m, wd=0.01) for m in ("presyn", "deterministic", "fixedp")}
    variant = {planning.method_name("presyn", pup=p, pdown=p, wd=0.01) for p in (0.0525, 0.0875)}
    assert methods == fig1 | variant
    for p in (0.0525, 0.0875):
        prov = json.loads(
            (
                wd / f"results/runs/energy/{planning.method_name('presyn', pup=p, pdown=p, wd=0.01)}/mnist/seed2020/"
                "provenance.json"
            ).read_text()
        )
        assert (prov["spec"]["model"]["p_up"], prov["spec"]["model"]["p_down"], prov["spec"]["energy_group"]) == (
            p,
            p,
            "robustness",
        )
    table = pd.read_csv(wd / "results/tables/energy_robustness.csv")
    assert len(table) == 2 * 2 and set(table["model"]) == {"presyn"} and set(table["seed"]) == {2019, 2020}
    stats = pd.read_csv(wd / "results/stats/robustness.csv")
    assert set(stats["figure"]) == {FIGURE}
    # every published claim of the figure finds its rows (toy-size values: after 3 epochs no synapse may have
    # reached p >= 0.9, so a high-p row can be NaN and its claim 'not run'; none is invalid)
    claims = [c for c in sc.load_published(PUBLISHED)["claims"] if c["figure"] == FIGURE]
    needed = set().union(*(check_names(c["check"]) for c in claims))
    assert len(claims) == 18 and needed <= set(stats["name"]), needed - set(stats["name"])
    card = sc.scorecard({"claims": claims}, stats)
    assert sc.INVALID not in set(card["verdict"])
    for v in ("p_low", "p_high"):
        assert stats.set_index("name").loc[f"robustness.{v}.best_mi_per_energy.presyn_vs_fixedp", "n"] == 4
    syn = pd.read_parquet(wd / "results/tables/robustness/p_low/synapses.parquet")
    assert set(syn["seed"]) == {2019, 2020} and "fisher" in syn
    # figures/all lists the figure; with the section off, neither the figure nor the variant runs are planned
    dry = workdir.snakemake("figures/all", configfiles=("config/quick.yaml", str(small)), extra=("-n",))
    assert "figures/appfig_robustness.pdf" in dry.stdout.split("rule manifest:")[1].split("output:")[0]
    off = workdir.overlay("off", {"energy": {"robustness": {"enabled": False}}})
    dry = workdir.snakemake("figures/all", configfiles=("config/quick.yaml", str(small), str(off)), extra=("-n",))
    assert "appfig_robustness" not in dry.stdout and "_pup0" not in dry.stdout
