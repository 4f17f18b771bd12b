"""Figure 10's config: k-NN classifiers on one (k, L, seed) point of Experiment 3. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Gt, MinLen

from workloads.manifold_classification.config import ManifoldClassificationConfig


@dataclass(frozen=True)
class KnnConfig(ManifoldClassificationConfig):
    """One point of Figure 10: Experiment 3's data and labels at (k, L), classified by k-NN for
    each K, and, at one point, by the net as well. Defaults are the paper's, else the authors'
    code's; ASSUMED marks our own choices. The net's fields are Experiment 3's."""

    neighbors: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = (1, 5, 10, 20)
    """the K of each k-NN classifier (Figure 10 a-d). ASSUMED: 1, 5, 10, 20 (the paper shows four)"""
    spectrum_at: tuple[int, ...] = (150, 20)
    """the (k, L) at which the classifiers' probability maps and their radial spectra are read,
    and the net is trained on the same data beside them (Figure 10e: the paper's 150 and 20);
    [] for none"""
    box_half_width: Annotated[float, Gt(0)] = 1.6
    """the probability maps are read over the box [-b, b]^2 around the manifold. ASSUMED: 1.6, Figure 2's box"""
    box_points: Annotated[int, Gt(1)] = 200
    """points per side of the box's grid (and of its 2-D DFT). ASSUMED: 200, Figure 2's grid"""
