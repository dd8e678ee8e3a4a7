"""BGD against the authors' fork (smonsays/bgd at 61cd41a), line by line (issue 18; config/README.md
"BGD against the authors' fork, line by line").

The fork's code is ported here literally where it does arithmetic (optimizers_lib/bgd_optimizer.py,
nn_utils/NNTrainer.py's training loop, nn_utils/init_utils.py, utils/utils.py AverageTracker) and run on the same
numbers as ours. Only the random draws are handed over (the fork draws eps per parameter tensor from torch's
global generator; we draw one (K, P) block from the run's generator), so each test compares arithmetic, not
random streams. Each test takes a second or two at most.
"""

from __future__ import annotations

import math

import pytest
import torch
import yaml

from conftest import ROOT
from presyn.baselines import BGDLearner, bgd_update, flat_params, fork_init_, unflatten
from presyn.data import Dataset
from presyn.models import SynapticMLP
from presyn.tasks import make_stream

SIZES = [16, 12, 10, 10]


def tiny_data(n_train=300, n_test=100, d=16, seed=0) -> Dataset:
    g = torch.Generator().manual_seed(seed)
    return Dataset(
        torch.randn(n_train, d, generator=g),
        torch.randint(0, 10, (n_train,), generator=g),
        torch.randn(n_test, d, generator=g),
        torch.randint(0, 10, (n_test,), generator=g),
    )


# ------------------------------------------------------------------ the fork's code, ported
class ForkBGD(torch.optim.Optimizer):
    """optimizers_lib/bgd_optimizer.py (fork 61cd41a), verbatim but for one change: randomize_weights takes
    the eps of each group instead of drawing torch.normal(zeros_like(mean), 1) (line 65)."""

    def __init__(self, params, std_init, mean_eta=1, mc_iters=10):
        super().__init__(params, defaults={})
        self.std_init, self.mean_eta, self.mc_iters = std_init, mean_eta, mc_iters
        for group in self.param_groups:
            group["mean_param"] = group["params"][0].data.clone()  # line 40
            group["std_param"] = torch.zeros_like(group["params"][0].data).add_(self.std_init)  # line 41
        self._init_accumulators()

    def _init_accumulators(self):
        self.mc_iters_taken = 0
        for group in self.param_groups:
            group["eps"] = None
            group["grad_mul_eps_sum"] = torch.zeros_like(group["params"][0].data)
            group["grad_sum"] = torch.zeros_like(group["params"][0].data)

    def randomize_weights(self, eps=None, force_std=-1):
        for i, group in enumerate(self.param_groups):
            mean, std = group["mean_param"], group["std_param"]
            if force_std >= 0:
                std = std.mul(0).add(force_std)
            group["eps"] = eps[i] if eps is not None else torch.zeros_like(mean)
            group["params"][0].data.copy_(mean.add(std.mul(group["eps"])))  # line 67

    def aggregate_grads(self, batch_size):
        self.mc_iters_taken += 1
        for group in self.param_groups:
            grad = group["params"][0].grad.data.mul(batch_size)  # line 84
            group["grad_sum"].add_(grad)
            group["grad_mul_eps_sum"].add_(grad.mul(group["eps"]))
            group["eps"] = None

    def step(self, closure=None):
        assert self.mc_iters == self.mc_iters_taken
        for group in self.param_groups:
            mean, std = group["mean_param"], group["std_param"]
            e_grad = group["grad_sum"].div(self.mc_iters_taken)  # line 105
            e_grad_eps = group["grad_mul_eps_sum"].div(self.mc_iters_taken)
            mean.add_(-std.pow(2).mul(e_grad).mul(self.mean_eta))  # line 108
            sqrt_term = torch.sqrt(e_grad_eps.mul(std).div(2).pow(2).add(1)).mul(std)  # line 109
            std.copy_(sqrt_term.add(-e_grad_eps.mul(std.pow(2)).div(2)))  # line 110
        self.randomize_weights(force_std=0)  # line 111
        self._init_accumulators()


def fork_net(sizes: list[int]) -> torch.nn.Sequential:
    """models/mnist_simple.py FC2Layers: Linear -> ReLU -> Linear -> ReLU -> Linear, biases everywhere."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def fork_groups(flat: torch.Tensor, net: SynapticMLP) -> list[torch.Tensor]:
    """Our flat order (all weights, then all biases) -> the fork's parameter groups (optimizers_lib.py:14,
    model.named_parameters(): layer1.weight, layer1.bias, layer2.weight, ...)."""
    weights, biases = unflatten(net, flat)
    return [t.clone() for pair in zip(weights, biases) for t in pair]


def fork_flat(tensors: list[torch.Tensor]) -> torch.Tensor:
    """The fork's groups -> our flat order."""
    return torch.cat([t.reshape(-1) for t in tensors[0::2]] + [t.reshape(-1) for t in tensors[1::2]])


