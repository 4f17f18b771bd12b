"""What a sweep's trials are, and how they are scheduled: in units, and units in batches. Pure:
no Ray, no I/O.

    grid {k: [50, 100], L: [0, 20]}, seeds [0, 1]  ->  8 trials

Seeds are the outermost loop, so a sweep cut short still covers the whole grid with its first
seeds. Each trial's id is a hash of its fully resolved config, so the same point always has the
same id, on any machine and in any order of the grid.

A unit is what one worker trains at a time: one trial, or a pack of G trials of one net shape
trained as one stacked model (`execution.pack`). A batch is a list of units run one after another
by one Ray Tune trial. Tune's controller does work per Tune trial that grows with their number,
and each one costs a scheduling round trip, an actor call and a folder; so a sweep of 10^5 trials
is a few hundred batches, not 10^5 Tune trials:

    2000 trials of about 30 ms, 2 slots  ->  batches of about 25 s of work, then smaller ones

Batch sizes come from an estimate of each trial's seconds (the experiment's `seconds`): each
batch is worth about TARGET_BATCH_S, never so little that the sweep needs more than MAX_BATCHES,
and towards the end of the sweep the batches shrink (guided self-scheduling: each takes at most
1/(2 x slots) of the work left), so the last ones end together. `execution.batch_size` fixes the
number of trials per batch instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from orchestrator import grid as grids
from orchestrator.job import Stage, TrialSpec
from orchestrator.spec import SweepSpec, resolve_config


def config_hash(experiment: str, config: dict[str, Any], version: int) -> str:
    """A stable hash of a resolved config and the version of the experiment's code that computes
    it: key order and list/tuple spelling do not matter."""
    canonical = json.dumps({"experiment": experiment, "version": version, "config": config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def prepared_config(prepared_fields: tuple[str, ...], config: dict[str, Any]) -> dict[str, Any]:
    """The fields of `config` a trial's prepared state depends on: what its id hashes, and its job's config."""
    return {field: config[field] for field in prepared_fields}


def expand(spec: SweepSpec) -> list[TrialSpec]:
    """Every trial of the sweep: grid points x seeds, seeds outermost.

    A trial is what it computes: the fields its experiment leaves unused at a point (a Fourier
    scale without a Fourier encoding, ...) are null in its config and left out of its id, so grid
    points that differ only in them are one trial, listed once (where it first appears), as is a
    point two grids of a union share.
    """
    entry = spec.experiment_entry
    prepared_fields, version = entry.prepared_fields, entry.version
    trials, seen = [], set()
    for seed in spec.seeds:
        for point in grids.points(spec.grid):
            config = entry.applicable(resolve_config(spec, point, seed))
            unused = entry.unused(config)
            digest = config_hash(spec.experiment, {k: v for k, v in config.items() if k not in unused}, version)
            if digest in seen:
                continue
            seen.add(digest)
            prepared_id = None
            if prepared_fields:
                prepared_id = f"prepared-{config_hash(spec.experiment + '/prepare', prepared_config(prepared_fields, config), version)}"
            trials.append(TrialSpec(f"{spec.name}-{digest}", spec.name, spec.experiment, digest, config, prepared_id))
    return trials


def grid_trials(spec: SweepSpec) -> int:
    """How many trials the grid's points make with the seeds before equal trials collapse into one."""
    return grids.size(spec.grid) * len(spec.seeds)


TARGET_BATCH_S = 30.0
"""Estimated seconds of work a batch aims at: long enough that its fixed costs vanish, short
enough that a crash loses little and the last batches of a sweep end close together."""

MAX_BATCHES = 400
"""The most Ray Tune trials a sweep is split into, whatever its size."""

Unit = tuple[TrialSpec, ...]


def unit_id(members: Unit | list[TrialSpec]) -> str:
    """The id of a unit: its trial's id when it runs alone, else '<sweep>-pack-<hash of the
    member ids>', stable so that a relaunch finds the unit's checkpoints."""
    if len(members) == 1:
        return members[0].trial_id
    digest = hashlib.sha256(",".join(t.trial_id for t in members).encode()).hexdigest()[:16]
    return f"{members[0].sweep}-pack-{digest}"


