"""The real images sbsweep uses offline: scikit-learn's bundled 8x8 digits, in place of MNIST.

The ICML experiments' binary task (the authors' MNIST notebooks): the images of two classes, in the
data set's own order, the first labelled -1 and the second +1. Importing this module does not
import torch (configs check their sizes against DIGITS_PER_CLASS); its functions do.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DIGITS = 1797
"""Images in scikit-learn's bundled 8x8 digits."""

DIGITS_PER_CLASS = (178, 182, 177, 183, 181, 182, 181, 179, 174, 180)
"""Images of each class 0-9 in the bundled digits (tests/test_digits.py checks it against the data)."""


@cache
def _load() -> tuple[torch.Tensor, torch.Tensor]:
    import torch
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    data = load_digits()
    return torch.tensor(data.data / 16.0, dtype=torch.float32), torch.tensor(data.target)


def digits() -> torch.Tensor:
    """scikit-learn's 1797 bundled 8x8 digit images, pixels scaled to [0, 1]: (1797, 64)."""
    return _load()[0]


def binary_digits(classes: tuple[int, ...], count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` images of the two `classes`, in the data set's order, (count, 64), and
    their labels: -1 for the first class, +1 for the second (the notebooks' one-hot, negated for
    the first class and summed)."""
    import torch

    images, labels = _load()
    chosen = torch.nonzero(torch.isin(labels, torch.tensor(classes))).squeeze(1)[:count]
    return images[chosen], torch.where(labels[chosen] == classes[0], -1.0, 1.0)
