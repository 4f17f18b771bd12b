"""What one trial computes: plain torch, no Ray. One experiment per module, shared pieces once.

`REGISTRY` is the only way a sweep file names a workload: nothing is imported by a name taken
from a spec, so a sweep file cannot run arbitrary code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from workloads import manifold_classification
from workloads.training import Checkpointing, DivergedError, WorkloadResult

__all__ = ["REGISTRY", "Checkpointing", "DivergedError", "Workload", "WorkloadResult"]


@dataclass(frozen=True)
class Workload:
    """An experiment as the orchestrator sees it: a config type, a run function, its constraints."""

    name: str
    summary: str
    config_type: type
    run: Callable[[Any, torch.device, Checkpointing | None], WorkloadResult]
    figure: str
    constraints: Callable[[Any], dict[str, str]] = lambda config: {}
    """Cross-field checks: returns {field: why} for each field that makes the config impossible."""


def _manifold_classification_constraints(config: manifold_classification.ManifoldClassificationConfig) -> dict[str, str]:
    # k >= N/2 aliases onto a lower frequency on the N-point grid: the label pattern would not be
    # the frequency the heatmap says it is.
    if 2 * config.k >= config.n_points:
        return {"k": f"k={config.k} aliases on a grid of n_points={config.n_points}: need k < n_points/2"}
    return {}


REGISTRY: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            name="manifold_classification",
            summary="Experiment 3: binarised sine on gamma_L, accuracy per (k, L)",
            config_type=manifold_classification.ManifoldClassificationConfig,
            run=manifold_classification.run,
            figure="figure4",
            constraints=_manifold_classification_constraints,
        ),
    )
}