def load_mu(model: torch.nn.Sequential, net: SynapticMLP, mu: torch.Tensor) -> None:
    for p, v in zip(model.parameters(), fork_groups(mu, net)):
        p.data.copy_(v)


# ------------------------------------------------------------------ tests
def test_fork_init_is_init_utils_on_the_same_draws():
    """nn_utils/init_utils.py:77-96 with main.py's default --init_params (bias_type xavier, conv_type xavier):
    every Linear weight xavier_normal_, then every Linear bias normal_(0, sqrt(2)/sqrt(1 + fan_out)), one
    generator, modules in order. Run literally on the same seed, our fork_init_ gives the same means."""
    sizes = [784, 200, 200, 10]
    net = SynapticMLP(sizes, torch.Generator().manual_seed(0), p_init=1.0)
    fork_init_(net, torch.Generator().manual_seed(2019))
    model = fork_net(sizes)
    g = torch.Generator().manual_seed(2019)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    for m in linears:  # init_lin_xavier (weights first)
        torch.nn.init.xavier_normal_(m.weight.data, generator=g)
    for m in linears:  # init_bias_lin_xavier
        m.bias.data.normal_(0, math.sqrt(2) / math.sqrt(1 + m.bias.data.shape[0]), generator=g)
    for W, m in zip(net.weights, linears):
        assert torch.allclose(W, m.weight.data, rtol=1e-6, atol=1e-7)
    for b, m in zip(net.biases, linears):
        assert torch.allclose(b, m.bias.data, rtol=1e-6, atol=1e-7)


def test_bgd_training_matches_the_forks_loop_with_a_partial_last_batch():
    """NNTrainer.forward (training, lines 256-398) + the fork's BGD on the same eps, batches and initial means,
    one epoch of 300 items in batches of 128 (128, 128, 44: the last partial batch is kept and its gradient is
    the mean loss x 44, the summed loss), K = 10, std_init 0.05, eta 1 (perm MNIST). Ours: BGDLearner.step on
    the CPU kernel path. mu and sigma agree after every batch."""
    torch.manual_seed(0)
    net = SynapticMLP(SIZES, torch.Generator().manual_seed(1), p_init=1.0)
    fork_init_(net, torch.Generator().manual_seed(1))
    learner = BGDLearner(net, std_init=0.05, eta=1.0, mc_samples=10, generator=torch.Generator().manual_seed(7))
    eps_gen = torch.Generator().manual_seed(7)  # the draws learner.step will make, in the same order
    model = fork_net(SIZES)
    load_mu(model, net, learner.mu)
    opt = ForkBGD([{"params": p} for p in model.parameters()], std_init=0.05, mean_eta=1.0, mc_iters=10)
    criterion = torch.nn.CrossEntropyLoss()
    stream = make_stream("perm_mnist", tiny_data(), seed=3, n_tasks=1)
    batches = list(stream.task_batches(0, 128, torch.Generator().manual_seed(0)))
    assert [len(y) for _, y in batches] == [128, 128, 44]
    for x, y in batches:
        eps = torch.randn((10, learner.mu.numel()), generator=eps_gen)
        for k in range(10):  # NNTrainer.py:293-348
            opt.randomize_weights(fork_groups(eps[k], net))
            loss = criterion(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.aggregate_grads(batch_size=x.size(0))
        opt.step()  # NNTrainer.py:398
        learner.step(x, y)
        mean = fork_flat([g["mean_param"] for g in opt.param_groups])
        std = fork_flat([g["std_param"] for g in opt.param_groups])
        assert torch.allclose(learner.mu, mean, rtol=1e-5, atol=1e-6)
        assert torch.allclose(learner.sigma, std, rtol=1e-5, atol=1e-7)
        # bgd_optimizer.py:111: weights reset to mu after the step; ours: the net's weights are mu
        assert torch.equal(fork_flat(list(model.parameters())).detach(), mean)
        assert torch.equal(flat_params(net), learner.mu)
    assert not torch.allclose(learner.sigma, torch.full_like(learner.sigma, 0.05))  # sigma did move


def test_bgd_update_torch_path_is_the_forks_step():
    """The GPU / stacked path (baselines.bgd_update) against bgd_optimizer.py:101-110 on random numbers,
    including gradients large enough that the update order would matter."""
    g0 = torch.Generator().manual_seed(4)
    mu, sigma = torch.randn(50, generator=g0), torch.rand(50, generator=g0) * 0.1 + 0.01
    g, eps = torch.randn(10, 50, generator=g0) * 30, torch.randn(10, 50, generator=g0)
    mean, std = mu.clone(), sigma.clone()
    e_grad, e_grad_eps = g.sum(0).div(10), (g * eps).sum(0).div(10)
    mean.add_(-std.pow(2).mul(e_grad).mul(0.1))
    std.copy_(torch.sqrt(e_grad_eps.mul(std).div(2).pow(2).add(1)).mul(std).add(-e_grad_eps.mul(std.pow(2)).div(2)))
    bgd_update(mu, sigma, g, eps, eta=0.1)
    assert torch.allclose(mu, mean, rtol=1e-6, atol=1e-7) and torch.allclose(sigma, std, rtol=1e-6, atol=1e-7)


def test_epoch_batches_are_the_forks_dataloader_batches():
    """utils/datasets.py: DataLoader(batch_size=128, shuffle=True) (drop_last False): a fresh shuffle every
    epoch, every item once, ceil(n / 128) batches, the last one partial. Ours (tasks.TaskStream.task_batches)
    gives the same batch sizes, on split tasks too (a digit pair has ~12 000 items, not a multiple of 128)."""
    data = tiny_data(n_train=1000)
    for benchmark in ("perm_mnist", "split_mnist"):
        stream = make_stream(benchmark, data, seed=0)
        gen = torch.Generator().manual_seed(0)
        rows = stream.train_rows[0]
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(rows), batch_size=128, shuffle=True)
        epochs = [list(stream.task_batches(0, 128, gen)) for _ in range(2)]
        for batches in epochs:
            assert [len(y) for _, y in batches] == [len(b[0]) for b in loader]
        assert not torch.equal(epochs[0][0][1], epochs[1][0][1])  # reshuffled each epoch
    # every item of the task exactly once per epoch (split: the images are not permuted, so rows can be compared)
    stream = make_stream("split_mnist", data, seed=0)
    seen = torch.cat([x for x, _ in stream.task_batches(2, 128, torch.Generator().manual_seed(1))])
    expected = data.x_train[stream.train_rows[2]]
    assert seen.shape == expected.shape
    assert torch.equal(torch.sort(seen.sum(1)).values, torch.sort(expected.sum(1)).values)


