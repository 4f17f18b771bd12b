"""Experiment 2: regress a sum of sinusoids living on the manifold gamma_L (Figure 3).

The net sees gamma_L(z_i) and fits lambda(z_i) = sum_i sin(2 pi k_i z_i + phi_i) with MSE; the
spectrum of f o gamma_L over the latent grid is read every eval. The paper's claim: the larger
L, the sooner high frequencies are learned and the lower the final loss.
"""

from __future__ import annotations

import torch

from workloads.configs import ManifoldRegressionConfig
from workloads.nets import build_mlp
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.spectrum import spectrum_rows
from workloads.training import Checkpointing, Problem, WorkloadResult, solve, split_tables


def problem(config: ManifoldRegressionConfig, device: torch.device) -> Problem:
    """One (L, seed) point as a training problem: fit the sum of sinusoids on gamma_L with MSE."""
    z = latent_grid(config.n_points)
    frequencies = torch.tensor(config.frequencies, dtype=torch.float32)
    amplitudes = torch.ones(len(config.frequencies))
    target = sinusoid_sum(z, frequencies, amplitudes, draw_phases(config.seed, len(config.frequencies))).to(device)

    def measure(step: int, output: torch.Tensor, loss: torch.Tensor) -> dict[str, list]:
        return {"spectra": spectrum_rows(step, output, frequencies, amplitudes)}

    def finish(rows: list[dict], resumed_from_step: int) -> WorkloadResult:
        tables = split_tables(rows, "spectra")
        return WorkloadResult(
            summary={"loss": tables["curves"][-1]["loss"], "steps": config.steps}, tables=tables, resumed_from_step=resumed_from_step
        )

    return Problem(
        model=build_mlp(in_features=2, width=config.width, depth=config.depth, seed=config.seed).to(device),
        inputs=gamma(z, config.L).to(device),  # (N, 2)
        loss_of_output=lambda output: ((output - target) ** 2).mean(),
        evaluate=measure,
        steps=config.steps,
        learning_rate=config.learning_rate,
        eval_every_steps=config.eval_every_steps,
        finish=finish,
    )


def run(config: ManifoldRegressionConfig, device: torch.device, checkpointing: Checkpointing | None = None) -> WorkloadResult:
    """Train one net on one (L, seed) point; return the final MSE, the loss curve and the spectra."""
    return solve(problem(config, device), checkpointing)
