"""Experiment 3: classify a binarised sine wave living on the manifold gamma_L (Figure 4).

A net sees the points gamma_L(z_i) and learns the label y_i = 1[sin(2 pi k z_i + phi) > threshold].
The paper's claim: training accuracy falls as k grows and rises as L grows.
"""

from __future__ import annotations

import torch

from workloads.configs import ManifoldClassificationConfig
from workloads.nets import build_mlp
from workloads.signals import draw_phases, gamma, latent_grid, sinusoid_sum
from workloads.training import Checkpointing, Problem, WorkloadResult, solve


def problem(config: ManifoldClassificationConfig, device: torch.device) -> Problem:
    """One (k, L, seed) point as a training problem: the points of gamma_L and their labels."""
    z = latent_grid(config.n_points)
    phase = draw_phases(config.seed, 1)
    signal = sinusoid_sum(z, torch.tensor([float(config.k)]), torch.ones(1), phase)
    labels = (signal > config.threshold).float().to(device)  # (N,)
    bce = torch.nn.BCEWithLogitsLoss()
    positive_fraction = float(labels.mean())

    def accuracy(step: int, logits: torch.Tensor, loss: torch.Tensor) -> dict[str, float]:
        return {"accuracy": float(((logits > 0).float() == labels).float().mean())}

    def finish(curve: list[dict], resumed_from_step: int) -> WorkloadResult:
        final = curve[-1]
        summary = {
            "accuracy": final["accuracy"],
            "loss": final["loss"],
            "steps": config.steps,
            "baseline_accuracy": max(positive_fraction, 1 - positive_fraction),
        }
        return WorkloadResult(summary=summary, tables={"curves": curve}, resumed_from_step=resumed_from_step)

    return Problem(
        model=build_mlp(in_features=2, width=config.width, depth=config.depth, seed=config.seed).to(device),
        inputs=gamma(z, config.L).to(device),  # (N, 2)
        loss_of_output=lambda logits: bce(logits, labels),
        evaluate=accuracy,
        steps=config.steps,
        learning_rate=config.learning_rate,
        eval_every_steps=config.eval_every_steps,
        finish=finish,
    )


def run(config: ManifoldClassificationConfig, device: torch.device, checkpointing: Checkpointing | None = None) -> WorkloadResult:
    """Train one net on one (k, L, seed) point; return final accuracy and the learning curve."""
    return solve(problem(config, device), checkpointing)