def units(trials: list[TrialSpec], pack: int, pack_fields: tuple[str, ...]) -> list[Unit]:
    """Group trials into units of at most `pack` that agree on `pack_fields` (one net shape, one
    schedule), keeping the trials' order; pack 1 gives one trial per unit."""
    groups: dict[str, list[TrialSpec]] = {}
    for trial in trials:
        key = json.dumps([trial.experiment, trial.stage, {f: trial.config.get(f) for f in pack_fields}], sort_keys=True)
        groups.setdefault(key, []).append(trial)
    return [tuple(members[i : i + pack]) for members in groups.values() for i in range(0, len(members), pack)]


def batches(
    work: list[Unit],
    seconds: Callable[[TrialSpec], float],
    slots: int,
    batch_size: int | None = None,
    target_s: float = TARGET_BATCH_S,
    max_batches: int = MAX_BATCHES,
) -> list[list[Unit]]:
    """Split `work` into batches, in order (see the module docstring).

    `seconds` estimates one trial's work; `slots` is how many batches run at once. With
    `batch_size`, each batch gets that many trials (whole units; the last may have fewer).
    """
    out: list[list[Unit]] = []
    current: list[Unit] = []
    if batch_size is not None:
        for unit in work:
            current.append(unit)
            if sum(map(len, current)) >= batch_size:
                out.append(current)
                current = []
        return out + ([current] if current else [])
    cost = [sum(seconds(t) for t in unit) for unit in work]  # a pack costs at most what its nets cost alone
    remaining = sum(cost)
    floor = remaining / max(1, max_batches - 1)  # each batch but the last is worth this much: <= max_batches
    budget = current_s = 0.0
    for unit, unit_s in zip(work, cost):
        if not current:
            budget = max(min(target_s, remaining / (2 * max(1, slots))), floor)
        current.append(unit)
        current_s += unit_s
        if current_s >= budget:
            out.append(current)
            remaining -= current_s
            current, current_s = [], 0.0
    return out + ([current] if current else [])


@dataclass(frozen=True)
class Batch:
    """One Ray Tune trial's work: units run one after another, and where each can resume."""

    index: int
    units: tuple[Unit, ...]
    resume_from: dict[str, str] = field(default_factory=dict)
    """unit id -> a checkpoint an earlier launch left for it"""

    @property
    def trials(self) -> list[TrialSpec]:
        """Every trial of the batch, in the order they run."""
        return [trial for unit in self.units for trial in unit]

    def to_config(self) -> dict[str, Any]:
        """The batch as a compact Tune config: the config fields its trials share are written
        once, so a sweep of 10^5 trials does not hold 10^5 whole configs in Tune's state."""
        trials = self.trials
        first = trials[0]
        shared = {k: v for k, v in first.config.items() if all(t.config.get(k) == v for t in trials) and all(k in t.config for t in trials)}
        return {
            "index": self.index, "sweep": first.sweep, "experiment": first.experiment, "stage": first.stage.value, "shared": shared,
            "units": [[[t.trial_id, t.config_hash, t.prepared_id, {k: v for k, v in t.config.items() if k not in shared}] for t in unit]
                      for unit in self.units],
            "resume_from": self.resume_from,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Batch:
        """The inverse of to_config."""
        def trial(trial_id: str, config_hash: str, prepared_id: str | None, own: dict[str, Any]) -> TrialSpec:
            merged = {**config["shared"], **own}
            return TrialSpec(trial_id, config["sweep"], config["experiment"], config_hash, merged, prepared_id, Stage(config["stage"]))

        units = tuple(tuple(trial(*member) for member in unit) for unit in config["units"])
        return cls(config["index"], units, dict(config["resume_from"]))


def plan(
    trials: list[TrialSpec],
    seconds: Callable[[TrialSpec], float],
    slots: int,
    pack: int = 1,
    pack_fields: tuple[str, ...] = (),
    batch_size: int | None = None,
    resume_from: dict[str, str] | None = None,
) -> list[Batch]:
    """The batches that run `trials`: units (see `units`) split into batches (see `batches`),
    each with the checkpoints its units may resume from."""
    resume_from = resume_from or {}
    grouped = batches(units(trials, pack, pack_fields), seconds, slots, batch_size)
    return [
        Batch(index, tuple(members), {unit_id(u): resume_from[unit_id(u)] for u in members if unit_id(u) in resume_from})
        for index, members in enumerate(grouped)
    ]
