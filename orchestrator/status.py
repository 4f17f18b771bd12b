"""What a store holds, per sweep: how many trials are done, failed, or still to run."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.plan import expand
from orchestrator.spec import RESOLVED_KEY, VERSION_KEY, SpecError, validate_spec
from orchestrator.store import check_store, read_table, saved_sweep
from results_schema import SWEEPS_DIR, TRIALS, TrialStatus


@dataclass(frozen=True)
class SweepStatus:
    """One sweep's standing in a store."""

    sweep: str
    experiment: str
    expected: int | None
    """trials in the sweep's last launched spec (None if that spec cannot be read)"""
    counts: dict[TrialStatus, int]
    """stored trials by status"""
    failures: list[tuple[str, TrialStatus, str]] = field(default_factory=list)
    """(trial_id, status, error) of each stored trial that did not end ok"""

    @property
    def missing(self) -> int | None:
        """Trials of the spec with no row yet: running, pending, or cut off by an interruption."""
        return None if self.expected is None else max(0, self.expected - sum(self.counts.values()))


def sweep_statuses(store: Path, skip: Collection[Path] = ()) -> list[SweepStatus]:
    """The status of every sweep the store has a spec or a trial of, by name, leaving out the part
    files in `skip` (unreadable ones: their trials count as missing)."""
    check_store(store)
    trials = read_table(store, TRIALS.name, columns=["trial_id", "sweep", "experiment", "status", "error"], skip=skip)
    names = sorted(set(trials["sweep"]) | {p.stem for p in (store / SWEEPS_DIR).glob("*.json")})
    statuses = []
    for name in names:
        raw = saved_sweep(store, name)
        version = (raw or {}).get(VERSION_KEY, 1)
        raw = {k: v for k, v in raw.items() if k not in (RESOLVED_KEY, VERSION_KEY)} if raw else raw  # what the store adds to the spec as written
        try:
            spec = validate_spec(raw, str(store / SWEEPS_DIR / f"{name}.json")) if raw else None
            # Trials computed by another version of the experiment have other ids: count what is stored.
            expected_ids = {t.trial_id for t in expand(spec)} if spec and spec.experiment_entry.version == version else None
        except SpecError:
            expected_ids = None  # e.g. an experiment this version no longer has: count what is stored
        rows = trials[trials["sweep"] == name]
        if expected_ids is not None:
            rows = rows[rows["trial_id"].isin(expected_ids)]
        failed = rows[rows["status"] != TrialStatus.OK.value]
        experiment = (raw or {}).get("experiment") or (rows["experiment"].iloc[0] if len(rows) else "?")
        statuses.append(
            SweepStatus(
                sweep=name,
                experiment=str(experiment),
                expected=None if expected_ids is None else len(expected_ids),
                counts={status: int((rows["status"] == status.value).sum()) for status in TrialStatus if status.value != "not stored"},
                failures=[(t, TrialStatus(s), e) for t, s, e in zip(failed["trial_id"], failed["status"], failed["error"].fillna(""))],
            )
        )
    return statuses
