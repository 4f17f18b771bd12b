"""What one trial computes: plain torch, no Ray. One folder per experiment, the pieces they share
beside them (nets, signals, spectrum, training, config, claims, plots, tables).

`REGISTRY` is the only way a sweep file names an experiment: nothing is imported by a name taken
from a spec, so a sweep file cannot run arbitrary code. An experiment is added by its folder (see
workloads/experiment.py) and its name in EXPERIMENTS; the CLI, validation, the store, figures and
`verify` find it here. The declarations are torch-free: an experiment's trial code, and torch with
it, is imported only where its trials run.
"""

from __future__ import annotations

from importlib import import_module

from results_schema import GENERIC_TABLES, Table
from workloads.experiment import Experiment

__all__ = ["EXPERIMENTS", "REGISTRY", "TABLES", "Experiment"]

EXPERIMENTS = (
    "learning_order",  # Experiment 1, Figures 1 and 6
    "manifold_regression",  # Experiment 2, Figure 3
    "manifold_classification",  # Experiment 3, Figure 4
    "perturbation",  # Experiment 4, Figure 5
    "decision_boundary",  # Figure 2
    "noise_regression",  # Experiment 5, Figure 7
    "knn",  # Figure 10
    "label_noise",  # the ICML paper's label noise on real data (slides: a-d)
    "kernel_spectrum",  # the ICML paper's spectrum in a kernel's eigenbasis on real data
)

REGISTRY: dict[str, Experiment] = {name: import_module(f"workloads.{name}").EXPERIMENT for name in EXPERIMENTS}


def _tables() -> dict[str, Table]:
    tables: dict[str, Table] = {}
    for table in (*GENERIC_TABLES, *(t for e in REGISTRY.values() for t in (e.table, *e.tables))):
        if tables.setdefault(table.name, table) != table:
            raise ValueError(f"two declarations of table '{table.name}' differ: an experiment's table names must be its own")
    return tables


TABLES: dict[str, Table] = _tables()
"""Every table a store may hold: the generic ones, each experiment's own, and those they write."""
