"""Figure 2: two nets identical up to their initialisation agree on the manifold, not off it.

Each trial trains one net on Experiment 3's task at (k, L) = (200, 20) and, at its last step,
reads its logit over a box around the manifold and on the training points. Two trials of one
sweep that differ only in their seed are the paper's two nets. The claims (C5a, C5b): their
classes agree on the training points (both fit the manifold) and differ over a good part of the
box (off the manifold, nothing constrains them).
"""

from __future__ import annotations

import pyarrow as pa

from results_schema import CURVES, Column, Table
from workloads.decision_boundary.config import DecisionBoundaryConfig
from workloads.experiment import Experiment
from workloads.manifold_classification import EXPERIMENT as EXPERIMENT_3

DECISION_MAPS = Table(
    name="decision_maps",
    doc="The trained net's logit over a box around the manifold and on its training points (Figure 2).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("region", pa.string(), "'box': a point of the box's grid; 'manifold': a training point gamma_L(z_i)"),
        Column("x", pa.float64(), "first input coordinate"),
        Column("y", pa.float64(), "second input coordinate"),
        Column("logit", pa.float64(), "the net's output there: class 1 where it is positive, confidence |logit|"),
        Column("label", pa.int64(), "the training label of a manifold point; null for a box point"),
    ),
)

EXPERIMENT = Experiment(
    name="decision_boundary",
    summary="Figure 2: nets that differ only in their seed, on Experiment 3's (k, L) = (200, 20)",
    config=DecisionBoundaryConfig,
    columns=EXPERIMENT_3.columns,
    tables=(CURVES, DECISION_MAPS),
    constraints=EXPERIMENT_3.constraints,
    input_dim=2,
    figures=("Figure 2",),
)
