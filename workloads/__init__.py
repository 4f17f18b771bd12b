"""What one trial computes: plain torch, no Ray. One experiment per module, shared pieces once.

`REGISTRY` is the only way a sweep file names a workload: nothing is imported by a name taken
from a spec, so a sweep file cannot run arbitrary code. The registry and the configs
(workloads.configs) are torch-free: an experiment's module, and torch with it, is imported only
when one of its trials runs, so the CLI and the driver start fast.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from workloads import configs

__all__ = ["REGISTRY", "Workload"]


@dataclass(frozen=True)
class Workload:
    """An experiment as the orchestrator sees it: a config type, its constraints, and (imported on
    first use) the functions that run it.

    The module `workloads.<name>` defines `run(config, device, checkpointing)`, and may define
    `problem(config, device)` (a trainable experiment, which can be packed and compiled) and
    `prepare(config, device, checkpointing)` (shared state computed once for several trials).
    """

    name: str
    summary: str
    config_type: type
    figure: str
    constraints: Callable[[Any], dict[str, str]] = lambda config: {}
    """Cross-field checks: returns {field: why} for each field that makes the config impossible."""
    prepared_fields: tuple[str, ...] = ()
    """The config fields the prepared state depends on (non-empty iff the module has `prepare`):
    trials equal on these share one."""
    trains_one_net: bool = True
    """Whether the module has `problem`: one net trained by the shared loop, so trials can be
    packed into one stacked model and compiled."""
    pack_fields: tuple[str, ...] = ("width", "depth", "n_points", "steps", "learning_rate", "eval_every_steps")
    """Config fields trials must share to be packed: the net's shape, the data's and the schedule."""
    seconds: Callable[[dict[str, Any]], float] = lambda config: configs.TRIAL_OVERHEAD_S
    """An estimate of one trial's seconds on one CPU core, from its resolved config (a dict): sizes
    the batches the orchestrator schedules, so only its proportions matter."""

    @property
    def module(self) -> ModuleType:
        """The experiment's module (imports torch on first use)."""
        return importlib.import_module(f"workloads.{self.name}")

    @property
    def run(self) -> Callable[..., Any]:
        """run(config, device, checkpointing=None[, prepared]) -> WorkloadResult"""
        return self.module.run

    @property
    def problem(self) -> Callable[..., Any] | None:
        """problem(config, device) -> training.Problem, or None for an experiment that is not one net's training."""
        return self.module.problem if self.trains_one_net else None

    @property
    def prepare(self) -> Callable[..., bytes] | None:
        """prepare(config, device, checkpointing=None) -> bytes of the shared state, or None."""
        return self.module.prepare if self.prepared_fields else None


def _manifold_classification_constraints(config: configs.ManifoldClassificationConfig) -> dict[str, str]:
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


def _learning_order_constraints(config: configs.LearningOrderConfig) -> dict[str, str]:
    # Functions are stored at eval steps only: a step off that grid would silently store nothing.
    off_grid = [s for s in config.function_steps if s % config.eval_every_steps and s != config.steps]
    if off_grid:
        return {"function_steps": f"{off_grid} are not multiples of eval_every_steps={config.eval_every_steps}"}
    return _frequencies_below_nyquist(config)


def _training_seconds(in_features: int) -> Callable[[dict[str, Any]], float]:
    def seconds(config: dict[str, Any]) -> float:
        return configs.training_seconds(in_features, config["width"], config["depth"], config["n_points"], config["steps"])

    return seconds


def _perturbation_seconds(config: dict[str, Any]) -> float:
    # A trial evaluates theta* + delta * direction for every direction: one forward pass each.
    flops = 2.0 * config["directions"] * config["n_points"] * configs.mlp_parameters(1, config["width"], config["depth"])
    return configs.TRIAL_OVERHEAD_S + flops / configs.CPU_FLOPS_PER_S


REGISTRY: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            name="manifold_classification",
            summary="Experiment 3: binarised sine on gamma_L, accuracy per (k, L)",
            config_type=configs.ManifoldClassificationConfig,
            figure="figure4",
            constraints=_manifold_classification_constraints,
            seconds=_training_seconds(in_features=2),
        ),
        Workload(
            name="learning_order",
            summary="Experiment 1: sum of sinusoids on [0, 1), which frequencies are learned first",
            config_type=configs.LearningOrderConfig,
            figure="figure1",
            constraints=_learning_order_constraints,
            seconds=_training_seconds(in_features=1),
        ),
        Workload(
            name="perturbation",
            summary="Experiment 4: perturb a trained theta* by delta, which frequencies survive",
            config_type=configs.PerturbationConfig,
            figure="figure5",
            constraints=_frequencies_below_nyquist,
            prepared_fields=configs.PERTURBATION_PREPARED_FIELDS,
            trains_one_net=False,
            # a trial perturbs; the preparation (its config has no directions) trains theta*
            seconds=lambda config: _perturbation_seconds(config) if "directions" in config else _training_seconds(1)(config),
        ),
        Workload(
            name="manifold_regression",
            summary="Experiment 2: sum of sinusoids on gamma_L, spectrum evolution per L",
            config_type=configs.ManifoldRegressionConfig,
            figure="figure3",
            constraints=_frequencies_below_nyquist,
            seconds=_training_seconds(in_features=2),
        ),
    )
}
