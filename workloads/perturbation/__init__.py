"""Experiment 4: lower frequencies are more robust to perturbing the parameters (Figure 5).

A net is trained once per seed to theta* (the preparation, shared by every delta); a trial
perturbs theta* by delta along 100 random unit directions of parameter space, all evaluated as
one batch, and reads the spectrum of the perturbed functions. The paper's claim (C4): high
frequencies lose their magnitude at smaller delta than low ones.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa

from results_schema import Column, Table
from workloads.config import CPU_FLOPS_PER_S, TRIAL_OVERHEAD_S, frequencies_below_nyquist, mlp_parameters
from workloads.experiment import Experiment
from workloads.perturbation.config import PerturbationConfig

PERTURBATION_SPECTRA = Table(
    name="perturbation_spectra",
    doc="One row per (trial, k) of Experiment 4: the spectrum of theta* + delta * direction over the directions.",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id); its delta is in the perturbation table"),
        Column("delta", pa.float64(), "perturbation size (Euclidean length in parameter space)"),
        Column("k", pa.int64(), "target frequency k_i"),
        Column("amplitude", pa.float64(), "the target's amplitude A_i at k_i"),
        Column("unperturbed_magnitude", pa.float64(), "|F_theta*(k_i)|, the trained net's magnitude"),
        Column("magnitude", pa.float64(), "|F_E(theta)(k_i)|: magnitude of the spectrum averaged over the directions"),
        Column("normalized_magnitude", pa.float64(), "magnitude / unperturbed_magnitude (1 at delta = 0)"),
        Column("mean_magnitude", pa.float64(), "the mean over the directions of each perturbed function's magnitude"),
        Column("normalized_mean_magnitude", pa.float64(), "mean_magnitude / unperturbed_magnitude"),
    ),
)

PERTURBS = ("delta", "directions")
"""The fields of a perturbation; theta* depends on all the others."""


def seconds(config: dict[str, Any]) -> float:
    """A trial evaluates theta* + delta * direction once per direction (its preparation, training
    theta*, is estimated as a trained net's: training_seconds)."""
    flops = 2.0 * config["directions"] * config["n_points"] * mlp_parameters(1, config["width"], config["depth"])
    return TRIAL_OVERHEAD_S + flops / CPU_FLOPS_PER_S


EXPERIMENT = Experiment(
    name="perturbation",
    summary="Experiment 4: perturb a trained theta* by delta, which frequencies survive",
    config=PerturbationConfig,
    tables=(PERTURBATION_SPECTRA,),
    constraints=frequencies_below_nyquist,
    seconds_estimate=seconds,
    trains_one_net=False,
    prepared_fields=tuple(f.name for f in dataclasses.fields(PerturbationConfig) if f.name not in PERTURBS),
    figures=("Figure 5",),
)
