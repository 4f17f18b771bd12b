"""The driver's side of a launch: take the rows and prepared states the batches report, and write
them to the store in flushes. No Ray here: ray_backend.py forwards Tune's callbacks to a
StoreWriter, and tests drive one directly.

Rows arrive as the batches report them and wait in a buffer; when the buffer has waited
`flush_every_s` (or sooner, when it holds FLUSH_MAX_ROWS rows) it goes to the store as one part
file per table (store.write_flush) and is dropped. So a finished trial reaches every reader of
the store within about `flush_every_s` whatever the launch's length, and the launch merges its
parts when it ends (store.compact). The driver holds at most a flush's worth of rows, whatever
the sweep's size. Only the driver writes the store; workers never need its disk.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from orchestrator.job import Stage
from orchestrator.plan import Batch, TrialSpec
from orchestrator.preparation import PreparedResult
from orchestrator.progress import ProgressLine
from orchestrator.rows import concat_tables, unfinished_trial
from orchestrator.store import write_flush, write_prepared
from results_schema import TRIALS, TrialStatus
from workloads import TABLES

FLUSH_MAX_ROWS = 1_000_000
"""Rows (all tables together) past which the buffer is flushed before its time: bounds memory."""


@dataclass
class FitCounts:
    """What happened to the batches of one Tune run, for the launch's report."""

    batches: int = 0
    """Ray Tune trials run (one per batch)"""
    retries: int = 0
    """batches Tune restarted after a crash"""
    duplicates: int = 0
    """trials reported a second time (by a retried batch) and dropped"""
    flushes: int = 0
    """flushes written to the store"""
    unstored: int = 0
    """trials whose rows could not be written (recorded crashed where a row could still be)"""
    storage_error: str | None = None
    """the first error that kept rows from the store (a full disk, a read-only store), one line"""

    def __iadd__(self, other: FitCounts) -> FitCounts:
        self.batches += other.batches
        self.retries += other.retries
        self.duplicates += other.duplicates
        self.flushes += other.flushes
        self.unstored += other.unstored
        self.storage_error = self.storage_error or other.storage_error
        return self


@dataclass
class FlushPolicy:
    """When the buffer goes to the store (see the module docstring)."""

    every_s: float = 60.0
    max_rows: int = FLUSH_MAX_ROWS

    def due(self, waited_s: float) -> bool:
        """Whether rows that have waited `waited_s` go out now (a buffer past max_rows goes at
        once, as it fills: StoreWriter.take_rows)."""
        return waited_s >= self.every_s


