"""Experiment 3: classification is easier on a more complex manifold (Figure 4).

A net sees the points gamma_L(z_i) and learns the label y_i = 1[sin(2 pi k z_i + phi) > threshold].
The paper's claims (C3a, C3b): training accuracy falls as k grows and rises as L grows.
"""

from __future__ import annotations

import pyarrow as pa

from results_schema import CURVES, Column
from workloads.experiment import Experiment
from workloads.manifold_classification.config import ManifoldClassificationConfig


def constraints(config: ManifoldClassificationConfig) -> dict[str, str]:
    """No frequency that aliases on the grid."""
    # k >= N/2 aliases onto a lower frequency on the N-point grid: the label pattern would not be
    # the frequency the heatmap says it is.
    if 2 * config.k >= config.n_points:
        return {"k": f"k={config.k} aliases on a grid of n_points={config.n_points}: need k < n_points/2"}
    return {}


EXPERIMENT = Experiment(
    name="manifold_classification",
    summary="Experiment 3: binarised sine on gamma_L, accuracy per (k, L)",
    config=ManifoldClassificationConfig,
    columns=(
        Column("accuracy", pa.float64(), "final training accuracy"),
        Column("baseline_accuracy", pa.float64(), "accuracy of always predicting the majority class of the trial's labels"),
    ),
    tables=(CURVES,),
    constraints=constraints,
    input_dim=2,
    figures=("Figure 4",),
)
