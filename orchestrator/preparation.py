"""Prepared states: what some trials need computed once before they run (theta* of Experiment 4,
the autoencoders of Experiment 5), shared by every trial whose prepared fields agree.

A preparation runs as a job of its own (job.TrialSpec with stage Stage.PREPARE), through the
same batches as trials, and
its outcome is a `PreparedResult`: the state's bytes, or why it could not be computed. The
launcher runs the `missing_jobs` of every sweep it launches, then `settle`s each: states the store
already holds are not computed again (their ids hash the experiment and the prepared fields
alone), and trials whose state failed are stored as failed with its reason, never run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.job import Stage, TrialSpec
from orchestrator.plan import prepared_config
from orchestrator.rows import concat_tables, unfinished_trial
from orchestrator.store import prepared_ids, read_prepared, superseded_rows, write_flush
from results_schema import TrialStatus
from workloads import TABLES

if TYPE_CHECKING:
    from orchestrator.spec import SweepSpec


@dataclass(frozen=True)
class PreparedResult:
    """How a preparation job ended: its state's bytes, or the status and reason it failed."""

    prepared_id: str
    data: bytes | None = None
    status: TrialStatus = TrialStatus.OK
    error: str = ""
    wall_s: float | None = None
    """seconds computing the state took, where it was computed"""
    device: str | None = None
    """the device it was computed on"""

    def to_report(self) -> dict[str, Any]:
        """As plain data, to travel in a Tune result."""
        return {"prepared_id": self.prepared_id, "data": self.data, "status": self.status.value, "error": self.error,
                "wall_s": self.wall_s, "device": self.device}

    @classmethod
    def from_report(cls, report: dict[str, Any]) -> PreparedResult:
        """The inverse of to_report."""
        return cls(report["prepared_id"], report["data"], TrialStatus(report["status"]), report["error"], report.get("wall_s"),
                   report.get("device"))


def preparation_jobs(spec: SweepSpec, trials: list[TrialSpec]) -> list[TrialSpec]:
    """The distinct prepared states `trials` need, each as a job (stage PREPARE) to run before them.

    A job's config holds only the prepared fields, so trials that differ elsewhere (delta) share one.
    """
    fields = spec.experiment_entry.prepared_fields
    jobs: dict[str, TrialSpec] = {}
    for trial in trials:
        if trial.prepared_id and trial.prepared_id not in jobs:
            jobs[trial.prepared_id] = dataclasses.replace(
                trial, trial_id=trial.prepared_id, config_hash=trial.prepared_id.removeprefix("prepared-"),
                config=prepared_config(fields, trial.config), prepared_id=None, stage=Stage.PREPARE,
            )
    return list(jobs.values())


def missing_jobs(spec: SweepSpec, trials: list[TrialSpec], store: Path) -> list[TrialSpec]:
    """The preparation jobs `trials` need whose state the store does not hold yet."""
    stored = prepared_ids(store)
    return [job for job in preparation_jobs(spec, trials) if job.trial_id not in stored]


def settle(spec: SweepSpec, trials: list[TrialSpec], store: Path, outcomes: dict[str, PreparedResult]) -> tuple[list[TrialSpec], dict[str, bytes]]:
    """After the preparations ran (`outcomes`: how each ended): the trials that can run and the
    states they need, by id. The others (their state failed) are stored here as failed, with the
    state's status and reason."""
    ready = prepared_ids(store)
    blocked = [t for t in trials if t.prepared_id and t.prepared_id not in ready]
    if blocked:
        rows = []
        for trial in blocked:
            failed = outcomes.get(trial.prepared_id, PreparedResult(trial.prepared_id, status=TrialStatus.CRASHED, error="it was not computed"))
            rows.append(unfinished_trial(trial, f"its prepared state {trial.prepared_id} failed: {failed.error}", failed.status))
        write_flush(store, spec.name, concat_tables(rows), TABLES, superseded_rows(store, spec.name, [t.trial_id for t in blocked]))
    runnable = [t for t in trials if not t.prepared_id or t.prepared_id in ready]
    return runnable, {pid: read_prepared(store, pid) for pid in {t.prepared_id for t in runnable if t.prepared_id}}