class StoreWriter:
    """Writes the reports of `batches` to `store`, as the batches of one Tune run send them.

    `superseded` maps the trials this launch reruns (crashed or diverged ones) to the part files
    holding their old rows, which each flush removes as it commits the new ones.
    """

    def __init__(
        self, store: Path, sweep: str, batches: list[Batch], superseded: dict[str, Path], progress: ProgressLine, policy: FlushPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.sweep, self.batches, self.superseded, self.progress, self.policy = store, sweep, batches, superseded, progress, policy
        self.clock = clock
        self.buffer: list[dict[str, pa.Table]] = []
        self.buffered_rows = 0
        self.buffered_since: float | None = None
        self.received: set[str] = set()
        """every trial (and prepared state) reported in this run, to drop a second report"""
        self.statuses: Counter[TrialStatus] = Counter()
        self.running = 0
        self.counts = FitCounts(batches=len(batches))
        self.prepared: dict[str, PreparedResult] = {}
        """how each preparation job of this run ended"""

    def batch_started(self) -> None:
        """A batch began (or began again, after a retry)."""
        self.running += 1
        self._draw()

    def batch_ended(self) -> None:
        """A batch finished, or failed past its retries (batch_failed follows)."""
        self.running -= 1
        self._draw()

    def batch_retried(self) -> None:
        """Tune restarts a crashed batch from its checkpoint."""
        self.counts.retries += 1

    def take_prepared(self, results: list[PreparedResult]) -> None:
        """Store the prepared states a batch reported (once each), and note the ones that failed."""
        for result in results:
            if result.prepared_id in self.received:
                continue
            self.received.add(result.prepared_id)
            self.prepared[result.prepared_id] = result
            if result.data is not None:
                write_prepared(self.store, result.prepared_id, result.data, {"wall_s": result.wall_s, "device": result.device})
                self.statuses[TrialStatus.OK] += 1
        self._draw()

    def take_rows(self, tables: dict[str, pa.Table]) -> None:
        """Buffer the rows of trials a batch reported, less those reported before (a retried batch
        reports some again: the first report counts)."""
        trial_ids = tables[TRIALS.name].column("trial_id").to_pylist()
        new = [t for t in trial_ids if t not in self.received]
        self.counts.duplicates += len(trial_ids) - len(new)
        if new:
            if len(new) < len(trial_ids):
                keep = pa.array(new, pa.string())
                tables = {name: table.filter(pc.is_in(table.column("trial_id"), keep)) for name, table in tables.items()}
            self.received.update(new)
            self.statuses.update(TrialStatus(s) for s in tables[TRIALS.name].column("status").to_pylist())
            self.buffer.append(tables)
            self.buffered_rows += sum(table.num_rows for table in tables.values())
            if self.buffered_since is None:
                self.buffered_since = self.clock()
            if self.buffered_rows >= self.policy.max_rows:
                self.flush()
        self._draw()

    def batch_failed(self, index: int, error: str) -> None:
        """Batch `index`'s worker died past its retries (`error`, a traceback or a line): its jobs
        not yet reported crashed."""
        why = error.strip().splitlines()[-1]
        for job in self.batches[index].trials:
            if job.trial_id in self.received:
                continue
            if job.stage is Stage.PREPARE:
                self.received.add(job.trial_id)
                self.prepared[job.trial_id] = PreparedResult(job.trial_id, status=TrialStatus.CRASHED, error=why)
            else:
                self.take_rows(unfinished_trial(job, error))
        self._draw()

    def tick(self) -> None:
        """Called between Tune's steps: flush if the buffer's time has come; the progress line's
        held-back change or heartbeat."""
        self.progress.refresh()
        if self.buffered_since is None:
            return
        if self.policy.due(self.clock() - self.buffered_since):
            self.flush()

    def flush(self) -> None:
        """Write the buffer to the store as one flush and empty it."""
        if not self.buffer:
            return
        results, self.buffer, self.buffered_rows, self.buffered_since = self.buffer, [], 0, None
        try:
            self._write(concat_tables(results))
        except OSError:
            # A full disk, a vanished mount, a part too large: store the trials one by one, so
            # only those whose rows cannot be written fail, and the sweep goes on.
            for tables in results:
                for one in _split_by_trial(tables):
                    try:
                        self._write(one)
                    except OSError as error:
                        self.counts.unstored += 1
                        self.counts.storage_error = self.counts.storage_error or os_error_line(error)
                        self._store_crashed(one, f"could not store results: {os_error_line(error)}")

    def _draw(self) -> None:
        ok = self.statuses[TrialStatus.OK]
        self.progress.update(ok, self.running, len(self.received) - ok)

    def _write(self, tables: dict[str, pa.Table]) -> None:
        trial_ids = tables[TRIALS.name].column("trial_id").to_pylist()
        old: dict[Path, set[str]] = {}
        for trial_id in trial_ids:
            if trial_id in self.superseded:
                old.setdefault(self.superseded[trial_id], set()).add(trial_id)
        renamed: dict[str, str] = {}
        write_flush(self.store, self.sweep, tables, TABLES, old, renamed)
        # Forgotten only once committed: a flush that fails part-way is retried trial by trial,
        # and each retry must still remove the old row (else a trial is stored twice).
        for trial_id in trial_ids:
            self.superseded.pop(trial_id, None)
        # A rewritten part has a new name: the reruns still to come find their old rows there.
        for trial_id, part in self.superseded.items():
            if part.name in renamed:
                self.superseded[trial_id] = part.with_name(renamed[part.name])
        self.counts.flushes += 1

    def _store_crashed(self, tables: dict[str, pa.Table], error: str) -> None:
        row = tables[TRIALS.name].to_pylist()[0]
        self.statuses[TrialStatus(row["status"])] -= 1
        self.statuses[TrialStatus.CRASHED] += 1
        config = json.loads(row["config_json"])
        trial = TrialSpec(row["trial_id"], row["sweep"], row["experiment"], row["config_hash"], config, row["prepared_id"])
        with contextlib.suppress(OSError):  # nothing can be written: the trial stays missing, and runs on the next launch
            self._write(unfinished_trial(trial, error))


def os_error_line(error: OSError) -> str:
    """An OSError as one line that names the file and the cause: "No space left on device: PATH"."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _split_by_trial(tables: dict[str, pa.Table]) -> list[dict[str, pa.Table]]:
    """A report's tables, one trial at a time."""
    out = []
    for trial_id in tables[TRIALS.name].column("trial_id").to_pylist():
        mask = {name: pc.equal(table.column("trial_id"), trial_id) for name, table in tables.items()}
        out.append({name: table.filter(mask[name]) for name, table in tables.items()})
    return out
