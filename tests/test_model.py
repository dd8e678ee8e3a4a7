"""SynapticMLP and learners: masks, hand-written gradients against autograd, fixed biases."""

import pytest
import torch

from presyn.factory import build_learner
from presyn.learners import DeterministicLearner, PresynapticLearner, PresynapticRule
from presyn.models import SynapticMLP, bernoulli_mask
from presyn.training import Generators


def autograd_reference(net, x, y, w_eff):
    Ws = [W.clone().requires_grad_(True) for W in net.views(w_eff)]
    bs = [b.clone().requires_grad_(True) for b in net.biases]
    h = x
    for i, (W, b) in enumerate(zip(Ws, bs)):
        h = h @ W.t() + b
        if i < len(Ws) - 1:
            h = torch.relu(h)
    loss = torch.nn.functional.cross_entropy(h, y)
    loss.backward()
    return loss, [W.grad for W in Ws], [b.grad for b in bs]


def small_net(seed=0, p_init="min"):
    torch.manual_seed(seed)
    return SynapticMLP([6, 5, 4, 3], torch.Generator().manual_seed(seed), p_init=p_init)


def test_bernoulli_mask_frequency_and_values():
    gen = torch.Generator().manual_seed(1)
    p = torch.tensor([0.0001, 0.25, 0.5, 1.0]).repeat_interleave(20000)
    m = bernoulli_mask(p, gen)
    assert set(m.unique().tolist()) <= {0.0, 1.0}
    freq = m.view(4, -1).mean(1)
    assert freq[3] == 1.0 and freq[0] < 0.002
    assert freq[1] == pytest.approx(0.25, abs=0.01) and freq[2] == pytest.approx(0.5, abs=0.01)


def test_default_init_bounds_and_initial_p():
    net = SynapticMLP([784, 200, 10], torch.Generator().manual_seed(0))
    W1, W2 = net.weights
    assert W1.abs().max() <= 1 / 784**0.5 and W2.abs().max() <= 1 / 200**0.5
    assert W1.abs().max() > 0.9 / 784**0.5
    assert torch.all(net.p == 0.25)
    uni = SynapticMLP([784, 200, 10], torch.Generator().manual_seed(0), p_init="uniform")
    assert 0.25 <= float(uni.p.min()) and float(uni.p.max()) <= 1.0 and float(uni.p.std()) > 0.1


def test_hand_written_backward_matches_autograd():
    net = small_net()
    x, y = torch.randn(7, 6), torch.tensor([0, 1, 2, 0, 1, 2, 1])
    w_eff = net.w * 1.7
    grad = torch.empty_like(net.w)
    loss, grad_b = net.backward(net.forward(x, w_eff), y, w_eff, grad)
    ref_loss, ref_W, ref_b = autograd_reference(net, x, y, w_eff)
    assert float(loss) == pytest.approx(float(ref_loss.detach()), rel=1e-6)
    for g, r in zip(net.views(grad), ref_W):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)
    for g, r in zip(grad_b, ref_b):
        torch.testing.assert_close(g, r, rtol=1e-5, atol=1e-6)


def test_presynaptic_step_uses_mask_over_p_and_keeps_biases():
    net = small_net(p_init=0.5)
    rule = PresynapticRule(lr=0.1, p_up=0.0, p_down=0.0)
    learner = PresynapticLearner(net, rule, torch.Generator().manual_seed(3))
    x, y = torch.randn(8, 6), torch.randint(0, 3, (8,))
    w0, b0 = net.w.clone(), [b.clone() for b in net.biases]
    mask = bernoulli_mask(net.p.clone(), torch.Generator().manual_seed(3))  # the mask the step will draw (same stream)
    w_eff = w0 * mask / 0.5
    _, ref_W, _ = autograd_reference(net, x, y, w_eff)
    grad_wbar = torch.cat([g.reshape(-1) for g in ref_W]) * mask / 0.5
    learner.step(x, y)
    torch.testing.assert_close(net.w, w0 - 0.1 * grad_wbar, rtol=1e-5, atol=1e-7)
    for b, ref in zip(net.biases, b0):
        assert torch.equal(b, ref)
    # masked-out synapses got no update
    assert torch.equal(net.w[mask == 0], w0[mask == 0])


def test_deterministic_learner_trains_biases_and_weights():
    net = small_net()
    learner = DeterministicLearner(net, "sgd", lr=0.5)
    b0 = [b.clone() for b in net.biases]
    learner.step(torch.randn(8, 6), torch.randint(0, 3, (8,)))
    assert not torch.equal(net.biases[0], b0[0])
    assert torch.all(net.p == 1.0)


def test_presynaptic_model_learns_a_separable_task():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(400, 6, generator=gen)
    y = (x[:, 0] > 0).long()
    gens = Generators.from_seed(0, torch.device("cpu"))
    model = {"kind": "presyn", "lr": 0.05, "p_up": 0.07, "p_down": 0.07, "g_lim": 1e-3}
    learner = build_learner(model, [6, 16, 2], gens, torch.device("cpu"))
    for _ in range(30):
        for i in range(0, 400, 20):
            learner.step(x[i : i + 20], y[i : i + 20])
    probs, _ = learner.predict_proba(x, 10)
    assert float((probs.argmax(1) == y).float().mean()) > 0.9
    assert float(learner.net.p.max()) > 0.25  # some release probabilities grew


def test_factory_rejects_unknown_kind():
    with pytest.raises(ValueError, match="unknown model kind 'nope'"):
        build_learner(
            {"kind": "nope", "lr": 1.0}, [2, 2], Generators.from_seed(0, torch.device("cpu")), torch.device("cpu")
        )
