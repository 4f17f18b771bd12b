"""What one trial computes: plain torch, no Ray. One experiment per module, shared pieces once.

`REGISTRY` is the only way a sweep file names a workload: nothing is imported by a name taken
from a spec, so a sweep file cannot run arbitrary code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch

from workloads import learning_order, manifold_classification, manifold_regression, perturbation
from workloads.training import Checkpointing, DivergedError, Problem, WorkloadResult

__all__ = ["REGISTRY", "Checkpointing", "DivergedError", "Problem", "Workload", "WorkloadResult"]


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
    prepare: Callable[[Any, torch.device, Checkpointing | None], bytes] | None = None
    """Computes state that several trials share (e.g. a trained theta*); `run` then takes it as `prepared`."""
    prepared_fields: tuple[str, ...] = ()
    """The config fields the prepared state depends on: trials equal on these share one."""
    problem: Callable[[Any, torch.device], Problem] | None = None
    """The trial as a training Problem, so several can be packed into one stacked model."""
    pack_fields: tuple[str, ...] = ("width", "depth", "n_points", "steps", "learning_rate", "eval_every_steps")
    """Config fields trials must share to be packed: the net's shape, the data's and the schedule."""


def _manifold_classification_constraints(config: manifold_classification.ManifoldClassificationConfig) -> dict[str, str]:
    # k >= N/2 aliases onto a lower frequency on the N-point grid: the label pattern would not be
    # the frequency the heatmap says it is.
    if 2 * config.k >= config.n_points:
        return {"k": f"k={config.k} aliases on a grid of n_points={config.n_points}: need k < n_points/2"}
    return {}


def _frequencies_below_nyquist(config: Any) -> dict[str, str]:
    # A frequency at or past N/2 aliases: its spectrum reading would be of another frequency.
    too_high = [k for k in config.frequencies if 2 * k >= config.n_points]
    if too_high:
        return {"frequencies": f"{too_high} alias on a grid of n_points={config.n_points}: need every k < n_points/2"}
    return {}


def _learning_order_constraints(config: learning_order.LearningOrderConfig) -> dict[str, str]:
    # Functions are stored at eval steps only: a step off that grid would silently store nothing.
    off_grid = [s for s in config.function_steps if s % config.eval_every_steps and s != config.steps]
    if off_grid:
        return {"function_steps": f"{off_grid} are not multiples of eval_every_steps={config.eval_every_steps}"}
    return _frequencies_below_nyquist(config)


REGISTRY: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            name="manifold_classification",
            summary="Experiment 3: binarised sine on gamma_L, accuracy per (k, L)",
            config_type=manifold_classification.ManifoldClassificationConfig,
            run=manifold_classification.run,
            problem=manifold_classification.problem,
            figure="figure4",
            constraints=_manifold_classification_constraints,
        ),
        Workload(
            name="learning_order",
            summary="Experiment 1: sum of sinusoids on [0, 1), which frequencies are learned first",
            config_type=learning_order.LearningOrderConfig,
            run=learning_order.run,
            problem=learning_order.problem,
            figure="figure1",
            constraints=_learning_order_constraints,
        ),
        Workload(
            name="perturbation",
            summary="Experiment 4: perturb a trained theta* by delta, which frequencies survive",
            config_type=perturbation.PerturbationConfig,
            run=perturbation.run,
            figure="figure5",
            constraints=_frequencies_below_nyquist,
            prepare=perturbation.prepare,
            prepared_fields=perturbation.PREPARED_FIELDS,
        ),
        Workload(
            name="manifold_regression",
            summary="Experiment 2: sum of sinusoids on gamma_L, spectrum evolution per L",
            config_type=manifold_regression.ManifoldRegressionConfig,
            run=manifold_regression.run,
            problem=manifold_regression.problem,
            figure="figure3",
            constraints=_frequencies_below_nyquist,
        ),
    )
}
