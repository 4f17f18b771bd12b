"""What one trial of Experiment 2 computes: a net fits a sum of sinusoids living on gamma_L."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.nets import build_net
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.spectrum import spectrum_rows
from workloads.training import Problem


def problem(config: ManifoldRegressionConfig, device: torch.device) -> Problem:
    """One (L, seed) point as a training problem: fit the sum of sinusoids on gamma_L with MSE."""
    z = latent_grid(config.n_points)
    frequencies = torch.tensor(config.frequencies, dtype=torch.float32)
    amplitudes = torch.ones(len(config.frequencies))
    target = sinusoid_sum(z, frequencies, amplitudes, draw_phases(config.seed, len(config.frequencies))).to(device)

    def measure(step: int, output: torch.Tensor, loss: torch.Tensor) -> dict[str, list]:
        return {"spectra": spectrum_rows(step, output, frequencies, amplitudes)}

    return Problem(
        model=build_net(2, config).to(device),
        inputs=gamma(z, config.L).to(device),  # (N, 2)
        loss_of_output=lambda output: ((output - target) ** 2).mean(),
        evaluate=measure,
        **training_schedule(config),
        tables=("spectra",),
    )
