"""What one trial of Experiment 3 computes: a net classifies a binarised sine living on gamma_L."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.manifold_classification.config import ManifoldClassificationConfig
from workloads.nets import build_net
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.training import NetView, Problem, Reading


def labels_of(config: ManifoldClassificationConfig, phase_seed: int | None = None) -> torch.Tensor:
    """The trial's labels on the latent grid: 1 where sin(2 pi k z + phi) exceeds the threshold, (N,).
    phi is drawn from `phase_seed`, by default the trial's seed."""
    z = latent_grid(config.n_points)
    phases = draw_phases(config.seed if phase_seed is None else phase_seed, 1)
    signal = sinusoid_sum(z, torch.tensor([float(config.k)]), torch.ones(1), phases)
    return (signal > config.threshold).float()


def accuracy_of(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The share of points whose class (logit > 0) is their label, on the device."""
    return ((logits > 0).float() == labels).float().mean()


def problem(config: ManifoldClassificationConfig, device: torch.device, *, phase_seed: int | None = None) -> Problem:
    """One (k, L, seed) point as a training problem: the points of gamma_L and their labels (their
    phase drawn from `phase_seed`, by default the seed, which always draws the net's weights)."""
    labels = labels_of(config, phase_seed).to(device)  # (N,)
    positive_fraction = float(labels.mean())

    def accuracy(step: int, logits: torch.Tensor, net: NetView) -> Reading:
        return Reading({"accuracy": accuracy_of(logits, labels)})

    return Problem(
        model=build_net(2, config).to(device),
        inputs=gamma(latent_grid(config.n_points), config.L).to(device),  # (N, 2)
        target=labels,
        loss="bce",
        evaluate=accuracy,
        **training_schedule(config),
        summarize=lambda rows: {"accuracy": rows[-1]["accuracy"], "baseline_accuracy": max(positive_fraction, 1 - positive_fraction)},
    )
