"""Experiment 1's config: one (amplitude setting, seed) point. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Gt, MinLen

from workloads.config import TrainedNet


@dataclass(frozen=True)
class LearningOrderConfig(TrainedNet):
    """One grid point of Experiment 1. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    n_points: Annotated[int, Gt(0)] = 200
    """N, latent grid size"""
    steps: Annotated[int, Gt(0)] = 80_000
    """full-batch Adam steps"""
    amplitudes: Literal["equal", "increasing"] = "equal"
    """'equal': every A_i = 1; 'increasing': A_i = i/n, so the highest frequency is the loudest"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(5, 51, 5))
    """the target's frequencies k_i"""
    power_iterations: Annotated[int, Gt(0)] = 10
    """power-iteration rounds per spectral norm"""
    function_steps: tuple[Annotated[int, Gt(0)], ...] = (100, 1000, 10_000, 80_000)
    """steps at which the whole learned function is stored (Figure 6), each a multiple of
    eval_every_steps; the last step always is, steps past it are skipped"""
    early_evals: bool = False
    """also read the spectrum at steps 1, 2, 4, 8, ... below eval_every_steps: a net that learns
    every frequency before the first eval step (a sine net, Fourier features) has its order read
    there instead of tied at the first eval. ASSUMED: off, the paper's grid of eval steps"""
