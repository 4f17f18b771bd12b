"""Experiment 5's config: one (inputs, seed) point, and the autoencoder it uses. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt

from workloads.config import TrainedNet, unused_net_fields


@dataclass(frozen=True)
class NoiseRegressionConfig(TrainedNet):
    """One run of Experiment 5 (appendix A.3). Defaults are the paper's, else the authors'
    code's; ASSUMED marks our own choices."""

    n_points: Annotated[int, Gt(0)] = 1000
    """number of samples regressed, each a different digit image's point. ASSUMED: 1000 of the 1797 digits"""
    steps: Annotated[int, Gt(0)] = 10_000
    """full-batch Adam steps. ASSUMED: 10 000 (the paper does not say)"""
    learning_rate: Annotated[float, Gt(0)] = 1e-4
    """Adam learning rate: 1e-4, as in the authors' MNIST notebooks"""
    inputs: Literal["manifold", "flat"] = "manifold"
    """'manifold': the autoencoder's reconstructions of real digit images; 'flat': points uniform
    in the first code_dim coordinates of the 64, zero elsewhere (a flat manifold of that dimension)"""
    flat_spacing: Literal["matched", "unit"] = "matched"
    """how far apart the flat points lie: 'matched' scales them so their mean distance to their
    nearest neighbour equals the same seed's manifold inputs' (uniform in [0, 1]^d they are about
    a third as far apart as the digits, so 'faster on the manifold' could mean 'faster on points
    spread out'); 'unit': uniform in [0, 1]^d. ASSUMED: matched (the paper does not say)"""
    code_dim: Annotated[int, Gt(0)] = 8
    """d, the dimension of both manifolds: the autoencoder's code. ASSUMED: 8 (the paper's 64 of
    MNIST's 784 is a twelfth; the digits have 64 pixels)"""
    autoencoder_width: Annotated[int, Gt(0)] = 128
    """units of the autoencoder's hidden layers (encoder 64-w-d, decoder d-w-64). ASSUMED: 128"""
    autoencoder_steps: Annotated[int, Gt(0)] = 3000
    """full-batch Adam steps training the autoencoder on all 1797 digits. ASSUMED: 3000"""
    autoencoder_learning_rate: Annotated[float, Gt(0)] = 1e-3
    """Adam learning rate of the autoencoder. ASSUMED: 1e-3"""
    autoencoder_noise: Annotated[float, Ge(0)] = 0.2
    """standard deviation of the Gaussian noise added to the autoencoder's inputs (pixels in [0, 1]). ASSUMED: 0.2"""


def unused_fields(config: dict[str, Any]) -> set[str]:
    """The fields with no effect on an Experiment 5 trial: the net's (unused_net_fields), and how the
    flat points are spaced where the inputs are the digits' manifold."""
    return unused_net_fields(config) | ({"flat_spacing"} if config["inputs"] != "flat" else set())
