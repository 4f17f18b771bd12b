"""The shared pieces of every experiment, checked against what the paper says they are, and the
registry that names the experiments."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest
import torch

from workloads import REGISTRY
from workloads.nets import build_mlp
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.spectrum import normalized_magnitude, single_sided_magnitude
from workloads.training import DivergedError, Problem, Reading, solve


@pytest.mark.parametrize(
    ("amplitude", "k", "phase", "n_points"),
    [(1.0, 5, 0.0, 200), (0.3, 17, 1.1, 200), (2.5, 199, 4.0, 1000), (0.1, 1, 6.0, 64)],
)
def test_a_pure_sinusoid_reads_its_amplitude_at_its_frequency_and_nothing_elsewhere(amplitude, k, phase, n_points):
    z = latent_grid(n_points)
    values = sinusoid_sum(z, torch.tensor([float(k)]), torch.tensor([amplitude]), torch.tensor([phase]))
    magnitude = single_sided_magnitude(values)
    assert magnitude.shape == (n_points // 2 + 1,)
    assert magnitude[k].item() == pytest.approx(amplitude, rel=1e-4)
    others = torch.cat([magnitude[:k], magnitude[k + 1 :]])
    assert others.abs().max().item() < 1e-4 * max(1.0, amplitude)


def test_a_sum_of_sinusoids_reads_each_amplitude_and_normalizes_to_one():
    z = latent_grid(200)
    frequencies = torch.arange(5, 55, 5).float()
    amplitudes = torch.linspace(0.1, 1.0, 10)
    values = sinusoid_sum(z, frequencies, amplitudes, draw_phases(3, 10))
    assert torch.allclose(normalized_magnitude(values, frequencies, amplitudes), torch.ones(10), atol=1e-4)


def test_the_spectrum_of_a_batch_is_the_batch_of_spectra():
    z = latent_grid(100)
    batch = torch.stack([torch.sin(2 * math.pi * 3 * z), 2 * torch.sin(2 * math.pi * 7 * z)])
    magnitude = single_sided_magnitude(batch)
    assert magnitude.shape == (2, 51)
    assert magnitude[0, 3].item() == pytest.approx(1.0, rel=1e-4)
    assert magnitude[1, 7].item() == pytest.approx(2.0, rel=1e-4)


def test_the_latent_grid_is_uniform_on_the_half_open_unit_interval():
    z = latent_grid(8)
    assert z.tolist() == [i / 8 for i in range(8)]


@pytest.mark.parametrize("L", [1, 4, 20])
def test_gamma_L_has_radius_one_plus_half_sine_of_L_z(L):
    z = latent_grid(500)
    points = gamma(z, L)
    assert points.shape == (500, 2)
    radius = points.norm(dim=1)
    expected = 1 + 0.5 * torch.sin(2 * math.pi * L * z)
    assert torch.allclose(radius, expected, atol=1e-5)
    angle = torch.atan2(points[:, 1], points[:, 0]) % (2 * math.pi)
    assert torch.allclose(angle, (2 * math.pi * z) % (2 * math.pi), atol=1e-4)


def test_gamma_0_is_the_unit_circle():
    points = gamma(latent_grid(300), 0)
    assert torch.allclose(points.norm(dim=1), torch.ones(300), atol=1e-6)


def test_phases_come_from_the_seed_alone_and_lie_in_zero_to_two_pi():
    torch.manual_seed(123)  # the global RNG must not matter
    first = draw_phases(7, 10)
    torch.manual_seed(999)
    assert torch.equal(first, draw_phases(7, 10))
    assert not torch.equal(first, draw_phases(8, 10))
    assert first.min() >= 0 and first.max() < 2 * math.pi


def test_depth_counts_linear_layers_with_a_relu_after_each_but_the_last_and_the_seed_fixes_the_weights():
    net = build_mlp(in_features=2, width=32, depth=4, seed=0)
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(2, 32), (32, 32), (32, 32), (32, 1)]
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU"] * 3 + ["Linear"]
    assert [type(m).__name__ for m in build_mlp(in_features=1, width=8, depth=1, seed=0)] == ["Linear"]  # depth 1: a linear model
    same = build_mlp(in_features=2, width=32, depth=4, seed=0)
    other = build_mlp(in_features=2, width=32, depth=4, seed=1)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), same.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(net.parameters(), other.parameters()))


def test_building_a_net_leaves_the_global_rng_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    build_mlp(in_features=1, width=4, depth=2, seed=42)
    assert torch.equal(torch.rand(3), expected)


def test_full_batch_training_lowers_the_loss_and_evaluates_on_schedule():
    z = latent_grid(64)
    target = torch.sin(2 * math.pi * z)
    net = build_mlp(in_features=1, width=16, depth=2, seed=0)
    rows = solve(Problem(
        net, z[:, None], target, steps=25, learning_rate=1e-2,
        eval_every_steps=10, evaluate=lambda step, out, net: Reading({"mean_output": out.mean()}),
    )).tables["curves"]
    assert [r["step"] for r in rows] == [0, 10, 20, 25]
    assert rows[-1]["loss"] < rows[0]["loss"]
    assert all("mean_output" in r for r in rows)


def test_a_loss_that_becomes_nan_stops_training_with_the_reason():
    net = build_mlp(in_features=1, width=4, depth=1, seed=0)
    with pytest.raises(DivergedError, match="nan at step 0"):
        solve(Problem(net, torch.zeros(8, 1), torch.full((8,), float("nan")), steps=10, learning_rate=1e-3, eval_every_steps=5))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_experiment_folder_defines_what_its_declaration_says(name):
    # The flags are static so that validating a sweep never imports the trial code (and torch).
    experiment = REGISTRY[name]
    assert experiment.trains_one_net == hasattr(experiment.trial, "problem") != hasattr(experiment.trial, "run")
    assert bool(experiment.prepared_fields) == hasattr(experiment.trial, "prepare")
    assert set(experiment.prepared_fields) <= {f.name for f in dataclasses.fields(experiment.config)}
    assert experiment.config.__module__ == f"workloads.{name}.config"
    assert callable(experiment.figure.draw) and callable(experiment.claims.check)
    assert experiment.claims.CLAIMS and all(claim.experiment == name for claim in experiment.claims.CLAIMS)


PAPER_SWEEPS = {  # the paper-scale sweep file of each experiment, its net's input dimension and the authors' learning rate
    "learning_order": ("learning_order.yaml", 1, 3e-4),  # the latent z
    "manifold_regression": ("manifold_regression.yaml", 2, 3e-4),  # points of gamma_L in the plane
    "manifold_classification": ("manifold.yaml", 2, 3e-4),
    "perturbation": ("perturbation.yaml", 1, 3e-4),
    "decision_boundary": ("decision_boundary.yaml", 2, 3e-4),
    "noise_regression": ("noise_regression.yaml", 64, 1e-4),  # 8x8 digit images; the authors' MNIST notebooks' rate
    "knn": ("knn.yaml", 2, 3e-4),
    "label_noise": ("label_noise.yaml", 64, 1e-4),  # the authors' ICML_MNISTLabelNoise notebook, on the 8x8 digits
    "kernel_spectrum": ("kernel_spectrum.yaml", 64, 1e-4),  # ICML_MNISTWithKernels
}


def paper_net(name: str, config) -> torch.nn.Module:
    """The net a trial of experiment `name` trains: its problem's, theta*'s (Experiment 4), or
    Experiment 3's beside the k-NN classifiers (Figure 10)."""
    experiment, cpu = REGISTRY[name], torch.device("cpu")
    if experiment.trains_one_net:  # the net does not depend on the prepared state, so one training step of it will do
        prepared = experiment.trial.prepare(dataclasses.replace(config, autoencoder_steps=1), cpu) if experiment.prepared_fields else None
        return experiment.problem(config, cpu, prepared).model
    if hasattr(experiment.trial, "network"):
        return experiment.trial.network(config, cpu)
    return REGISTRY["manifold_classification"].trial.problem(config, cpu).model


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_paper_scale_net_of_every_experiment_is_the_authors_six_linear_layers(name):
    from orchestrator.plan import expand
    from orchestrator.spec import load_spec
    from workloads.nets import count_parameters

    sweep_file, inputs, learning_rate = PAPER_SWEEPS[name]
    trial = expand(load_spec(Path(__file__).resolve().parents[1] / "sweeps" / sweep_file))[0]
    net = paper_net(name, REGISTRY[name].parse(trial.config))
    # The authors' code: Linear(in, 256), ReLU, 4 x [Linear(256, 256), ReLU], Linear(256, 1).
    shapes = [(inputs, 256)] + [(256, 256)] * 4 + [(256, 1)]
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, torch.nn.Linear)] == shapes
    assert [type(m).__name__ for m in net] == ["Linear", "ReLU"] * 5 + ["Linear"]
    expected = sum(fan_in * fan_out + fan_out for fan_in, fan_out in shapes)  # weights and biases
    assert count_parameters(net) == expected
    if inputs == 1:
        assert expected == 263_937  # the count the authors' net has on a 1-D input
    assert trial.config["learning_rate"] == learning_rate  # the authors' Adam learning rate
