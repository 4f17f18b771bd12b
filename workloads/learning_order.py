"""Experiment 1: lower frequencies are learned first (Figures 1 and 6).

A net on the 1-D latent grid fits lambda(z) = sum_i A_i sin(2 pi k_i z + phi_i) with MSE. Every
eval it records the normalized magnitude at each k_i, the spectral norm of each weight matrix,
and at a few steps the whole learned function. The paper's claim: the k_i are learned in order
of frequency, whatever their amplitudes.
"""

from __future__ import annotations

import torch

from workloads.configs import LearningOrderConfig
from workloads.nets import build_mlp, layer_spectral_norms
from workloads.signals import draw_phases, latent_grid, sinusoid_sum
from workloads.spectrum import spectrum_rows
from workloads.training import Checkpointing, Problem, WorkloadResult, solve, split_tables


AMPLITUDE_SETTINGS = ("equal", "increasing")


def amplitudes_for(setting: str, count: int) -> torch.Tensor:
    """The paper's two settings: 'equal' (every A_i = 1) or 'increasing' (0.1, 0.2, ..., 1.0 for 10)."""
    if setting == "equal":
        return torch.ones(count)
    return torch.arange(1, count + 1, dtype=torch.float32) / count


def problem(config: LearningOrderConfig, device: torch.device) -> Problem:
    """One (amplitude setting, seed) point as a training problem: fit the sum of sinusoids on [0, 1)."""
    z = latent_grid(config.n_points)
    frequencies = torch.tensor(config.frequencies, dtype=torch.float32)
    amplitudes = amplitudes_for(config.amplitudes, len(config.frequencies))
    target = sinusoid_sum(z, frequencies, amplitudes, draw_phases(config.seed, len(config.frequencies))).to(device)
    model = build_mlp(in_features=1, width=config.width, depth=config.depth, seed=config.seed).to(device)
    function_steps = set(config.function_steps) | {config.steps}

    def measure(step: int, output: torch.Tensor, loss: torch.Tensor) -> dict[str, list]:
        norms = layer_spectral_norms(model, config.power_iterations)
        rows: dict[str, list] = {
            "spectra": spectrum_rows(step, output, frequencies, amplitudes),
            "layer_norms": [{"step": step, "layer": i, "spectral_norm": norm} for i, norm in enumerate(norms)],
        }
        if step in function_steps:
            rows["functions"] = [
                {"step": step, "z": zi, "prediction": p, "target": t}
                for zi, p, t in zip(z.tolist(), output.cpu().tolist(), target.cpu().tolist())
            ]
        return rows

    def finish(rows: list[dict], resumed_from_step: int) -> WorkloadResult:
        tables = split_tables(rows, "spectra", "layer_norms", "functions")
        return WorkloadResult(
            summary={"loss": tables["curves"][-1]["loss"], "steps": config.steps}, tables=tables, resumed_from_step=resumed_from_step
        )

    return Problem(
        model=model,
        inputs=z[:, None].to(device),
        loss_of_output=lambda output: ((output - target) ** 2).mean(),
        evaluate=measure,
        steps=config.steps,
        learning_rate=config.learning_rate,
        eval_every_steps=config.eval_every_steps,
        finish=finish,
    )


def run(config: LearningOrderConfig, device: torch.device, checkpointing: Checkpointing | None = None) -> WorkloadResult:
    """Train one net on one (amplitude setting, seed) point; return curves, spectra, norms, functions."""
    return solve(problem(config, device), checkpointing)
