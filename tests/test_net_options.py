"""Where spectral bias can break, as config keys of every trained net: Fourier-feature inputs, tanh
and sine activations, SGD; the defaults are the paper's ReLU net and Adam, number for number."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest
import torch

from workloads.config import training_schedule
from workloads.learning_order.config import LearningOrderConfig
from workloads.nets import FourierFeatures, Sine, build_mlp, build_net, count_parameters
from workloads.perturbation.trial import perturbed_outputs
from workloads.training import Problem, solve, train

CONFIG = LearningOrderConfig(width=16, depth=3, n_points=32, steps=20, eval_every_steps=10, frequencies=(1, 3), function_steps=())


def test_the_defaults_build_the_papers_relu_net_and_train_it_with_adam():
    default = build_net(1, CONFIG)
    plain = build_mlp(1, 16, 3, CONFIG.seed)
    assert [type(m).__name__ for m in default] == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert all(torch.equal(a, b) for a, b in zip(default.parameters(), plain.parameters()))
    assert training_schedule(CONFIG)["optimizer"] == "adam"


def test_a_fourier_encoded_nets_first_layer_sees_twice_the_features_and_b_has_the_scale_asked_for():
    config = dataclasses.replace(CONFIG, encoding="fourier", fourier_features=500, fourier_scale=3.0)
    net = build_net(2, config)
    encoding, first = net[0], net[1]
    assert isinstance(encoding, FourierFeatures) and first.in_features == 2 * 500
    projection = encoding.projection
    assert projection.shape == (500, 2) and not projection.requires_grad
    assert float(projection.std()) == pytest.approx(3.0, rel=0.06) and abs(float(projection.mean())) < 0.3
    v = torch.tensor([[0.25, -0.5]])
    angles = 2 * math.pi * v @ projection.T
    assert torch.allclose(encoding(v), torch.cat((angles.cos(), angles.sin()), dim=-1))
    assert count_parameters(net) == count_parameters(build_mlp(1000, 16, 3, 0)) - 0  # B does not train: the MLP on 1000 inputs
    assert torch.equal(build_net(2, config)[0].projection, projection)  # from the seed alone
    assert not torch.equal(build_net(2, dataclasses.replace(config, seed=1))[0].projection, projection)


def test_the_sine_activation_uses_sirens_initial_bounds():
    config = dataclasses.replace(CONFIG, activation="sine", width=400, depth=3, sine_omega=30.0)
    net = build_net(2, config)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert all(isinstance(m, Sine) and m.omega == 30.0 for m in net[1::2])
    first_bound, hidden_bound = 1 / 2, math.sqrt(6 / 400) / 30
    assert float(linears[0].weight.abs().max()) <= first_bound and float(linears[0].weight.abs().max()) > 0.9 * first_bound
    for linear in linears[1:]:
        assert float(linear.weight.abs().max()) <= hidden_bound and float(linear.weight.abs().max()) > 0.9 * hidden_bound
    assert torch.allclose(net[1](torch.tensor([0.1])), torch.sin(torch.tensor([3.0])))
    assert [type(m).__name__ for m in build_net(2, dataclasses.replace(CONFIG, activation="tanh"))] == ["Linear", "Tanh", "Linear", "Tanh", "Linear"]


def test_sgd_steps_are_plain_sgd_steps_with_momentum():
    inputs, target = torch.linspace(0, 1, 8)[:, None], torch.linspace(-1, 1, 8)
    loss_of = lambda output: ((output - target) ** 2).mean()  # noqa: E731
    net = build_mlp(1, 4, 2, 0)
    start = [p.detach().clone() for p in net.parameters()]
    problem = Problem(net, inputs, target, steps=2, learning_rate=0.1, eval_every_steps=1, optimizer="sgd", momentum=0.9)
    solve(problem)
    # By hand: v1 = g(p0), p1 = p0 - 0.1 v1; v2 = 0.9 v1 + g(p1), p2 = p1 - 0.1 v2.
    replica = build_mlp(1, 4, 2, 0)

    def gradient() -> list[torch.Tensor]:
        replica.zero_grad()
        loss_of(replica(inputs).squeeze(-1)).backward()
        return [p.grad.clone() for p in replica.parameters()]

    first = gradient()
    with torch.no_grad():
        for p, g in zip(replica.parameters(), first):
            p -= 0.1 * g
    second = gradient()
    with torch.no_grad():
        for p, g1, g2 in zip(replica.parameters(), first, second):
            p -= 0.1 * (0.9 * g1 + g2)
    assert all(torch.allclose(a, b, atol=1e-7) for a, b in zip(net.parameters(), replica.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(net.parameters(), start))


def test_a_pack_of_fourier_sine_nets_trains_as_each_would_alone():
    # A stable rate: sine nets under SGD at 1e-2 are chaotic enough that rounding alone moves their loss.
    config = dataclasses.replace(CONFIG, encoding="fourier", fourier_features=8, activation="sine", optimizer="sgd", learning_rate=1e-3)
    from workloads.learning_order.trial import problem

    alone = [solve(problem(dataclasses.replace(config, seed=s), torch.device("cpu"))) for s in (0, 1)]
    packed = train([problem(dataclasses.replace(config, seed=s), torch.device("cpu")) for s in (0, 1)])
    for one, together in zip(alone, packed):
        assert one.tables["curves"][-1]["loss"] == pytest.approx(together.tables["curves"][-1]["loss"], rel=1e-4)


def test_a_perturbation_moves_the_trained_weights_and_leaves_the_fourier_projection_alone():
    net = build_net(1, dataclasses.replace(CONFIG, encoding="fourier", fourier_features=4))
    inputs = torch.linspace(0, 1, 16)[:, None]
    size = count_parameters(net)
    outputs = perturbed_outputs(net, inputs, torch.zeros(3, size))
    assert torch.allclose(outputs, net(inputs).squeeze(-1).detach().expand(3, -1), atol=1e-6)


AXES = """\
name: axes
experiment: learning_order
grid: {activation: [relu, tanh], encoding: [none, fourier], fourier_scale: [1.0, 2.0]}
seeds: [0, 1]
workload: {amplitudes: equal, frequencies: [1, 3, 6], n_points: 32, width: 16, depth: 2, steps: 60, learning_rate: 1.0e-2,
           eval_every_steps: 20, power_iterations: 2, function_steps: [20], fourier_features: 8}
"""


def test_a_sweep_over_activation_and_encoding_gets_a_verdict_per_net_named_by_the_axes_that_apply_to_it(tmp_path, write_sweep):
    from conftest import stored_sweep, verdicts_of

    from orchestrator.figures import draw_figures

    store, sweep = stored_sweep(tmp_path, AXES, write_sweep)
    assert len(pd.read_parquet(store / "trials")) == 12  # 16 points x seeds, but without a Fourier encoding the scale is one net
    verdicts = verdicts_of(store, "C1", "C1b")
    groups = {group for _, group in verdicts}
    assert groups == {f"encoding: none, activation: {a}; amplitudes: equal" for a in ("relu", "tanh")} | {
        f"encoding: fourier, fourier_scale: {s}, activation: {a}; amplitudes: equal" for a in ("relu", "tanh") for s in (1, 2)}  # config order
    assert all(v.seeds == 2 and v.trials == 2 for v in verdicts.values())
    assert {tuple(v.axes) for v in verdicts.values()} == {("encoding", "activation"), ("encoding", "fourier_scale", "activation")}
    names = {path.name for path in draw_figures(store, sweep)}
    assert {"figure1_axes.png", "figure1_axes_by_axis.png", "verdicts_axes.png"} <= names
    assert (store / "figures" / "verdicts_axes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
