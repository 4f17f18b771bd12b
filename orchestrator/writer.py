"""The driver's side of a launch: the Tune callback that takes the batches' reports and writes
them to the store in flushes.

Rows arrive as the batches report them and wait in a buffer; when the buffer has waited its
interval (or sooner, when it holds FLUSH_MAX_ROWS rows) it goes to the store as one part file per
table (store.write_flush) and is dropped. The interval is `flush_every_s`, or `flush_growth` times
the launch's time so far if that is longer: a launch of ten hours writes tens of flushes, so the
store stays a few files per table without merging parts under a reader (store.compact). The
driver holds at most a flush's worth of rows, whatever the sweep's size. Only the driver writes
the store; workers never need its disk.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from orchestrator.plan import Batch, TrialSpec
from orchestrator.progress import ProgressLine
from orchestrator.rows import concat_tables, tables_from_bytes, unfinished_trial
from orchestrator.store import write_flush, write_prepared
from orchestrator.trainable import PREPARED_KEY, ROWS_KEY
from results_schema import TRIALS, TrialStatus

FLUSH_MAX_ROWS = 1_000_000
"""Rows (all tables together) past which the buffer is flushed before its time: bounds memory."""


def store_writer(
    store: Path, sweep: str, batches: list[Batch], superseded: dict[str, Path], progress: ProgressLine, flush_every_s: float,
    flush_growth: float = 0.0,
) -> Any:
    """A Tune callback that writes the rows of `batches` to `store` (see the module docstring).

    `superseded` maps the trials this launch reruns (crashed or diverged ones) to the part files
    holding their old rows, which each flush removes as it commits the new ones.
    """
    from ray import tune

    class StoreWriter(tune.Callback):
        """Runs in the driver process, so the driver alone writes the store."""

        def __init__(self) -> None:
            self.buffer: list[dict[str, pa.Table]] = []
            self.buffered_rows = 0
            self.buffered_since: float | None = None
            self.started = time.monotonic()
            self.received: set[str] = set()
            """every trial (and prepared state) reported in this launch, to drop a second report"""
            self.statuses: Counter[TrialStatus] = Counter()
            self.duplicates = self.retries = self.running = self.flushes = 0
            self.prepared_errors: dict[str, tuple[TrialStatus, str]] = {}

        def _draw(self) -> None:
            progress.update(self.statuses[TrialStatus.OK], self.running, len(self.received) - self.statuses[TrialStatus.OK])

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.running += 1
            self._draw()

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            # Popped: Tune keeps each trial's last result, and rows are the store's, not Tune's.
            for prepared_id, outcome in (result.pop(PREPARED_KEY, None) or {}).items():
                if prepared_id in self.received:
                    continue
                self.received.add(prepared_id)
                if "data" in outcome:
                    write_prepared(store, prepared_id, outcome["data"])
                    self.statuses[TrialStatus.OK] += 1
                else:
                    self.prepared_errors[prepared_id] = (TrialStatus(outcome["status"]), outcome["error"])
            rows = result.pop(ROWS_KEY, None)
            if rows:
                self._take(tables_from_bytes(rows))
            self._draw()

        def _take(self, tables: dict[str, pa.Table]) -> None:
            trial_ids = tables[TRIALS.name].column("trial_id").to_pylist()
            new = [t for t in trial_ids if t not in self.received]
            self.duplicates += len(trial_ids) - len(new)
            if not new:
                return
            if len(new) < len(trial_ids):  # a retried batch reported some trials again: keep the first report
                keep = pa.array(new, pa.string())
                tables = {name: table.filter(pc.is_in(table.column("trial_id"), keep)) for name, table in tables.items()}
            self.received.update(new)
            self.statuses.update(TrialStatus(s) for s in tables[TRIALS.name].column("status").to_pylist())
            self.buffer.append(tables)
            self.buffered_rows += sum(table.num_rows for table in tables.values())
            self.buffered_since = self.buffered_since or time.monotonic()
            if self.buffered_rows >= FLUSH_MAX_ROWS:
                self.flush()

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.running -= 1
            self._draw()

        def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.retries += 1

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            """A batch whose worker died past its retries: its trials not yet reported crashed."""
            error = trial.get_error() or "the batch's worker failed"
            self.running -= 1
            for job in batches[trial.config["batch"]].trials:
                if job.trial_id in self.received:
                    continue
                if job.stage == "prepare":
                    self.received.add(job.trial_id)
                    self.prepared_errors[job.trial_id] = (TrialStatus.CRASHED, str(error).strip().splitlines()[-1])
                else:
                    self._take(unfinished_trial(job, str(error)))
            self._draw()

        def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
            now = time.monotonic()
            if self.buffered_since is not None and now - self.buffered_since >= max(flush_every_s, flush_growth * (now - self.started)):
                self.flush()

        def on_experiment_end(self, trials: list, **info: Any) -> None:
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
                            self._store_crashed(one, f"could not store results: {error}")

        def _write(self, tables: dict[str, pa.Table]) -> None:
            trial_ids = tables[TRIALS.name].column("trial_id").to_pylist()
            old: dict[Path, set[str]] = {}
            for trial_id in trial_ids:
                if trial_id in superseded:
                    old.setdefault(superseded[trial_id], set()).add(trial_id)
            write_flush(store, sweep, tables, old)
            # Forgotten only once committed: a flush that fails part-way is retried trial by trial,
            # and each retry must still remove the old row (else a trial is stored twice).
            for trial_id in trial_ids:
                superseded.pop(trial_id, None)
            self.flushes += 1

        def _store_crashed(self, tables: dict[str, pa.Table], error: str) -> None:
            row = tables[TRIALS.name].to_pylist()[0]
            self.statuses[TrialStatus(row["status"])] -= 1
            self.statuses[TrialStatus.CRASHED] += 1
            config = json.loads(row["config_json"])
            trial = TrialSpec(row["trial_id"], row["sweep"], row["experiment"], row["config_hash"], config, row["prepared_id"])
            with contextlib.suppress(OSError):  # nothing can be written: the trial stays missing, and runs on the next launch
                self._write(unfinished_trial(trial, error))

    return StoreWriter()


def _split_by_trial(tables: dict[str, pa.Table]) -> list[dict[str, pa.Table]]:
    """A report's tables, one trial at a time."""
    out = []
    for trial_id in tables[TRIALS.name].column("trial_id").to_pylist():
        mask = {name: pc.equal(table.column("trial_id"), trial_id) for name, table in tables.items()}
        out.append({name: table.filter(mask[name]) for name, table in tables.items()})
    return out
