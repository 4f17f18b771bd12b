"""Experiment 2's config: one (L, seed) point. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Gt, MinLen

from workloads.config import TrainedNet


@dataclass(frozen=True)
class ManifoldRegressionConfig(TrainedNet):
    """One grid point of Experiment 2. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    L: Annotated[int, Ge(0)] = 0
    """number of petals of the manifold gamma_L; 0 is the unit circle"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(20, 201, 20))
    """the target's frequencies k_i, every amplitude 1"""
