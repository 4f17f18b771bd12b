"""Experiment 2: the same regression on a more complex manifold is easier (Figure 3).

The net sees the points gamma_L(z_i) of a flower-shaped curve with L petals and fits
lambda(z_i) = sum_i sin(2 pi k_i z_i + phi_i) with MSE; the spectrum of f o gamma_L over the latent
grid is read every eval. The paper's claim (C2): the larger L, the sooner high frequencies are
learned and the lower the final loss.
"""

from __future__ import annotations

from results_schema import CURVES
from workloads.config import frequencies_below_nyquist
from workloads.experiment import Experiment
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.tables import SPECTRA

EXPERIMENT = Experiment(
    name="manifold_regression",
    summary="Experiment 2: sum of sinusoids on gamma_L, spectrum evolution per L",
    config=ManifoldRegressionConfig,
    tables=(CURVES, SPECTRA),
    constraints=frequencies_below_nyquist,
    input_dim=2,
    figures=("Figure 3",),
)
