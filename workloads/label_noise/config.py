"""The label-noise experiment's config: one (noise frequency, amplitude, seed) point. Plain data, no torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Gt, Lt

from workloads.config import unused_net_fields
from workloads.digits import BinaryDigitsConfig


@dataclass(frozen=True)
class LabelNoiseConfig(BinaryDigitsConfig):
    """One run of the ICML paper's label-noise experiment on the digits (the authors' notebook
    ICML_MNISTLabelNoise). Defaults are the paper's, else the authors' notebook's; ASSUMED marks
    our own choices."""

    validation_split: Annotated[float, Gt(0), Lt(1)] = 0.8
    """the first this share of the images train, the rest validate (the notebook's VAL_SPLIT)"""
    noise_frequency: Annotated[float, Ge(0)] = 0.6
    """k of the radial label noise beta sin(2 pi k ||x||), in periods per unit of the image's norm.
    ASSUMED: the digits' norms spread about a sixth as far as MNIST's, so a digit k is six times the
    notebook's MNIST k for the same number of periods across the data: 0.6 is the slides' k = 0.1"""
    noise_amplitude: Annotated[float, Ge(0)] = 0.0
    """beta, the label noise's amplitude (0: clean labels)"""


def unused_fields(config: dict[str, Any]) -> set[str]:
    """The fields with no effect on a label-noise trial: the net's (unused_net_fields), and the noise
    frequency k where there is no noise (amplitude 0): one run at beta = 0 serves every k."""
    return unused_net_fields(config) | ({"noise_frequency"} if config["noise_amplitude"] == 0 else set())
