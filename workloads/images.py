"""The real images the ICML experiments and Experiment 5 train on: scikit-learn's bundled 8x8
digits (offline, the CPU presets' default) or MNIST (the paper's; `sbsweep fetch mnist` keeps it).

A config names one with its `dataset` key. Where the authors' notebooks set a value for MNIST
that the digits cannot take as it is (an image count, a kernel width, a noise frequency), the
config field defaults to null, and the experiment's `resolve` fills in the data set's own value:
the notebooks' on MNIST, a rule of ours (written beside it) on the digits. The trial's stored
config holds the value filled in. Importing this module does not import torch; its functions do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from workloads import digits, mnist
from workloads.config import TrainedNet

if TYPE_CHECKING:
    import torch

Dataset = Literal["digits", "mnist"]

PER_CLASS: dict[str, tuple[int, ...]] = {"digits": digits.DIGITS_PER_CLASS, "mnist": mnist.TRAIN_PER_CLASS}
"""Images of each class 0-9 a data set trains on (MNIST: its 60 000 training images)."""
PIXELS: dict[str, int] = {"digits": digits.PIXELS, "mnist": mnist.PIXELS}
"""Inputs of one image."""
TITLES: dict[str, str] = {"digits": "digits", "mnist": "MNIST"}
"""A data set's name in a figure."""
NEEDS_FETCH = {"mnist"}
"""Data sets that must be in the data cache before a trial runs (the digits come with scikit-learn)."""


@dataclass(frozen=True)
class BinaryImagesConfig(TrainedNet):
    """What the ICML experiments share (the authors' MNIST notebooks): two classes of real images,
    the 6x256 net, full-batch Adam 1e-4 for 5000 steps. Defaults are the notebooks'; ASSUMED marks
    our own choices."""

    dataset: Dataset = "digits"
    """the images: 'digits', scikit-learn's bundled 8x8 digits (64 pixels / 16, offline), or 'mnist',
    the notebooks' MNIST training images (784 pixels / 255; `sbsweep fetch mnist` first)"""
    n_points: Annotated[int, Gt(0)] | None = None
    """images of the two classes used, in the data set's order; null: the data set's own count
    (the experiment says which)"""
    steps: Annotated[int, Gt(0)] = 5000
    """full-batch Adam steps (the notebooks' 5000 iterations)"""
    learning_rate: Annotated[float, Gt(0)] = 1e-4
    """Adam learning rate: 1e-4, as in the authors' MNIST notebooks"""
    eval_every_steps: Annotated[int, Gt(0)] = 10
    """steps between readings. ASSUMED: 10 (the notebooks read every step; every 10 resolves the
    early dip of the held-out or clean loss at a tenth of the rows)"""
    classes: Annotated[tuple[Annotated[int, Ge(0), Le(9)], ...], MinLen(2), MaxLen(2)] = (3, 8)
    """the two digit classes: the first labelled -1, the second +1 (the notebooks' MASK_CLASSES)"""


def pixels(config: dict[str, Any]) -> int:
    """A config's image inputs (an Experiment's input_dim)."""
    return PIXELS[config["dataset"]]


def needs_fetch(config: dict[str, Any]) -> set[str]:
    """The data sets a config's trial needs from the data cache (an Experiment's data)."""
    return {config["dataset"]} & NEEDS_FETCH


def kept_payloads(names: set[str]) -> dict[str, bytes]:
    """The kept copy of each data set named (checked), as bytes a driver ships to its workers;
    mnist.MissingData naming `sbsweep fetch mnist` where one is not in the cache."""
    return {name: mnist.kept_bytes() for name in sorted(names & NEEDS_FETCH)}


def install_payloads(payloads: dict[str, bytes]) -> None:
    """Keep each shipped data set in this machine's cache where it lacks a good copy (a worker,
    before its first trial: one process a machine writes it, under a lock)."""
    for name in payloads:
        mnist.install(payloads[name])


def images_of(dataset: str, classes: tuple[int, ...] | list[int]) -> int:
    """How many images of the two `classes` `dataset` has."""
    return sum(PER_CLASS[dataset][c] for c in classes)


def filled(config: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`config` with each of its null fields that `values` names set to that value."""
    return {key: values[key] if value is None and key in values else value for key, value in config.items()}


def binary_images_constraints(config: BinaryImagesConfig) -> dict[str, str]:
    """Two different classes, and no more images than the data set has of them."""
    first, second = config.classes
    if first == second:
        return {"classes": f"{list(config.classes)}: two different classes"}
    available = images_of(config.dataset, config.classes)
    if config.n_points > available:
        return {"n_points": f"n_points={config.n_points}: the {config.dataset} have {available} images of classes {first} and {second}"}
    return {}


def all_images(dataset: str, count: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` (default: every) training images of `dataset` as float32 rows in [0, 1]
    (digits: pixels / 16; MNIST: pixels / 255, as the notebooks' ToTensor), and their labels 0-9."""
    chosen = slice(count)
    return _rows(dataset, chosen), _labels(dataset)[chosen]


def binary_images(dataset: str, classes: tuple[int, ...], count: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` images of the two `classes`, in the data set's order, (count, pixels),
    and their labels: -1 for the first class, +1 for the second (the notebooks' one-hot, negated
    for the first class and summed)."""
    import torch

    labels = _labels(dataset)
    chosen = torch.nonzero(torch.isin(labels, torch.tensor(classes))).squeeze(1)[:count]
    return _rows(dataset, chosen), torch.where(labels[chosen] == classes[0], -1.0, 1.0)


def _labels(dataset: str) -> torch.Tensor:
    """Every training image's label 0-9, int64."""
    import torch

    return digits.load()[1] if dataset == "digits" else torch.from_numpy(mnist.load()["train_labels"].astype("int64"))


def _rows(dataset: str, chosen: Any) -> torch.Tensor:
    """The `chosen` training images (a slice or indices) as float32 rows in [0, 1]. MNIST's
    pixels are converted for those alone (all 60 000 would be 188 MB)."""
    import torch

    if dataset == "digits":
        return digits.load()[0][chosen]
    pixels = mnist.load()["train_images"][chosen.numpy() if isinstance(chosen, torch.Tensor) else chosen]
    return torch.from_numpy(pixels.reshape(len(pixels), -1).astype("float32") / 255.0)
