"""Experiment 1: lower frequencies are learned first (Figures 1 and 6).

A net on the 1-D latent grid z_i = i/N fits lambda(z) = sum_i A_i sin(2 pi k_i z + phi_i) with
MSE. Every eval it records the normalized magnitude of its function's spectrum at each k_i, the
spectral norm of each weight matrix, and at a few steps the whole learned function. The paper's
claim (C1): the k_i are learned in order of frequency, whatever their amplitudes.
"""

from __future__ import annotations

import pyarrow as pa

from results_schema import CURVES, Column, Table
from workloads.config import frequencies_below_nyquist
from workloads.experiment import Experiment
from workloads.learning_order.config import LearningOrderConfig
from workloads.tables import SPECTRA

LAYER_NORMS = Table(
    name="layer_norms",
    doc="One row per (trial, eval step, layer): the spectral norm of each weight matrix (Experiment 1).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done"),
        Column("layer", pa.int64(), "Linear layer index, 0 = input layer, last = output layer"),
        Column("spectral_norm", pa.float64(), "largest singular value of the weight matrix (power iteration)"),
    ),
)

FUNCTIONS = Table(
    name="functions",
    doc="The learned function and the target on the whole latent grid at a few steps (Figure 6).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done"),
        Column("z", pa.float64(), "latent grid point z_i = i/N"),
        Column("prediction", pa.float64(), "the net's output at z_i"),
        Column("target", pa.float64(), "the target lambda(z_i)"),
    ),
)


def constraints(config: LearningOrderConfig) -> dict[str, str]:
    """Figure 6's steps on the eval grid, and no frequency that aliases."""
    # Functions are stored at eval steps only: a step off that grid would silently store nothing.
    off_grid = [s for s in config.function_steps if s % config.eval_every_steps and s != config.steps]
    if off_grid:
        return {"function_steps": f"{off_grid} are not multiples of eval_every_steps={config.eval_every_steps}"}
    return frequencies_below_nyquist(config)


EXPERIMENT = Experiment(
    name="learning_order",
    summary="Experiment 1: sum of sinusoids on [0, 1), which frequencies are learned first",
    config=LearningOrderConfig,
    tables=(CURVES, SPECTRA, LAYER_NORMS, FUNCTIONS),
    constraints=constraints,
    input_dim=1,
    figures=("Figure 1", "Figure 6"),
)
