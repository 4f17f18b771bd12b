"""Experiment 5's config: one (inputs, seed) point, and the autoencoder it uses. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Gt

from workloads.config import TrainedNet, unused_net_fields
from workloads.images import Dataset, filled


@dataclass(frozen=True)
class NoiseRegressionConfig(TrainedNet):
    """One run of Experiment 5 (appendix A.3). Defaults are the paper's, else the authors'
    code's; ASSUMED marks our own choices."""

    dataset: Dataset = "digits"
    """the real images the autoencoder learns: 'digits', scikit-learn's bundled 8x8 digits (64
    pixels, offline), or 'mnist', the paper's (784 pixels; `sbsweep fetch mnist` first)"""
    n_points: Annotated[int, Gt(0)] = 1000
    """number of samples regressed, each a different image's point. ASSUMED: 1000 (of the
    autoencoder's images, drawn by the seed)"""
    steps: Annotated[int, Gt(0)] = 10_000
    """full-batch Adam steps. ASSUMED: 10 000 (the paper does not say)"""
    learning_rate: Annotated[float, Gt(0)] = 1e-4
    """Adam learning rate: 1e-4, as in the authors' MNIST notebooks"""
    inputs: Literal["manifold", "flat"] = "manifold"
    """'manifold': the autoencoder's reconstructions of real images; 'flat': points uniform in the
    first code_dim coordinates of the image's pixels, zero elsewhere (a flat manifold of that dimension)"""
    flat_spacing: Literal["matched", "unit"] = "matched"
    """how far apart the flat points lie: 'matched' scales them so their mean distance to their
    nearest neighbour equals the same seed's manifold inputs' (uniform in [0, 1]^d they are about
    a third as far apart as the digits, so 'faster on the manifold' could mean 'faster on points
    spread out'); 'unit': uniform in [0, 1]^d. ASSUMED: matched (the paper does not say)"""
    code_dim: Annotated[int, Gt(0)] | None = None
    """d, the dimension of both manifolds: the autoencoder's code; null: the paper's 64 on MNIST,
    8 on the digits (ASSUMED: the paper's 64 of MNIST's 784 is a twelfth; the digits have 64 pixels)"""
    autoencoder_width: Annotated[int, Gt(0)] | None = None
    """units of the autoencoder's hidden layers (encoder pixels-w-d, decoder d-w-pixels); null:
    512 on MNIST, 128 on the digits. ASSUMED: the paper does not say"""
    autoencoder_images: Annotated[int, Gt(0)] | None = None
    """the first this many training images train the autoencoder (full batch); null: all of them
    (MNIST's 60 000, the digits' 1797). ASSUMED: the paper does not say"""
    autoencoder_steps: Annotated[int, Gt(0)] = 3000
    """full-batch Adam steps training the autoencoder. ASSUMED: 3000"""
    autoencoder_learning_rate: Annotated[float, Gt(0)] = 1e-3
    """Adam learning rate of the autoencoder. ASSUMED: 1e-3"""
    autoencoder_noise: Annotated[float, Ge(0)] = 0.2
    """standard deviation of the Gaussian noise added to the autoencoder's inputs (pixels in [0, 1]). ASSUMED: 0.2"""


DATASET_SETTINGS = {
    "mnist": {"code_dim": 64, "autoencoder_width": 512, "autoencoder_images": 60_000},
    "digits": {"code_dim": 8, "autoencoder_width": 128, "autoencoder_images": 1797},
}
"""Each data set's own settings (above)."""


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """The data set's own code size, autoencoder width and image count where the config leaves them null."""
    return filled(config, DATASET_SETTINGS[config["dataset"]])


def unused_fields(config: dict[str, Any]) -> set[str]:
    """The fields with no effect on an Experiment 5 trial: the net's (unused_net_fields), and how the
    flat points are spaced where the inputs are the digits' manifold."""
    return unused_net_fields(config) | ({"flat_spacing"} if config["inputs"] != "flat" else set())