def test_permuting_task_one_is_immaterial_for_bgd():
    """The fork trains task 1 on unpermuted images (datasets.py:784-785, ds_permuted_mnist: 'First task is the
    MNIST dataset'); our protocol permutes all 10 tasks (docs/protocol.md#task-streams). BGD is equivariant
    under a permutation of the input pixels:
    training on x[:, perm] from (mu, sigma, eps) gives, column for column, what training on x gives from the
    first layer's columns of mu, sigma and eps moved by perm. The fork's initial means and sigmas are i.i.d. per
    weight (and eps always is), so the two start distributions are the same and so are the results'."""
    torch.manual_seed(0)
    net = SynapticMLP(SIZES, torch.Generator().manual_seed(2), p_init=1.0)
    fork_init_(net, torch.Generator().manual_seed(2))
    a = BGDLearner(net, std_init=0.05, eta=1.0, mc_samples=4, generator=torch.Generator().manual_seed(0))
    net_b = SynapticMLP(SIZES, torch.Generator().manual_seed(2), p_init=1.0)
    b = BGDLearner(net_b, std_init=0.05, eta=1.0, mc_samples=4, generator=torch.Generator().manual_seed(0))
    perm = torch.randperm(SIZES[0], generator=torch.Generator().manual_seed(9))
    n0 = SIZES[0] * SIZES[1]

    def move(flat: torch.Tensor) -> torch.Tensor:  # first-layer columns: B[:, perm] = A
        out = flat.clone()
        w1 = flat[..., :n0].reshape(*flat.shape[:-1], SIZES[1], SIZES[0])
        moved = torch.empty_like(w1)
        moved[..., perm] = w1
        out[..., :n0] = moved.reshape(*flat.shape[:-1], n0)
        return out

    b.mu.copy_(move(a.mu))
    b.sigma.copy_(move(a.sigma))
    data = tiny_data()
    gen = torch.Generator().manual_seed(5)
    for _ in range(5):
        idx = torch.randperm(300, generator=gen)[:64]
        x, y = data.x_train[idx], data.y_train[idx]
        eps = torch.randn(4, a.mu.numel(), generator=gen)
        for learner, xi, e in ((a, x[:, perm], eps), (b, x, move(eps))):
            g, _, _ = learner.gradients(xi, y, learner.mu + learner.sigma * e)
            bgd_update(learner.mu, learner.sigma, g, e, learner.eta)
    assert torch.allclose(move(a.mu), b.mu, atol=1e-5) and torch.allclose(move(a.sigma), b.sigma, atol=1e-6)
    assert not torch.allclose(a.mu, b.mu, atol=1e-3)  # the permutation did act
    x, y = data.x_test, data.y_test
    eps = torch.randn(10, a.mu.numel(), generator=gen)
    la = a.forward(x[:, perm], a.mu + a.sigma * eps)[1]
    lb = b.forward(x, b.mu + b.sigma * move(eps))[1]
    assert torch.allclose(la, lb, atol=1e-4)  # the same sampled networks' test predictions


