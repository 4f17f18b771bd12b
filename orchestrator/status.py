"""Where a sweep stands in a store: how many of its trials are done, failed, or still to run.
One answer for `launch` (its report), `status` and `verify`."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from orchestrator.plan import expand
from orchestrator.spec import RESOLVED_KEY, VERSION_KEY, SpecError, validate_spec
from orchestrator.store import check_store, read_table, saved_sweep
from orchestrator.store.sweeps import store_folder
from results_schema import SWEEP_NAME_PATTERN, SWEEPS_DIR, TRIALS, TrialStatus

STANDING_COLUMNS = ["trial_id", "sweep", "experiment", "status", "error"]
"""The trials columns a sweep's standing is computed from (read_trials)."""


@dataclass(frozen=True)
class SweepStatus:
    """One sweep's standing in a store."""

    sweep: str
    experiment: str
    expected: int | None
    """trials of the sweep's spec (None if that spec cannot be read: then only what is stored counts)"""
    counts: dict[TrialStatus, int]
    """stored trials by status (every status a trials row can hold, zeros included)"""
    failures: list[tuple[str, TrialStatus, str]] = field(default_factory=list)
    """(trial_id, status, error) of each stored trial that did not end ok"""

    @property
    def missing(self) -> int | None:
        """Trials of the spec with no row yet: running, pending, or cut off by an interruption."""
        return None if self.expected is None else max(0, self.expected - sum(self.counts.values()))

    @property
    def failed(self) -> int:
        """Stored trials that did not end ok."""
        return sum(count for status, count in self.counts.items() if status is not TrialStatus.OK)

    @property
    def statuses(self) -> dict[TrialStatus, int]:
        """The sweep's trials by status, NOT_STORED counting those with no row; statuses no trial has are left out."""
        out = {status: count for status, count in self.counts.items() if count}
        if self.missing:
            out[TrialStatus.NOT_STORED] = self.missing
        return out


def read_trials(store: Path, sweeps: list[str] | None = None, skip: Collection[Path] = ()) -> pd.DataFrame:
    """The trials rows a standing needs (STANDING_COLUMNS), of every sweep or of `sweeps`."""
    return read_table(store, TRIALS, columns=STANDING_COLUMNS, sweeps=sweeps, skip=skip)


def sweep_standing(trials: pd.DataFrame, sweep: str, expected_ids: Collection[str] | None = None, experiment: str | None = None) -> SweepStatus:
    """Where `sweep` stands, from trials rows (read_trials): counts by status and the failures,
    of the trials in `expected_ids` if given (a spec's trials), else of every stored one."""
    rows = trials[trials["sweep"] == sweep]
    if expected_ids is not None:
        rows = rows[rows["trial_id"].isin(set(expected_ids))]
    statuses = rows["status"].map(TrialStatus)
    failed = rows[statuses != TrialStatus.OK]
    return SweepStatus(
        sweep=sweep,
        experiment=experiment or (str(rows["experiment"].iloc[0]) if len(rows) else "?"),
        expected=None if expected_ids is None else len(set(expected_ids)),
        counts={status: int((statuses == status).sum()) for status in TrialStatus.storable()},
        failures=[(t, TrialStatus(s), e) for t, s, e in zip(failed["trial_id"], failed["status"], failed["error"].fillna(""))],
    )


def sweep_statuses(store: Path, skip: Collection[Path] = ()) -> list[SweepStatus]:
    """The standing of every sweep the store has a spec or a trial of, by name, against its last
    launched spec, leaving out the part files in `skip` (unreadable ones: their trials count as
    missing)."""
    check_store(store)
    trials = read_trials(store, skip=skip)
    specs = {p.stem for p in store_folder(store, SWEEPS_DIR).glob("*.json") if re.fullmatch(SWEEP_NAME_PATTERN, p.stem)}
    names = sorted(set(trials["sweep"]) | specs)
    return [sweep_standing(trials, name, *_expected(store, name)) for name in names]


def _expected(store: Path, name: str) -> tuple[set[str] | None, str | None]:
    """The trial ids of sweep `name`'s saved spec and its experiment (None where it cannot say)."""
    raw = saved_sweep(store, name)
    if not raw:
        return None, None
    version = raw.get(VERSION_KEY, 1)
    # The spec less what the store adds, and less how it ran (resources, execution: no trial id
    # depends on them, and a key an earlier sbsweep had there must not hide the count).
    written = {k: v for k, v in raw.items() if k not in (RESOLVED_KEY, VERSION_KEY, "resources", "execution")}
    try:
        spec = validate_spec(written, str(store / SWEEPS_DIR / f"{name}.json"))
    except SpecError:
        return None, raw.get("experiment")  # e.g. an experiment this version no longer has: count what is stored
    # Trials computed by another version of the experiment have other ids: count what is stored.
    return ({t.trial_id for t in expand(spec)} if spec.experiment_entry.version == version else None), spec.experiment
