"""scikit-learn's bundled 8x8 digits: real images sbsweep has offline, the CPU presets' stand-in for
MNIST. Importing this module does not import torch; its functions do."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DIGITS = 1797
"""Images in scikit-learn's bundled 8x8 digits."""

DIGITS_PER_CLASS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)
"""Images of each class 0-9 in the bundled digits (tests/test_label_noise.py checks it against the data)."""

PIXELS = 64
"""Inputs of one image: 8 x 8."""


@cache
def load() -> tuple[torch.Tensor, torch.Tensor]:
    """Every image, pixels / 16 so in [0, 1], (1797, 64), and its label 0-9."""
    import torch
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    data = load_digits()
    return torch.tensor(data.data / 16.0, dtype=torch.float32), torch.tensor(data.target)
