"""Experiment 4's config: one (delta, seed) point, and the theta* it perturbs. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Gt, MinLen

from workloads.config import TrainedNet


@dataclass(frozen=True)
class PerturbationConfig(TrainedNet):
    """One grid point of Experiment 4. The net fields describe theta*'s training. Defaults are the
    paper's, else the authors' code's; ASSUMED marks our own choices."""

    n_points: Annotated[int, Gt(0)] = 200
    """N, latent grid size"""
    steps: Annotated[int, Gt(0)] = 80_000
    """full-batch Adam steps to train theta*. ASSUMED: 80 000, as Experiment 1 ('to convergence')"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(10, 51, 5))
    """the target's frequencies k_i, every amplitude 1"""
    delta: Annotated[float, Ge(0)] = 0.0
    """perturbation size: Euclidean length of the change to the ravelled parameter vector"""
    directions: Annotated[int, Gt(0)] = 100
    """random unit directions per delta, evaluated as one batch"""
