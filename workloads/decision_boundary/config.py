"""Figure 2's config: one net (one seed) trained on Experiment 3's task. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Gt, Le

from workloads.manifold_classification.config import ManifoldClassificationConfig


@dataclass(frozen=True)
class DecisionBoundaryConfig(ManifoldClassificationConfig):
    """One net of Figure 2: Experiment 3's task at (k, L) = (200, 20), the same for every seed, and
    the box its decision function is read over. Defaults are the paper's, else the authors' code's; ASSUMED marks our
    own choices."""

    seed: int = 0
    """draws the net's initial weights: the nets of a sweep differ in it alone (the data's phase is
    data_seed's)"""
    data_seed: int = 0
    """draws the phase of the sine that labels the points; one value for the nets compared, so they
    learn the same labels"""
    k: Annotated[int, Gt(0)] = 200
    """frequency of the sine wave in the latent variable z (the paper's Figure 2: 200)"""
    L: Annotated[int, Ge(0)] = 20
    """number of petals of the manifold gamma_L (the paper's Figure 2: 20)"""
    box_half_width: Annotated[float, Gt(0)] = 1.6
    """the decision function is read over the box [-b, b]^2 (the authors' notebook: 1.6)"""
    box_points: Annotated[int, Gt(1)] = 200
    """points per side of the box's grid (the authors' notebook: 200)"""
    fit_accuracy: Annotated[float, Gt(0), Le(1)] | None = None
    """train until the net classifies this share of its training points right (read every
    eval_every_steps), or for `steps` at most; null trains for `steps`. The paper's nets fit the
    manifold "close to perfectly", and C5a and C5b are about nets that do. ASSUMED: null (the
    paper gives no number; the sweeps set 0.99)"""
