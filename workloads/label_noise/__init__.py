"""The ICML paper's label-noise experiment (the slides' "Experiment 3 & 4 (Real Data)", panels a-d).

A net fits the binary labels (3 -> -1, 8 -> +1) of real images plus radial noise beta sin(2 pi k
||x||) on the first 80% of the images, and is read on the clean labels of the rest as it trains.
The paper uses MNIST (`dataset: mnist`); scikit-learn's bundled 8x8 digits, the default, run
offline and on a laptop. The claims (C8a, C8b): the
best validation loss grows with the amplitude of low-frequency noise, and hardly with that of
high-frequency noise, which the net fits only later.
"""

from __future__ import annotations

import pyarrow as pa

from results_schema import CURVES, Column, Table
from workloads.experiment import Experiment
from workloads.images import binary_images_constraints, needs_fetch, pixels
from workloads.label_noise.config import LabelNoiseConfig, resolve, unused_fields

VALIDATION_CURVES = Table(
    name="validation_curves",
    doc="One row per (trial, eval step) of the label-noise experiment: the loss on clean labels, held out and trained on.",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done"),
        Column("clean_training_loss", pa.float64(), "MSE of the net on the training images against their clean +-1 labels"),
        Column("validation_loss", pa.float64(), "MSE on the held-out images against their clean +-1 labels"),
        Column("validation_accuracy", pa.float64(), "share of the held-out images whose label's sign the net gets right"),
    ),
)


def constraints(config: LabelNoiseConfig) -> dict[str, str]:
    """The images' checks, and images on both sides of the split."""
    cut = int(config.validation_split * config.n_points)
    if not 0 < cut < config.n_points:
        return {"validation_split": f"{config.validation_split} of n_points={config.n_points} leaves no training or no validation image"}
    return binary_images_constraints(config)


EXPERIMENT = Experiment(
    name="label_noise",
    summary="ICML real data: digits' or MNIST's labels plus radial noise of low or high frequency, validation loss on clean labels",
    config=LabelNoiseConfig,
    unused=unused_fields,
    columns=(
        Column("best_validation_loss", pa.float64(), "the lowest validation loss over the eval steps"),
        Column("best_validation_step", pa.int64(), "the step at which it was reached"),
        Column("final_validation_loss", pa.float64(), "the validation loss at the last step"),
    ),
    tables=(CURVES, VALIDATION_CURVES),
    constraints=constraints,
    input_dim=pixels,
    resolve=resolve,
    data=needs_fetch,
    figures=("the ICML slides' label-noise panels a-d",),
)
