"""Experiment 3's config: one (k, L, seed) point. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Gt

from workloads.config import TrainedNet


@dataclass(frozen=True)
class ManifoldClassificationConfig(TrainedNet):
    """One grid point of Experiment 3. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    n_points: Annotated[int, Gt(0)] = 1000
    """N, latent grid size. ASSUMED: 1000, as in Experiment 2"""
    steps: Annotated[int, Gt(0)] = 10_000
    """full-batch Adam steps. ASSUMED: 10 000 (the paper does not say)"""
    k: Annotated[int, Gt(0)] = 200
    """frequency of the sine wave in the latent variable z (cycles over [0, 1))"""
    L: Annotated[int, Ge(0)] = 0
    """number of petals of the manifold gamma_L; 0 is the unit circle"""
    threshold: float = 0.5
    """label is 1 where the sine exceeds this; 0.5 is the paper's and makes the classes 1:2 (the
    authors' notebook used 0, balanced classes)"""
