"""Reading a store: a table's committed rows as a DataFrame, through whatever a writer does
meanwhile, the part files that cannot be read, and which trials are stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from orchestrator.store.files import check_store
from orchestrator.store.parts import ChangedWhileRead, as_seen, check_schema, committed_parts, committed_trials_parts, damaged_flushes, stored_sweeps
from results_schema import TRIALS, StoreError, Table, TrialStatus

READ_ATTEMPTS = 5
"""Times a reader lists and reads again when a part changed under it (a compaction, a rerun
trial's row dropped) before it calls the store damaged."""


def stored_trial_ids(
    store: Path, status: TrialStatus | None = TrialStatus.OK, sweeps: list[str] | None = None, skip: Collection[Path] = (),
) -> set[str]:
    """Ids of the trials committed to the store (only those with `status`, unless None), leaving
    out the trials parts in `skip`."""
    trials = read_table(store, TRIALS, columns=["trial_id", "status"], sweeps=sweeps, skip=skip)
    if status is not None:
        trials = trials[trials["status"] == status.value]
    return set(trials["trial_id"])


def finished_trial_ids(store: Path, sweeps: list[str] | None = None, skip: Collection[Path] = ()) -> set[str]:
    """Trials a relaunch need not run: stored ok, or diverged (it would diverge again), leaving
    out the trials parts in `skip`.

    A crashed trial (its worker died, or its rows could not be written) is not finished.
    """
    trials = read_table(store, TRIALS, columns=["trial_id", "status"], sweeps=sweeps, skip=skip)
    return set(trials.loc[trials["status"].map(lambda s: TrialStatus(s).finished), "trial_id"])


def damaged_parts(store: Path, declared: Mapping[str, Table]) -> list[tuple[Path, str]]:
    """The trials part of every committed flush that a reader cannot trust (a part of it missing,
    unreadable or of another schema: parts.damaged_flushes, every part read whole), with the
    reason. A flush that a compaction or a rerun trial changed while it was checked is checked
    again, not reported."""
    bad = []
    for sweep in stored_sweeps(store):
        for attempt in range(READ_ATTEMPTS):
            damaged = damaged_flushes(store, sweep, declared, thorough=True)
            try:
                flushes = committed_trials_parts(store, sweep)
            except (StoreError, ChangedWhileRead):
                flushes = {}
            if set(damaged) <= set(flushes) or attempt == READ_ATTEMPTS - 1:
                break  # every flush found damaged is still committed: damaged, not changing
            time.sleep(0.01 * 2**attempt)
        bad += [(as_seen(flushes[flush]) if flush in flushes else Path(store, TRIALS.name, sweep, f"{flush}.parquet"), why)
                for flush, why in sorted(damaged.items())]
    return bad


def _read_parts(files: list[Path], table: Table, columns: list[str] | None) -> pa.Table:
    """Read `files` in one dataset scan (about 3x faster than a loop over them), or, when that
    fails, one by one to name the part that does: raising ChangedWhileRead for one that is gone."""
    if not files:
        return table.schema.empty_table().select(columns or table.column_names)
    for path in files:
        check_schema(path, table)
    try:
        return pads.dataset([str(p) for p in files], schema=table.schema, format="parquet").to_table(columns=columns)
    except (pa.ArrowException, OSError):
        pass
    frames = []
    for path in files:
        try:
            frames.append(pq.read_table(path, columns=columns, schema=table.schema))
        except FileNotFoundError:
            raise ChangedWhileRead() from None
        except (pa.ArrowException, OSError) as error:
            raise StoreError(f"{as_seen(path)}: unreadable part file ({error})") from None
    return pa.concat_tables(frames)


def read_table(
    store: Path, table: Table, columns: list[str] | None = None, sweeps: list[str] | None = None, skip: Collection[Path] = (),
) -> pd.DataFrame:
    """One table of the store (or of some of its sweeps), read with its declared schema, as a
    DataFrame; empty, with the declared columns, if nothing is stored.

    Only committed flushes are read (see write_flush), so a reader never sees half a trial, nor a
    row a compaction is replacing. A part that changes between listing and reading (a compaction
    deleted it, a rerun trial's row was dropped from it) makes the reader list again; a part that
    stays unreadable raises StoreError naming it. `skip` names parts to leave out (status counts
    what it can beside the ones it reports unreadable).
    """
    check_store(store)
    name = table.name
    skip = set(skip)

    def listing() -> list[Path]:
        return [path for path in committed_parts(store, name, sweeps) if path not in skip and as_seen(path) not in skip]

    for attempt in range(READ_ATTEMPTS):
        if attempt:
            time.sleep(0.01 * 2 ** (attempt - 1))
        files: list[Path] | None = None
        try:
            files = listing()
            return _read_parts(files, table, columns).to_pandas()
        except ChangedWhileRead:
            continue
        except StoreError:
            # The same parts as before, and one of them unreadable: damaged, not changing.
            if attempt == READ_ATTEMPTS - 1 or (files is not None and _listing_or_none(listing) == files):
                raise
    raise StoreError(f"{store}: table '{name}' kept changing while it was read; read it again")


def _listing_or_none(listing: Callable[[], list[Path]]) -> list[Path] | None:
    try:
        return listing()
    except (ChangedWhileRead, StoreError):
        return None


