"""What one trial of Experiment 1 computes: a net fits a sum of sinusoids on [0, 1)."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.learning_order.config import LearningOrderConfig
from workloads.nets import build_net, layer_spectral_norms
from workloads.signals import draw_phases, latent_grid, sinusoid_sum
from workloads.spectrum import spectrum_rows
from workloads.training import Problem

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
    model = build_net(1, config).to(device)
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

    return Problem(
        model=model,
        inputs=z[:, None].to(device),
        loss_of_output=lambda output: ((output - target) ** 2).mean(),
        evaluate=measure,
        **training_schedule(config),
        tables=("spectra", "layer_norms", "functions"),
        early_evals=config.early_evals,
    )
