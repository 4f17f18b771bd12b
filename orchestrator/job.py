"""A job of a batch: a trial, or the preparation of a state trials share, fully resolved, so any
worker can run it again from this alone."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Stage(StrEnum):
    """What a job of a batch computes."""

    PREPARE = "prepare"
    """a prepared state (the job's trial_id is its prepared_id)"""
    TRIAL = "trial"
    """a trial's rows"""


@dataclass(frozen=True)
class TrialSpec:
    """One trial, fully resolved: everything needed to run it again, on any worker."""

    trial_id: str
    """'<sweep>-<config_hash>'"""
    sweep: str
    experiment: str
    config_hash: str
    """sha256 (16 hex digits) of {experiment, its version, config}"""
    config: dict[str, Any]
    """every field of the experiment's config, defaults included, seed included"""
    prepared_id: str | None = None
    """the shared state this trial needs first (preparation.py), None if its experiment has none"""
    stage: Stage = Stage.TRIAL
    """TRIAL, or PREPARE for the job that computes a prepared state (its trial_id is the prepared_id)"""
