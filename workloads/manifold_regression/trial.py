"""What one trial of Experiment 2 computes: a net fits a sum of sinusoids living on gamma_L."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.nets import build_net
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.spectrum import magnitude_at, spectrum_rows
from workloads.training import NetView, Problem, Reading


def problem(config: ManifoldRegressionConfig, device: torch.device) -> Problem:
    """One (L, seed) point as a training problem: fit the sum of sinusoids on gamma_L with MSE."""
    z = latent_grid(config.n_points)
    frequencies = list(config.frequencies)
    amplitudes = torch.ones(len(frequencies))
    target = sinusoid_sum(z, torch.tensor(frequencies, dtype=torch.float32), amplitudes, draw_phases(config.seed, len(frequencies)))
    amplitude_values = amplitudes.tolist()

    def measure(step: int, output: torch.Tensor, net: NetView) -> Reading:
        return Reading({"magnitude": magnitude_at(output, frequencies)},
                       lambda host: {"spectra": spectrum_rows(step, host["magnitude"], frequencies, amplitude_values)})

    return Problem(
        model=build_net(2, config).to(device),
        inputs=gamma(z, config.L).to(device),  # (N, 2)
        target=target.to(device),
        evaluate=measure,
        **training_schedule(config),
        tables=("spectra",),
    )