def test_forks_test_average_weights_batches_by_size():
    """NNTrainer.py:350-369 with utils/utils.py AverageTracker: the test accuracy is the batch-size weighted
    mean over (test batch of 128, MC network) of the batch accuracy; with the same networks on every batch this
    is exactly our mean of the networks' whole-test-set accuracies (sample_accuracy). The fork draws fresh
    networks for every test batch (10 x ceil(n / 128) networks), we draw 10 for the whole test set: same
    expectation, only the spread of the estimate differs."""
    net = SynapticMLP(SIZES, torch.Generator().manual_seed(1), p_init=1.0)
    learner = BGDLearner(net, std_init=0.5, eta=1.0, mc_samples=3, generator=torch.Generator().manual_seed(2))
    data = tiny_data(n_test=300)
    x, y = data.x_test, data.y_test
    state = learner.gen.get_state()
    ours = learner.sample_accuracy(x, y, 10)
    learner.gen.set_state(state)
    theta, _ = learner.sample(10)
    n, avg = 0, 0.0
    for start in range(0, len(y), 128):  # test loader: shuffle False
        xb, yb = x[start : start + 128], y[start : start + 128]
        _, logits = learner.forward(xb, theta)
        for k in range(10):
            acc = float((torch.softmax(logits[k], 1).argmax(1) == yb).sum()) / len(yb) * 100
            avg = (avg * n) / (n + len(yb)) + (acc * len(yb)) / (n + len(yb))  # AverageTracker.add
            n += len(yb)
    assert avg / 100 == pytest.approx(ours, abs=1e-6)


def test_bgd_protocol_constants_are_exp_comparison_sh():
    """exp_comparison.sh (fork bf81c09) and datasets.py (61cd41a) against the planned BGD runs: 784-200-200-10
    (2 outputs split), batch 128, K = 10 train and 10 test samples, 10 epochs per task, 10 / 5 tasks, std_init /
    eta per benchmark, the fork's init, unpadded inputs normalised with MNIST (0.1307, 0.3081) and Fashion
    (0.2861, 0.3530), the full training and test sets."""
    from presyn.planning.lifelong import lifelong_spec as _spec
    from presyn.planning.lifelong import model_block as _model_block

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    sec = config["lifelong"]
    fork = {
        "perm_mnist": (0.05, 1.0, 10, (0.1307, 0.3081)),
        "perm_fashion": (0.05, 0.1, 10, (0.2861, 0.3530)),
        "split_mnist": (0.001, 1.0, 5, (0.1307, 0.3081)),
        "split_fashion": (0.001, 1.0, 5, (0.2861, 0.3530)),
    }
    for benchmark, (std_init, eta, n_tasks, (mean, std)) in fork.items():
        mcfg = sec["methods"]["bgd"]
        spec = _spec(config, sec, "bgd", mcfg, benchmark, 2019, _model_block(mcfg, benchmark))
        m = spec["model"]
        assert (m["kind"], m["std_init"], m["eta"], m["mc_samples"], m["init"]) == ("bgd", std_init, eta, 10, "fork")
        assert spec["batch_size"] == 128 and spec["epochs_per_task"] == 10 and spec["n_tasks"] == n_tasks
        assert spec["hidden"] == [200, 200] and spec["eval_samples"] == 10 and not spec["joint"]
        ds = spec["dataset"]
        assert (ds["mean"], ds["std"]) == (mean, std) and not ds.get("pad") and not ds.get("subset")
        assert spec["holdout"] == 0
