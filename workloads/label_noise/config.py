"""The label-noise experiment's config: one (noise frequency, amplitude, seed) point. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen

from workloads.config import TrainedNet


@dataclass(frozen=True)
class LabelNoiseConfig(TrainedNet):
    """One run of the ICML paper's label-noise experiment on the digits (the authors' notebook
    ICML_MNISTLabelNoise). Defaults are the paper's, else the authors' notebook's; ASSUMED marks
    our own choices."""

    classes: Annotated[tuple[Annotated[int, Ge(0), Le(9)], ...], MinLen(2), MaxLen(2)] = (3, 8)
    """the two digit classes: the first labelled -1, the second +1 (the notebook's MASK_CLASSES)"""
    n_points: Annotated[int, Gt(0)] = 357
    """images of the two classes used, in the data set's order (the digits have 357 of 3 and 8)"""
    validation_split: Annotated[float, Gt(0), Lt(1)] = 0.8
    """the first this share of the images train, the rest validate (the notebook's VAL_SPLIT)"""
    steps: Annotated[int, Gt(0)] = 5000
    """full-batch Adam steps (the notebook's 5000 iterations)"""
    learning_rate: Annotated[float, Gt(0)] = 1e-4
    """Adam learning rate: 1e-4, as in the authors' MNIST notebooks"""
    eval_every_steps: Annotated[int, Gt(0)] = 10
    """steps between readings of the training and validation loss. ASSUMED: 10 (the notebook reads
    every step; 10 resolves the validation loss's early dip at a tenth of the rows)"""
    noise_frequency: Annotated[float, Ge(0)] = 0.6
    """k of the radial label noise beta sin(2 pi k ||x||), in periods per unit of the image's norm.
    ASSUMED: the digits' norms spread about a sixth as far as MNIST's, so a digit k is six times the
    notebook's MNIST k for the same number of periods across the data: 0.6 is the slides' k = 0.1"""
    noise_amplitude: Annotated[float, Ge(0)] = 0.0
    """beta, the label noise's amplitude (0: clean labels)"""
