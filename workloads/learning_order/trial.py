"""What one trial of Experiment 1 computes: a net fits a sum of sinusoids on [0, 1)."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.learning_order.config import LearningOrderConfig
from workloads.nets import build_net, spectral_norms
from workloads.signals import draw_phases, latent_grid, sinusoid_sum
from workloads.spectrum import magnitude_at, spectrum_rows
from workloads.training import NetView, Problem, Reading

AMPLITUDE_SETTINGS = ("equal", "increasing")


def amplitudes_for(setting: str, count: int) -> torch.Tensor:
    """The paper's two settings: 'equal' (every A_i = 1) or 'increasing' (0.1, 0.2, ..., 1.0 for 10)."""
    if setting == "equal":
        return torch.ones(count)
    return torch.arange(1, count + 1, dtype=torch.float32) / count


def problem(config: LearningOrderConfig, device: torch.device) -> Problem:
    """One (amplitude setting, seed) point as a training problem: fit the sum of sinusoids on [0, 1)."""
    z = latent_grid(config.n_points)
    frequencies = list(config.frequencies)
    amplitudes = amplitudes_for(config.amplitudes, len(frequencies))
    target = sinusoid_sum(z, torch.tensor(frequencies, dtype=torch.float32), amplitudes, draw_phases(config.seed, len(frequencies)))
    function_steps = set(config.function_steps) | {config.steps}
    z_values, target_values, amplitude_values = z.tolist(), target.tolist(), amplitudes.tolist()

    def measure(step: int, output: torch.Tensor, net: NetView) -> Reading:
        tensors = {"magnitude": magnitude_at(output, frequencies), "norms": spectral_norms(net.weights(), config.power_iterations)}
        if step in function_steps:
            tensors["prediction"] = output

        def rows(host: dict) -> dict[str, list]:
            out: dict[str, list] = {
                "spectra": spectrum_rows(step, host["magnitude"], frequencies, amplitude_values),
                "layer_norms": [{"step": step, "layer": i, "spectral_norm": norm} for i, norm in enumerate(host["norms"])],
            }
            if "prediction" in host:
                out["functions"] = [
                    {"step": step, "z": zi, "prediction": p, "target": t} for zi, p, t in zip(z_values, host["prediction"], target_values)
                ]
            return out

        return Reading(tensors, rows)

    return Problem(
        model=build_net(1, config).to(device),
        inputs=z[:, None].to(device),
        target=target.to(device),
        evaluate=measure,
        **training_schedule(config),
        tables=("spectra", "layer_norms", "functions"),
        early_evals=config.early_evals,
    )
