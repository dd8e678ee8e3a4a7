"""Reliability: every class of invalid config value is rejected before any job starts,
with the key path in the message (presyn.config_check, called from common.smk)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from presyn.config_check import ConfigError, check, load_schema, validate
from presyn.configs import deep_merge, load_config  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


def base_config() -> dict:
    """config.yaml deep-merged with quick.yaml, the way Snakemake merges overlays."""
    return load_config(ROOT / "config" / "config.yaml", ROOT / "config" / "quick.yaml")


# (overlay, key path expected in the message, fragment of the reason)
BAD_OVERLAYS = {
    "unknown_top_key": ({"sedes": [1, 2]}, "sedes", "unknown key"),
    "unknown_nested_key": ({"energy": {"epoch": 3}}, "energy.epoch", "unknown key"),
    "unknown_model_key": (
        {"energy": {"models": {"presyn": {"learning_rate": 0.1}}}},
        "energy.models.presyn.learning_rate",
        "unknown key",
    ),
    "wrong_type_epochs": ({"energy": {"epochs": "three"}}, "energy.epochs", "is not of type 'integer'"),
    "wrong_type_flag": (
        {"energy": {"models": {"presyn": {"modulation": "yes"}}}},
        "energy.models.presyn.modulation",
        "boolean",
    ),
    "probability_above_1": (
        {"energy": {"models": {"presyn": {"p_up": 1.5}}}},
        "energy.models.presyn.p_up",
        "maximum of 1",
    ),
    "probability_zero": ({"model": {"p_min": 0}}, "model.p_min", "minimum of 0"),
    "fixed_p_out_of_range": ({"energy": {"models": {"fixedp": {"p": 1.2}}}}, "energy.models.fixedp.p", "maximum of 1"),
    "p_init_out_of_range": (
        {"energy": {"models": {"presyn": {"p_init": 2.0}}}},
        "energy.models.presyn.p_init",
        "maximum of 1",
    ),
    "negative_lr": (
        {"energy": {"models": {"presyn": {"lr": -0.1}}}},
        "energy.models.presyn.lr",
        "-0.1 is less than or equal to the minimum of 0",
    ),
    "zero_lr": ({"energy": {"models": {"deterministic": {"lr": 0}}}}, "energy.models.deterministic.lr", "minimum of 0"),
    "negative_weight_decay": ({"energy": {"weight_decays": [0.0, -0.01]}}, "energy.weight_decays[1]", "minimum of 0"),
    "empty_seeds": ({"seeds": []}, "seeds", "should be non-empty"),
    "empty_section_seeds": ({"energy": {"seeds": []}}, "energy.seeds", "should be non-empty"),
    "duplicate_seeds": ({"seeds": [1, 1]}, "seeds", "non-unique"),
    "unknown_model_kind": (
        {"energy": {"models": {"presyn": {"kind": "presynaptic"}}}},
        "energy.models.presyn.kind",
        "is not one of",
    ),
    "unknown_optimizer": (
        {"energy": {"models": {"deterministic": {"optimizer": "rmsprop"}}}},
        "energy.models.deterministic.optimizer",
        "is not one of",
    ),
    "unknown_benchmark": ({"energy": {"benchmark": "cifar10"}}, "energy.benchmark", "is not one of"),
    "unknown_data_source": (
        {"data": {"datasets": {"mnist": {"sources": ["torrent"]}}}},
        "data.datasets.mnist.sources[0]",
        "is not one of",
    ),
    "bad_device": ({"device": "gpu"}, "device", "does not match"),
    "bad_sha256": (
        {"data": {"datasets": {"mnist": {"sha256": {"train_images": "abc"}}}}},
        "data.datasets.mnist.sha256.train_images",
        "does not match",
    ),
    "unknown_analysis_model": (
        {"energy": {"analysis": {"model": "presynn"}}},
        "energy.analysis.model",
        "is not one of energy.models",
    ),
}

# The sections other issues added (lifelong, ablation, perceptron, sjostrom): same classes, where the section exists.
NEW_SECTION_OVERLAYS = {
    "lifelong_negative_lr": (
        {"lifelong": {"methods": {"presyn": {"model": {"lr": -0.01}}}}},
        "lifelong.methods.presyn.model.lr",
        "minimum of 0",
    ),
    "lifelong_p_freeze_above_1": (
        {"lifelong": {"methods": {"presyn": {"model": {"p_freeze": 1.3}}}}},
        "lifelong.methods.presyn.model.p_freeze",
        "maximum of 1",
    ),
    "lifelong_unknown_kind": (
        {"lifelong": {"methods": {"presyn": {"model": {"kind": "sgd"}}}}},
        "lifelong.methods.presyn.model.kind",
        "is not one of",
    ),
    "lifelong_unknown_benchmark": (
        {"lifelong": {"benchmarks": ["perm_cifar"]}},
        "lifelong.benchmarks[0]",
        "does not match",
    ),
    "lifelong_empty_seeds": ({"lifelong": {"seeds": []}}, "lifelong.seeds", "should be non-empty"),
    "lifelong_wrong_type": (
        {"lifelong": {"epochs_per_task": 1.5}},
        "lifelong.epochs_per_task",
        "is not of type 'integer'",
    ),
    "lifelong_unknown_key": (
        {"lifelong": {"methods": {"bgd": {"modle": {}}}}},
        "lifelong.methods.bgd.modle",
        "unknown key",
    ),
    "lifelong_unknown_continuous_method": (
        {"lifelong": {"continuous": {"methods": ["presynn"]}}},
        "lifelong.continuous.methods[0]",
        "is not one of lifelong.methods",
    ),
    "lifelong_unknown_search_benchmark": (
        {"lifelong": {"ewc_search": {"benchmarks": ["perm_kmnist"]}}},
        "lifelong.ewc_search.benchmarks[0]",
        "is not one of lifelong.benchmarks",
    ),
    "lifelong_unknown_per_benchmark": (
        {"lifelong": {"methods": {"presyn": {"per_benchmark": {"perm_mnst": {"lr": 0.1}}}}}},
        "lifelong.methods.presyn.per_benchmark.perm_mnst",
        "unknown benchmark name",
    ),
    "lifelong_unknown_curve_method": (
        {"lifelong": {"curve_methods": ["presyn", "no_consolidation", "bdg"]}},
        "lifelong.curve_methods[2]",
        "is not one of lifelong.methods",
    ),
    "lifelong_unknown_curve_benchmark": (
        {"lifelong": {"curve_benchmarks": ["split_mnist", "split_mnst"]}},
        "lifelong.curve_benchmarks[1]",
        "unknown benchmark name",
    ),
    "lifelong_curve_without_fig4b_benchmark": (
        {"lifelong": {"curve_benchmarks": ["perm_mnist"]}},
        "lifelong.curve_benchmarks",
        "Fig 4b plots the Split MNIST",
    ),
    "lifelong_curve_without_fig4b_method": (
        {"lifelong": {"curve_methods": ["presyn"]}},
        "lifelong.curve_methods",
        "curves of no_consolidation",
    ),
    "lifelong_curve_without_task1": ({"lifelong": {"curve_tasks": [2]}}, "lifelong.curve_tasks", "Fig 4b plots task 1"),
    "lifelong_no_curve": ({"lifelong": {"eval_every": 0}}, "lifelong.eval_every", "without its per-epoch curve"),
    "ablation_unknown_variant": (
        {"ablation": {"run_variants": ["full", "nofreeze"]}},
        "ablation.run_variants[1]",
        "is not one of ablation.variants",
    ),
    "ablation_probability": (
        {"ablation": {"variants": {"fixedP": {"sample_p": 0}}}},
        "ablation.variants.fixedP.sample_p",
        "minimum of 0",
    ),
    "ablation_negative_lr": ({"ablation": {"lr": {"perm_mnist": -1}}}, "ablation.lr.perm_mnist", "minimum of 0"),
    "ablation_unknown_benchmark": (
        {"ablation": {"benchmarks": ["perm_mnist", "split_cifar"]}},
        "ablation.benchmarks[1]",
        "does not match",
    ),
    "perceptron_probability": (
        {"perceptron": {"methods": {"presyn": {"p_max": 1.5}}}},
        "perceptron.methods.presyn.p_max",
        "maximum of 1",
    ),
    "perceptron_unknown_kind": (
        {"perceptron": {"methods": {"presyn": {"kind": "hebb"}}}},
        "perceptron.methods.presyn.kind",
        "is not one of",
    ),
    "perceptron_empty_seeds": ({"perceptron": {"seeds": []}}, "perceptron.seeds", "should be non-empty"),
    "sjostrom_unknown_source": ({"sjostrom": {"sources": ["zenodo"]}}, "sjostrom.sources[0]", "is not one of"),
}


def overlay(cfg: dict, over: dict) -> dict:
    return deep_merge(copy.deepcopy(cfg), over)


def test_shipped_configs_are_valid():
    schema = load_schema(SCHEMA)
    full = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    assert check(full, schema) == []
    assert check(base_config(), schema) == []


@pytest.mark.parametrize("case", sorted(BAD_OVERLAYS))
def test_each_invalid_value_class_names_its_key_path(case):
    over, path, reason = BAD_OVERLAYS[case]
    with pytest.raises(ConfigError) as info:
        validate(overlay(base_config(), over), SCHEMA)
    msg = str(info.value)
    line = next((ln for ln in msg.splitlines() if f"config error at {path}:" in ln), None)
    assert line is not None, f"{case}: no line names {path!r}:\n{msg}"
    assert reason in line, f"{case}: {line!r} lacks {reason!r}"


@pytest.mark.parametrize("case", sorted(NEW_SECTION_OVERLAYS))
def test_new_sections_invalid_values_name_their_key_path(case):
    over, path, reason = NEW_SECTION_OVERLAYS[case]
    section = next(iter(over))
    cfg = base_config()
    if section not in cfg or section not in load_schema(SCHEMA)["properties"]:
        pytest.skip(f"section {section} has not landed")
    if case == "ablation_unknown_benchmark":  # give it a learning rate so that only the name is wrong
        over = {"ablation": {**over["ablation"], "lr": {**cfg["ablation"]["lr"], "split_cifar": 0.1}}}
    with pytest.raises(ConfigError) as info:
        validate(overlay(cfg, over), SCHEMA)
    msg = str(info.value)
    line = next((ln for ln in msg.splitlines() if f"config error at {path}:" in ln), None)
    assert line is not None, f"{case}: no line names {path!r}:\n{msg}"
    assert reason in line, f"{case}: {line!r} lacks {reason!r}"


def test_all_violations_reported_at_once():
    cfg = overlay(base_config(), {"seeds": [], "energy": {"epochs": 0, "models": {"presyn": {"lr": -1}}}})
    problems = check(cfg, load_schema(SCHEMA))
    assert [p.split(":")[0] for p in problems] == [
        "config error at energy.epochs",
        "config error at energy.models.presyn.lr",
        "config error at seeds",
    ]


def test_missing_required_key_named():
    cfg = base_config()
    del cfg["energy"]["models"]["presyn"]["lr"]
    assert "config error at energy.models.presyn.lr: required key is missing" in check(cfg, load_schema(SCHEMA))


def test_new_sections_reject_unknown_keys():
    """Whatever sections other issues have added to the schema: an unknown key inside each
    object-typed section is rejected by its full path (additionalProperties: false everywhere)."""
    schema = load_schema(SCHEMA)
    cfg = base_config()
    checked = []
    for name, sub in schema["properties"].items():
        if sub.get("type") != "object" or name not in cfg or not isinstance(cfg[name], dict):
            continue
        bad = overlay(cfg, {name: {"no_such_key_xyz": 1}})
        problems = check(bad, schema)
        assert any(p.startswith(f"config error at {name}.no_such_key_xyz: unknown key") for p in problems), (
            name,
            problems,
        )
        checked.append(name)
    assert "energy" in checked and "data" in checked and "model" in checked


@pytest.mark.e2e
@pytest.mark.parametrize(
    "case", ["unknown_nested_key", "negative_lr", "empty_seeds", "unknown_benchmark", "wrong_type_epochs"]
)
def test_snakemake_rejects_bad_overlay_before_any_job(workdir, case):
    over, path, reason = BAD_OVERLAYS[case]
    workdir.overlay("bad", over)
    res = workdir.snakemake(
        "figures/all", configfiles=("config/quick.yaml", "config/bad.yaml"), extra=("-n",), check=False
    )
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert f"config error at {path}:" in out and reason in out, out[-3000:]
    assert "nothing was run" in out
    # nothing started: no job logs, no results
    assert not (workdir.path / "results").exists() and not (workdir.path / "logs").exists()
