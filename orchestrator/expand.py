"""Grid expansion: a validated SweepSpec -> the list of trials it means. Pure, no I/O, no Ray.

    grid {k: [50, 100], L: [0, 20]}, seeds [0, 1]  ->  8 trials

Seeds are the outermost loop, so a sweep cut short still covers the whole grid with its first
seeds. Each trial's id is a hash of its fully resolved config, so the same point always has
the same id, on any machine and in any order of the grid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.spec import SweepSpec


@dataclass(frozen=True)
class TrialSpec:
    """One trial, fully resolved: everything needed to run it again, on any worker."""

    trial_id: str
    """'<sweep>-<config_hash>'"""
    sweep: str
    experiment: str
    config_hash: str
    """sha256 (16 hex digits) of {experiment, config}"""
    config: dict[str, Any]
    """every field of the experiment's config, defaults included, seed included"""
    prepared_id: str | None = None
    """the shared state this trial needs first (see preparation_of), None if its workload has none"""
    stage: str = "trial"
    """'trial', or 'prepare' for the job that computes a prepared state (its trial_id is the prepared_id)"""

    def to_dict(self) -> dict[str, Any]:
        """Plain data, e.g. to travel inside a Ray Tune config."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialSpec:
        """The inverse of to_dict."""
        return cls(**data)


def config_hash(experiment: str, config: dict[str, Any]) -> str:
    """A stable hash of a resolved config: key order and list/tuple spelling do not matter."""
    canonical = json.dumps({"experiment": experiment, "config": config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _jsonable(value: Any) -> Any:
    return [_jsonable(v) for v in value] if isinstance(value, (list, tuple)) else value


def resolve_config(spec: SweepSpec, point: dict[str, Any], seed: int) -> dict[str, Any]:
    """The full config of one grid point: experiment defaults <- spec.workload <- point <- seed."""
    defaults = {f.name: f.default for f in dataclasses.fields(spec.workload_entry.config_type)}
    merged = {**defaults, **spec.workload, **point, "seed": seed}
    return {key: _jsonable(merged[key]) for key in defaults}


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, in the order they are written; {} is one empty point."""
    axes = list(grid)
    return [dict(zip(axes, values)) for values in itertools.product(*(grid[a] for a in axes))]


def _prepared_config(prepared_fields: tuple[str, ...], config: dict[str, Any]) -> dict[str, Any]:
    return {field: config[field] for field in prepared_fields}


def expand(spec: SweepSpec) -> list[TrialSpec]:
    """Every trial of the sweep: grid points x seeds, seeds outermost."""
    prepared_fields = spec.workload_entry.prepared_fields
    trials = []
    for seed in spec.seeds:
        for point in grid_points(spec.grid):
            config = resolve_config(spec, point, seed)
            digest = config_hash(spec.experiment, config)
            prepared_id = None
            if prepared_fields:
                prepared_id = f"prepared-{config_hash(spec.experiment + '/prepare', _prepared_config(prepared_fields, config))}"
            trials.append(TrialSpec(f"{spec.name}-{digest}", spec.name, spec.experiment, digest, config, prepared_id))
    return trials


def preparations(spec: SweepSpec, trials: list[TrialSpec]) -> list[TrialSpec]:
    """The distinct prepared states `trials` need, each as a job to run before them.

    Content-addressed: the id hashes the experiment and the prepared fields alone, so trials that
    differ only elsewhere (delta) share one, whatever sweep they belong to.
    """
    jobs: dict[str, TrialSpec] = {}
    for trial in trials:
        if trial.prepared_id and trial.prepared_id not in jobs:
            config = _prepared_config(spec.workload_entry.prepared_fields, trial.config)
            jobs[trial.prepared_id] = TrialSpec(
                trial.prepared_id, trial.sweep, trial.experiment, trial.prepared_id.removeprefix("prepared-"), config, stage="prepare"
            )
    return list(jobs.values())
