"""Repairing a store after a crash: what a cut-off writer left (parts.clean_uncommitted) and the
flushes a reader can no longer trust (parts.damaged_flushes), set aside whole so their trials
count as missing and the next launch runs them again.

Every launch of any sweep, and every compaction, repairs the whole store: each sweep whose lock it
can take at once (a sweep being launched right now is its own launch's to repair), whether or not
it has work of its own. So a crash is never left for a particular command to find.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.lock import SweepLocked, sweep_lock
from orchestrator.paths import inside
from orchestrator.store.files import staging_path
from orchestrator.store.parts import TMP_PREFIX, clean_uncommitted, damaged_flushes, set_aside, stored_sweeps
from results_schema import DAMAGED_DIR, GENERATIONS_DIR, STAGING_DIR, SWEEP_NAME_PATTERN, Table

STALE_TMP_S = 3600.0
"""A temporary file of the store's own (the marker, a prepared state) is removed once this old:
any writer of it has long finished or died."""


@dataclass
class Repair:
    """What repairing one sweep did."""

    sweep: str
    files_removed: int = 0
    """files a cut-off writer left: parts of flushes that never committed, parts a compaction
    replaced, temporary files (a compaction it finished counts none)"""
    set_aside: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    """flush id -> (why, the ids of the trials it held), of the flushes moved to _damaged/"""

    def lines(self, store: Path) -> Iterator[str]:
        """What the repair did, for the user: nothing for a sweep that needed none."""
        if self.files_removed:
            yield f"repaired sweep '{self.sweep}': removed {self.files_removed} file(s) a cut-off write or compaction left"
        for flush, (why, trial_ids) in sorted(self.set_aside.items()):
            yield (f"repaired sweep '{self.sweep}': set flush {flush} aside in {store / DAMAGED_DIR / self.sweep / flush} ({why}); "
                   f"its {len(trial_ids) or 'unknown number of'} trial(s) count as missing and run on the sweep's next launch")


def repair_sweep(
    store: Path, sweep: str, declared: Mapping[str, Table], thorough: bool = False, known_damaged: dict[str, str] | None = None,
) -> Repair:
    """Repair one sweep (its lock held by the caller): finish or remove what a crash left, then set
    aside every committed flush with a part missing, unreadable or of another schema (`thorough`:
    reading every part whole; `known_damaged`: found already, under the same lock)."""
    repair = Repair(sweep, files_removed=clean_uncommitted(store, sweep, declared))
    damaged = known_damaged if known_damaged is not None else damaged_flushes(store, sweep, declared, thorough)
    for flush, why in damaged.items():
        repair.set_aside[flush] = (why, set_aside(store, sweep, flush, declared))
    return repair


def repair_store(
    store: Path, declared: Mapping[str, Table], held: str | None = None, known_damaged: dict[str, str] | None = None,
) -> list[Repair]:
    """Repair every sweep of the store: `held`, whose lock the caller holds, thoroughly; each other
    one under its own lock, taken without waiting (a sweep being launched is skipped: its launch
    repairs it). Also removes the store's own temporary files once stale."""
    repairs = []
    names = set(stored_sweeps(store)) | ({held} if held else set())
    staging = store / STAGING_DIR
    for traces in (staging, store / GENERATIONS_DIR):  # a sweep whose only trace is a compaction's staging or a generation
        if traces.is_dir():
            names |= {p.name for p in inside(store, traces).iterdir() if p.is_dir() and re.fullmatch(SWEEP_NAME_PATTERN, p.name)}
    for sweep in sorted(names):
        if sweep == held:
            repairs.append(repair_sweep(store, sweep, declared, thorough=True, known_damaged=known_damaged))
            continue
        try:
            with sweep_lock(store, sweep):
                repairs.append(repair_sweep(store, sweep, declared))
        except SweepLocked:
            continue
    if staging.is_dir():
        for tmp in staging_path(store).glob(f"{TMP_PREFIX}*"):
            if time.time() - tmp.stat().st_mtime > STALE_TMP_S:
                tmp.unlink(missing_ok=True)
    return repairs
