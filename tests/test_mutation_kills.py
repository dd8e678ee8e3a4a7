"""Hand-computed checks added to kill mutants that survived the fast tests (benchmarks/mutation.py, issue 34).

Each block names the module; each test pins down one behaviour a surviving mutant changed without a test
noticing (benchmarks/results/mutation_*.md lists them with the test that now kills each).
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import torch
from scipy import stats as sps

from presyn import checkpoint, metrics, stats
from presyn.factory import build_learner
from presyn.training import Generators


# =============================================================================================== stats
def test_sem_uses_ddof_one_and_needs_two_values():
    assert stats.sem([1.0, 2.0, 3.0]) == pytest.approx(1.0 / math.sqrt(3))  # std(ddof=1) = 1
    assert stats.sem([2.0, 4.0]) == pytest.approx(1.0)  # std(ddof=1) = sqrt(2), / sqrt(2)
    assert math.isnan(stats.sem([5.0])) and math.isnan(stats.sem([]))


def test_summary_row_by_hand():
    row = stats.summary("fig1", "fig1.x", [1.0, 2.0, 6.0], groups="g", detail="d")
    assert set(row) == set(stats.COLUMNS)
    assert (row["figure"], row["name"], row["kind"], row["test"], row["groups"], row["detail"]) == (
        "fig1",
        "fig1.x",
        "summary",
        "mean +- SEM",
        "g",
        "d",
    )
    assert row["value"] == 3.0 and row["n"] == 3
    assert row["sem"] == pytest.approx(math.sqrt(7.0) / math.sqrt(3))  # var = (4 + 1 + 9) / 2
    assert row["statistic"] is None and row["p_value"] is None
    empty = stats.summary("fig1", "fig1.e", [])
    assert math.isnan(empty["value"]) and empty["n"] == 0 and math.isnan(empty["sem"])


def test_ttest_row_by_hand():
    a, b = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]
    row = stats.ttest("fig5", "fig5.t", a, b, "a vs b")
    # pooled variance: (2 * 1 + 3 * (5/3)) / 5 = 1.4; se = sqrt(1.4 (1/3 + 1/4)); t = (2 - 5.5) / se
    t = (2.0 - 5.5) / math.sqrt(1.4 * (1 / 3 + 1 / 4))
    assert row["statistic"] == pytest.approx(t) and row["value"] == pytest.approx(-3.5)
    assert row["n"] == 7 and row["test"] == "independent t-test" and row["detail"] == "n=3 vs 4"
    assert row["groups"] == "a vs b" and row["kind"] == "test"
    assert row["p_value"] == pytest.approx(2 * sps.t.sf(abs(t), 5))  # 5 degrees of freedom
    welch = stats.ttest("fig5", "fig5.t", a, b, "a vs b", equal_var=False)
    tw = (2.0 - 5.5) / math.sqrt(1.0 / 3 + (5 / 3) / 4)
    assert welch["test"] == "Welch t-test" and welch["statistic"] == pytest.approx(tw)


@pytest.mark.parametrize("a,b", [([1.0], [2.0, 3.0]), ([1.0, 2.0], [3.0]), ([], [])])
def test_ttest_needs_two_per_group(a, b, caplog):
    with caplog.at_level(logging.WARNING):
        row = stats.ttest("fig5", "fig5.t", a, b, "g")
    assert math.isnan(row["value"]) and math.isnan(row["statistic"]) and math.isnan(row["p_value"])
    assert row["n"] == len(a) + len(b) and row["test"] == "independent t-test" and row["groups"] == "g"
    assert row["detail"] == f"not enough replicates for independent t-test: n={len(a) + len(b)}, need >= 2 per group"
    assert "fig5.t" in caplog.text


def test_two_per_group_is_enough_for_a_ttest():
    assert not math.isnan(stats.ttest("f", "f.t", [1.0, 2.0], [3.0, 5.0], "g")["p_value"])


def test_pearson_by_hand_and_minimum_n():
    row = stats.pearson("appfig4", "appfig4.r", [1.0, 2.0, 3.0], [2.0, 4.0, 7.0], groups="all")
    # centred: x (-1, 0, 1), y (-7/3, -1/3, 8/3): r = 5 / sqrt(2 * 38/3)
    r = 5.0 / math.sqrt(2 * 38 / 3)
    assert row["value"] == pytest.approx(r) and row["statistic"] == pytest.approx(r)
    assert row["n"] == 3 and row["test"] == "Pearson correlation" and row["groups"] == "all"
    few = stats.pearson("appfig4", "appfig4.r", [1.0, 2.0], [1.0, 3.0])
    assert math.isnan(few["value"]) and few["n"] == 2
    assert few["detail"] == "not enough replicates for Pearson correlation: n=2, need >= 3"


def test_ks_by_hand_and_minimum_n():
    row = stats.ks_2samp("appfig2", "appfig2.ks", [1.0, 2.0, 3.0], [10.0, 11.0], "true vs shuffled")
    assert row["value"] == 1.0 and row["statistic"] == 1.0 and row["n"] == 5
    assert row["test"] == "two-sample KS test" and row["detail"] == "n=3 vs 2" and row["p_value"] == pytest.approx(0.2)
    one_each = stats.ks_2samp("appfig2", "appfig2.ks", [1.0], [2.0], "g")
    assert one_each["value"] == 1.0  # one per group is enough
    none = stats.ks_2samp("appfig2", "appfig2.ks", [], [2.0], "g")
    assert math.isnan(none["value"]) and none["detail"].endswith("n=1, need >= 1 per group")


def test_paired_ttest_by_hand():
    a, b = [3.0, 5.0, 10.0], [1.0, 2.0, 4.0]  # differences 2, 3, 6: mean 11/3, sd sqrt(13/3)
    row = stats.ttest_paired("fig5", "fig5.pair", a, b, "a vs b")
    t = (11 / 3) / (math.sqrt(13 / 3) / math.sqrt(3))
    assert row["value"] == pytest.approx(11 / 3) and row["statistic"] == pytest.approx(t)
    assert row["n"] == 3 and row["test"] == "paired t-test" and row["detail"] == "n=3 pairs"
    with pytest.raises(ValueError, match="equal lengths, got 3 and 2"):
        stats.ttest_paired("fig5", "fig5.pair", a, b[:2], "g")
    few = stats.ttest_paired("fig5", "fig5.pair", [1.0], [2.0], "g")
    assert math.isnan(few["value"]) and few["detail"] == "not enough replicates for paired t-test: n=1, need >= 2"
    assert not math.isnan(stats.ttest_paired("f", "f.p", [1.0, 2.0], [0.0, 2.5], "g")["p_value"])


def test_mannwhitney_by_hand():
    row = stats.mannwhitney("fig3", "fig3.mw", [1.0, 2.0, 9.0], [3.0, 4.0], "g")
    # U of the first sample: pairs (a > b): 9 > 3, 9 > 4 -> 2; medians 2 and 3.5
    assert row["statistic"] == 2.0 and row["value"] == pytest.approx(2.0 - 3.5)
    assert row["n"] == 5 and row["test"] == "Mann-Whitney U test"
    assert row["detail"] == "n=3 vs 2; value = difference of medians" and 0 < row["p_value"] <= 1
    one = stats.mannwhitney("fig3", "fig3.mw", [1.0], [2.0], "g")
    assert not math.isnan(one["statistic"])
    none = stats.mannwhitney("fig3", "fig3.mw", [1.0], [], "g")
    assert math.isnan(none["value"]) and none["detail"].endswith("n=1, need >= 1 per group")
    assert stats.mannwhitney("fig3", "fig3.mw", [], [1.0, 2.0], "g")["n"] == 2  # n counts both groups


def test_frame_has_the_stats_columns_in_order():
    df = stats.frame([stats.summary("f", "f.x", [1.0, 2.0])])
    assert list(df.columns) == stats.COLUMNS and len(df) == 1


# =============================================================================================== metrics
def test_mutual_information_with_absent_classes_and_zeros():
    """Class 2 never occurs (n_classes = 3); outputs with exact zeros (0 log 0 = 0)."""
    y = torch.tensor([0, 0, 1, 1])
    probs = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    # P(z|y=0) = (0.75, 0.25, 0), P(z|y=1) = (0, 1, 0), P(y) = 1/2 each, P(z) = (0.375, 0.625, 0)
    expected = 0.5 * (0.75 * math.log2(0.75 / 0.375) + 0.25 * math.log2(0.25 / 0.625)) + 0.5 * math.log2(1 / 0.625)
    assert metrics.mutual_information(probs, y, n_classes=3) == pytest.approx(expected, rel=1e-12)
    assert metrics.mutual_information(probs, y) == pytest.approx(expected, rel=1e-12)


def test_mutual_information_of_a_minority_class():
    """Unequal class frequencies: P(y) is the empirical frequency, not uniform."""
    y = torch.tensor([0, 0, 0, 1])
    probs = torch.tensor([[1.0, 0.0]] * 3 + [[0.0, 1.0]])
    h = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))  # perfect outputs: I = H(Y)
    assert metrics.mutual_information(probs, y) == pytest.approx(h, rel=1e-12)


def test_accuracy_exact_fraction():
    probs = torch.tensor([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    assert metrics.accuracy(probs, torch.tensor([0, 1, 1, 1])) == 0.75
    assert isinstance(metrics.accuracy(probs, torch.tensor([0, 1, 0, 1])), float)


class _FixedLearner:
    def __init__(self, probs, activity):
        self.probs, self.activity, self.calls = probs, activity, []

    def predict_proba(self, x, n_samples):
        self.calls.append(n_samples)
        return self.probs, self.activity


def test_evaluate_by_hand():
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    learner = _FixedLearner(probs, torch.tensor([1.0, 2.0, 3.0, 6.0]))
    y = torch.tensor([0, 1, 1, 0])
    out = metrics.evaluate(learner, torch.zeros(4, 3), y, n_samples=7)
    assert learner.calls == [7]
    assert out["test_accuracy"] == 0.75  # item 3 wrong; [0.5, 0.5] argmax is 0: right for item 4
    assert out["neuronal_energy"] == 3.0
    assert out["mutual_information"] == pytest.approx(metrics.mutual_information(probs, y))
    assert set(out) == {"test_accuracy", "mutual_information", "neuronal_energy"}


# =============================================================================================== checkpoint
SPEC = {"seed": 3, "model": {"kind": "presyn", "lr": 0.1, "p_up": 0.25, "p_down": 0.125}, "p_min": 0.25}
SIZES = [4, 3, 2]


def _save(tmp_path, spec=SPEC, position=None):
    """A learner with hand-set strengths and generators moved on, saved; returns (learner, gens, path)."""
    gens = Generators.from_seed(spec["seed"], torch.device("cpu"))
    learner = build_learner(spec["model"], SIZES, gens, torch.device("cpu"), spec["p_min"])
    learner.net.w.copy_(torch.linspace(-1, 1, learner.net.w.numel()))
    learner.net.p.fill_(0.5)
    gens.data.manual_seed(11)
    path = checkpoint.save(tmp_path, spec, learner, gens, [{"a": 1}], position or {"task": 2, "epoch": 5, "acc": [0.5]})
    return learner, gens, path


@pytest.mark.parametrize(
    "value,on",
    [(None, True), ("1", True), ("0", False), ("false", False), (" No ", False), ("OFF", False), ("yes", True)],
)
def test_checkpoint_enabled_by_environment(monkeypatch, value, on):
    if value is None:
        monkeypatch.delenv(checkpoint.ENV, raising=False)
    else:
        monkeypatch.setenv(checkpoint.ENV, value)
    assert checkpoint.enabled() is on


def test_checkpoint_round_trip_restores_learner_and_generator_states(tmp_path, monkeypatch):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    learner, gens, path = _save(tmp_path)
    assert path == tmp_path / "checkpoint.pt" == checkpoint.path_for(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary left
    expected = torch.rand(3, generator=gens.data)  # the stream from where it was saved
    payload = checkpoint.load(tmp_path, SPEC, "cpu")
    assert payload["format"] == checkpoint.FORMAT and payload["spec"] == SPEC
    assert payload["rows"] == [{"a": 1}] and payload["position"] == {"task": 2, "epoch": 5, "acc": [0.5]}
    assert torch.equal(payload["learner"].net.w, learner.net.w) and torch.equal(payload["learner"].net.p, learner.net.p)
    assert payload["learner"].rule.p_up == 0.25  # rebuilt from the spec
    assert torch.equal(torch.rand(3, generator=payload["gens"].data), expected)


def test_checkpoint_off_saves_and_loads_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    learner, gens, _ = _save(tmp_path)
    monkeypatch.setenv(checkpoint.ENV, "0")
    assert checkpoint.load(tmp_path, SPEC, "cpu") is None
    assert checkpoint.save(tmp_path / "other", SPEC, learner, gens, [], {}) is None
    assert not (tmp_path / "other").exists()
    assert (tmp_path / "checkpoint.pt").exists()  # not set aside either


def test_checkpoint_absent_is_none(tmp_path, monkeypatch):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    assert checkpoint.load(tmp_path, SPEC, "cpu") is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change,reason", [("format", "format 0 != 2"), ("spec", "different run spec")])
def test_checkpoint_not_resumable_is_set_aside(tmp_path, monkeypatch, caplog, change, reason):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    spec = SPEC
    if change == "format":
        monkeypatch.setattr(checkpoint, "FORMAT", 0)
        _save(tmp_path)
        monkeypatch.setattr(checkpoint, "FORMAT", 2)
    else:
        _save(tmp_path)
        spec = {**SPEC, "seed": 4}
    with caplog.at_level(logging.WARNING, logger="presyn"):
        assert checkpoint.load(tmp_path, spec, "cpu") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt.stale"]
    assert reason in caplog.text and "checkpoint.pt.stale" in caplog.text


def test_checkpoint_of_other_code_version_resumes_with_a_warning(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    monkeypatch.setattr(checkpoint, "code_version", lambda: "0000000-old")
    _save(tmp_path)
    monkeypatch.setattr(checkpoint, "code_version", lambda: "1111111-new")
    with caplog.at_level(logging.WARNING, logger="presyn"):
        resumed = checkpoint.load(tmp_path, SPEC, "cpu")
    assert resumed is not None and resumed["code_version"] == "0000000-old"
    assert "0000000-old" in caplog.text and "1111111-new" in caplog.text and (tmp_path / "checkpoint.pt").exists()


def test_checkpoint_provenance():
    assert checkpoint.provenance(None) == {} and checkpoint.provenance({}) == {}
    payload = {"position": {"task": 2, "epoch": 5, "acc": [0.5]}, "code_version": "abc"}
    assert checkpoint.provenance(payload) == {
        "resumed_from_checkpoint": {"task": 2, "epoch": 5, "checkpoint_code_version": "abc"}
    }


def test_checkpoint_save_logs_position(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    with caplog.at_level(logging.INFO, logger="presyn"):
        _save(tmp_path)
    assert "task=2, epoch=5" in caplog.text and "acc=" not in caplog.text


# =============================================================================================== fused
def test_random_u16_draws_exactly_ceil_n_over_4_words():
    """n a multiple of 4: n / 4 words, no spare word (a spare draw would shift every later mask)."""
    from presyn import fused

    gen, ref = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    bits = fused.random_u16(8, gen, torch.device("cpu"))
    words = torch.empty(2, dtype=torch.int64).random_(-(2**63), 2**63 - 1, generator=ref)
    assert torch.equal(bits, words.view(torch.int16)[:8])
    assert torch.equal(gen.get_state(), ref.get_state())  # the same number of draws
    out = torch.empty(2, dtype=torch.int64)
    assert fused.random_u16(8, gen, torch.device("cpu"), out=out).data_ptr() == out.data_ptr()  # 2 words fit


# =============================================================================================== learners
def _autograd_reference(net, x, y, w_flat):
    """Loss, logits, dL/dw (flat) and dL/db of the MLP with weights ``w_flat``, by autograd."""
    import torch.nn.functional as F

    w = w_flat.clone().requires_grad_(True)
    biases = [b.clone().requires_grad_(True) for b in net.biases]
    h, start = x, 0
    for i, ((n_out, n_in), b) in enumerate(zip(net.shapes, biases)):
        W = w[start : start + n_out * n_in].view(n_out, n_in)
        start += n_out * n_in
        h = h @ W.t() + b
        if i < len(net.shapes) - 1:
            h = torch.relu(h)
    loss = F.cross_entropy(h, y)
    gw, *gb = torch.autograd.grad(loss, [w, *biases])
    return loss.detach(), h.detach(), gw, gb


def _batch(seed=0, n=16, d=5, c=3):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=gen), torch.randint(0, c, (n,), generator=gen)


@pytest.mark.parametrize("loops", [True, False])
def test_presynaptic_step_with_p_one_is_plain_sgd_by_autograd(loops):
    """p = 1: every synapse transmits, scale 1, so one step is SGD on w (modulation (1 - p) = 0 is off here)."""
    gens = Generators.from_seed(0, torch.device("cpu"))
    learner = build_learner({"kind": "presyn", "lr": 0.5}, [5, 4, 3], gens, torch.device("cpu"))
    learner._cpu_loops = loops
    learner.net.p.fill_(1.0)
    x, y = _batch()
    w0 = learner.net.w.clone()
    loss_ref, logits, gw, _ = _autograd_reference(learner.net, x, y, w0)
    loss, correct = learner.step(x, y)
    assert float(loss) == pytest.approx(float(loss_ref), rel=1e-6)
    assert int(correct) == int((logits.argmax(1) == y).sum())
    assert torch.allclose(learner.net.w, w0 - 0.5 * gw, atol=1e-6)
    assert torch.equal(learner.net.p, torch.ones_like(learner.net.p))  # |g| >= g_lim raises p: clamped at 1


def test_presynaptic_predict_proba_with_p_one_is_the_deterministic_softmax():
    gens = Generators.from_seed(1, torch.device("cpu"))
    learner = build_learner({"kind": "presyn", "lr": 0.5}, [5, 4, 3], gens, torch.device("cpu"))
    learner.net.p.fill_(1.0)
    x, y = _batch(1)
    _, logits, _, _ = _autograd_reference(learner.net, x, y, learner.net.w)
    probs, activity = learner.predict_proba(x, 3)
    assert torch.allclose(probs, torch.softmax(logits, 1), atol=1e-6)
    hidden = torch.relu(x @ learner.net.weights[0].t() + learner.net.biases[0])
    assert torch.allclose(activity, hidden.sum(1), atol=1e-5)


def test_presynaptic_predict_proba_averages_sampled_networks():
    """p = 1/2: the average of n sampled softmaxes (drawn here with the same generator state) and of activity."""
    gens = Generators.from_seed(2, torch.device("cpu"))
    learner = build_learner({"kind": "presyn", "lr": 0.5}, [5, 4, 3], gens, torch.device("cpu"))
    learner.net.p.fill_(0.5)
    x, _ = _batch(2)
    state = learner.gen.get_state()
    probs, activity = learner.predict_proba(x, 4)
    learner.gen.set_state(state)
    runs = [learner.net.hidden_activity(x, learner.sample_weights()[1]) for _ in range(4)]
    assert torch.allclose(probs, sum(torch.softmax(lg, 1) for lg, _ in runs) / 4, atol=1e-6)
    assert torch.allclose(activity, sum(a for _, a in runs) / 4, atol=1e-5)
    assert torch.allclose(probs.sum(1), torch.ones(len(x)))


def test_cpu_loops_only_on_the_cpu_without_compile(monkeypatch):
    from presyn import fused

    monkeypatch.setattr(fused, "_COMPILED", {})
    monkeypatch.setattr(torch, "compile", lambda fn, dynamic=None: fn)
    gens = Generators.from_seed(0, torch.device("cpu"))
    assert build_learner({"kind": "presyn", "lr": 0.1}, [3, 2], gens, torch.device("cpu"))._cpu_loops
    assert not build_learner(
        {"kind": "presyn", "lr": 0.1, "compile": True}, [3, 2], gens, torch.device("cpu")
    )._cpu_loops


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_deterministic_step_by_autograd(optimizer):
    gens = Generators.from_seed(3, torch.device("cpu"))
    learner = build_learner(
        {"kind": "deterministic", "lr": 0.1, "optimizer": optimizer, "weight_decay": 0.01},
        [5, 4, 3],
        gens,
        torch.device("cpu"),
    )
    assert torch.equal(learner.net.p, torch.ones_like(learner.net.p))
    x, y = _batch(3)
    w0, b0 = learner.net.w.clone(), [b.clone() for b in learner.net.biases]
    loss_ref, logits, gw, gb = _autograd_reference(learner.net, x, y, w0)
    loss, correct = learner.step(x, y)
    assert float(loss) == pytest.approx(float(loss_ref), rel=1e-6)
    assert int(correct) == int((logits.argmax(1) == y).sum())
    if optimizer == "sgd":  # w - lr (g + wd w)
        assert torch.allclose(learner.net.w, w0 - 0.1 * (gw + 0.01 * w0), atol=1e-6)
        for b, b_0, g in zip(learner.net.biases, b0, gb):
            assert torch.allclose(b, b_0 - 0.1 * (g + 0.01 * b_0), atol=1e-6)
    else:  # Adam's first step moves every parameter with a non-zero gradient by lr (sign of the gradient)
        g = gw + 0.01 * w0
        moved = g.abs() > 1e-6
        assert torch.allclose((w0 - learner.net.w)[moved], 0.1 * torch.sign(g[moved]), atol=1e-4)
    probs, activity = learner.predict_proba(x)
    _, logits_new, _, _ = _autograd_reference(learner.net, x, y, learner.net.w)
    assert torch.allclose(probs, torch.softmax(logits_new, 1), atol=1e-6)
    hidden = torch.relu(x @ learner.net.weights[0].t() + learner.net.biases[0])
    assert torch.allclose(activity, hidden.sum(1), atol=1e-5)


def test_deterministic_optimizer_settings_and_unknown_optimizer():
    gens = Generators.from_seed(0, torch.device("cpu"))
    learner = build_learner(
        {"kind": "deterministic", "lr": 0.2, "optimizer": "adam", "weight_decay": 0.03},
        [3, 2],
        gens,
        torch.device("cpu"),
    )
    opt = learner.make_optimizer()
    assert isinstance(opt, torch.optim.Adam) and opt is not learner.optimizer
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["weight_decay"] == 0.03
    assert len(opt.param_groups[0]["params"]) == 1 + len(learner.net.biases)
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        build_learner({"kind": "deterministic", "lr": 0.2, "optimizer": "rmsprop"}, [3, 2], gens, torch.device("cpu"))


# =============================================================================================== checkpoint (survivors)
def test_learner_state_of_another_kind_or_size_is_refused():
    """A state of the right sizes but another learner class, or the right class but other sizes, never loads."""
    gens = Generators.from_seed(0, torch.device("cpu"))
    presyn = build_learner({"kind": "presyn", "lr": 0.1}, [4, 3, 2], gens, torch.device("cpu"))
    sgd = build_learner({"kind": "deterministic", "lr": 0.1}, [4, 3, 2], gens, torch.device("cpu"))
    bigger = build_learner({"kind": "presyn", "lr": 0.1}, [4, 5, 2], gens, torch.device("cpu"))
    w0 = presyn.net.w.clone()
    with pytest.raises(ValueError, match="checkpoint holds a DeterministicLearner"):
        checkpoint.load_learner_state(presyn, checkpoint.learner_state(sgd))
    with pytest.raises(ValueError, match=r"checkpoint holds a PresynapticLearner \[4, 5, 2\]"):
        checkpoint.load_learner_state(presyn, checkpoint.learner_state(bigger))
    assert torch.equal(presyn.net.w, w0)  # nothing copied


def test_checkpoint_resume_logs_the_position_without_lists(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv(checkpoint.ENV, raising=False)
    _save(tmp_path)
    with caplog.at_level(logging.INFO, logger="presyn"):
        assert checkpoint.load(tmp_path, SPEC, "cpu") is not None
    [line] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("resuming from checkpoint")]
    assert line.endswith("(task=2, epoch=5)")


# =============================================================================================== learners (survivors)
def test_rule_defaults_are_the_papers():
    """docs/protocol.md#fig-1-energy-efficiency: p_up = p_down = 0.07, g_lim = 1e-3, no freezing, p_min = 0.25,
    no modulation; a model block that
    omits a key (the ablation's shared block gives only g_lim and p_init) gets these."""
    from presyn.learners import PresynapticRule

    r = PresynapticRule(lr=0.1)
    assert (r.p_up, r.p_down, r.g_lim, r.p_freeze, r.p_min) == (0.07, 0.07, 1e-3, 1.0, 0.25)
    assert (r.modulation, r.learn_p, r.sample_p, r.normalise, r.weight_decay) == (False, True, None, True, 0.0)


# =============================================================================================== data verification (survivors)
def test_raw_size_cap_is_inclusive(tmp_path, monkeypatch):
    from presyn import data

    monkeypatch.setattr(data, "MAX_RAW_BYTES", 8)
    (tmp_path / "eight").write_bytes(b"12345678")
    (tmp_path / "nine").write_bytes(b"123456789")
    assert data._read_capped(tmp_path / "eight") == b"12345678"  # exactly the cap: accepted
    with pytest.raises(data.SourceError, match="9 bytes, more than any file"):
        data._read_capped(tmp_path / "nine")


def test_gunzip_cap_is_inclusive_and_messages(monkeypatch):
    import gzip as gz

    from presyn import data

    monkeypatch.setattr(data, "MAX_RAW_BYTES", 8)
    assert data.gunzip(gz.compress(b"12345678")) == b"12345678"  # exactly the cap
    with pytest.raises(data.SourceError, match=r"^x\.gz: gzip stream inflates to more than 8 bytes: refused$"):
        data.gunzip(gz.compress(b"123456789"), "x.gz")
    with pytest.raises(data.SourceError, match=r"^gzip stream inflates"):  # no location given: no prefix
        data.gunzip(gz.compress(b"123456789"))
    with pytest.raises(data.SourceError, match=r"^corrupt gzip stream"):
        data.gunzip(b"\x1f\x8b not gzip")
    with pytest.raises(data.SourceError, match=r"^y\.gz: corrupt gzip stream"):
        data.gunzip(gz.compress(b"abc")[:-3], "y.gz")


def test_raw_pin_mismatch_message_names_both_digests():
    import hashlib

    from presyn import data

    pin = hashlib.sha256(b"good").hexdigest()
    got = hashlib.sha256(b"bad").hexdigest()
    data.check_raw(b"good", {"f": pin}, "f", "src")
    data.check_raw(b"anything", {"other": pin}, "f", "src")  # no pin for this name: passes
    with pytest.raises(data.SourceError) as exc:
        data.check_raw(b"bad", {"f": pin}, "f", "src")
    assert str(exc.value) == (
        f"src: raw sha256 mismatch for f (expected {pin[:12]}, got {got[:12]}); refused before it "
        "was parsed: the file was changed, is corrupt or is not the pinned file"
    )


def test_idx_header_checks_each_magic_byte_and_the_length():
    from presyn import data

    good = data.encode_idx(np.arange(6, dtype=np.uint8).reshape(2, 3))
    assert data.parse_idx(good).tolist() == [[0, 1, 2], [3, 4, 5]]
    for i, value in ((0, 1), (1, 1), (2, 0x09)):  # each magic byte on its own
        bad = bytearray(good)
        bad[i] = value
        with pytest.raises(data.SourceError, match="bad magic number"):
            data.parse_idx(bytes(bad))
    with pytest.raises(data.SourceError, match="bad magic number"):
        data.parse_idx(b"\x00\x00\x08")  # shorter than the magic
    with pytest.raises(data.SourceError, match="IDX payload has 0 bytes, header says 1"):
        data.parse_idx(b"\x00\x00\x08\x00")  # a complete magic, 0 dimensions, no payload
    assert data.parse_idx(b"\x00\x00\x08\x00\x07").tolist() == 7  # 0-d: one byte
    with pytest.raises(data.SourceError, match="IDX payload has 5 bytes, header says 6"):
        data.parse_idx(good[:-1])


def test_presynaptic_learner_does_not_compile_by_default():
    from presyn.learners import PresynapticLearner, PresynapticRule
    from presyn.models import SynapticMLP

    gen = torch.Generator().manual_seed(0)
    learner = PresynapticLearner(SynapticMLP([3, 2], gen), PresynapticRule(lr=0.1), gen)
    assert learner._cpu_loops and learner._update is torch_rule()


def torch_rule():
    from presyn import presyn_rule

    return presyn_rule.update


@pytest.mark.parametrize("loops", [True, False])
def test_sample_weights_is_strength_times_mask_over_p(loops):
    """Both CPU paths: effective weight = w_bar * mask / p, with the mask from the learner's own generator."""
    gens = Generators.from_seed(4, torch.device("cpu"))
    learner = build_learner({"kind": "presyn", "lr": 0.1}, [6, 5, 3], gens, torch.device("cpu"))
    learner._cpu_loops = loops
    learner.net.p.copy_(torch.linspace(0.25, 1.0, learner.net.p.numel()))
    state = learner.gen.get_state()
    scale, w_eff = learner.sample_weights()
    learner.gen.set_state(state)
    from presyn import fused

    bits = fused.random_u16(learner.net.w.numel(), learner.gen, torch.device("cpu"))
    u = (bits.float() + 32768.0) / 65536.0
    mask = (u < learner.net.p).float()
    assert torch.equal(scale, mask / learner.net.p)
    assert torch.equal(w_eff, learner.net.w * (mask / learner.net.p))
    assert 0 < int(mask.sum()) < mask.numel()


def test_safe_unpickler_dtype_admits_plain_numbers_only():
    from presyn import data

    for ok in ("u1", "i8", "f4", "b1"):
        data._dtype(ok)
    for bad in ("U5", "S3", "O", [("a", "u1"), ("b", "f4")], "M8[s]"):  # text, bytes, objects, records, dates
        with pytest.raises(data.UnsafePickleError):
            data._dtype(bad)
