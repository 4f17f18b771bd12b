"""A sweep's rows as part files: flushes written all-or-nothing, rows superseded by a rerun,
what a crash left cleaned up, and small parts merged.

Trials are written in flushes: the rows of every trial finished since the last flush go to one
part file per table, `<table>/<sweep>/<flush>.parquet`, so the number of files grows with the
flushes, not with the trials. Each part is written under a hidden temporary name and renamed into
place (files.replace_atomically), and the trials part goes last: a flush, and every trial in it,
is stored exactly when its trials part exists. A trial stored again (a crashed trial run once
more) has its old row removed just before the new one commits, so the store never holds a trial
twice. A launch only ever adds parts (or rewrites one without a superseded row); `compact` merges
a sweep's small parts on demand, staged under names plain readers skip.

The tables are the caller's: functions that check rows or visit every table take the declared
tables ({name: results_schema.Table}), so storage knows no experiment.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from orchestrator.store.files import fsync, replace_atomically
from results_schema import TRIALS, StoreError, Table, TrialStatus

COMPACTED_PREFIX = "compact-"
"""Part files written by compact: their trials part names the flushes it replaces."""
STAGED_PREFIX = "_"
"""A merged part waits under this prefix, which pandas and pyarrow skip, until the parts it
replaces are gone (compact): so a plain reader never reads a row twice."""
REPLACES_KEY = b"sbsweep.replaces"


def new_flush_id() -> str:
    """A fresh name for a flush's part files: time-ordered (so a listing reads oldest first), and
    random enough that two writers never pick the same one."""
    return f"{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:8]}"


def sweep_dir(store: Path, table: str, sweep: str) -> Path:
    """The folder of `sweep`'s part files in `table`."""
    return store / table / sweep


def _visible_parts(directory: Path) -> list[Path]:
    """Part files a plain reader sees in a folder, oldest flush first (hidden ones are not data)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))


def all_parts(directory: Path) -> list[Path]:
    """The published parts of a folder and the staged ones of a compaction (sbsweep's reader reads
    both: a staged merged part is committed once its trials part exists)."""
    staged = sorted(directory.glob(f"{STAGED_PREFIX}{COMPACTED_PREFIX}*.parquet")) if directory.is_dir() else []
    return sorted(_visible_parts(directory) + staged, key=_flush_of)


def _flush_of(part: Path) -> str:
    """The flush a part belongs to, whether staged or published."""
    return part.stem.removeprefix(STAGED_PREFIX)


def _replaced_by(part: Path) -> set[str]:
    """The flushes a compacted trials part replaces (see compact); empty for an ordinary part."""
    if not _flush_of(part).startswith(COMPACTED_PREFIX):
        return set()
    try:
        metadata = pq.read_metadata(part).metadata or {}
    except FileNotFoundError:
        raise ChangedWhileRead() from None
    except (pa.ArrowException, OSError) as error:
        raise StoreError(f"{part}: unreadable part file ({error})") from None
    return set(json.loads(metadata.get(REPLACES_KEY, b"[]")))


class ChangedWhileRead(Exception):
    """A part a reader listed was gone (or rewritten) when it came to read it: list again."""


def committed_flushes(store: Path, sweep: str) -> set[str]:
    """The flushes of `sweep` that committed: those with a trials part, less any a compaction
    replaced (its merged copy is committed and the old parts are on their way out)."""
    parts = all_parts(sweep_dir(store, TRIALS.name, sweep))
    replaced = set().union(*(_replaced_by(p) for p in parts))
    return {_flush_of(p) for p in parts} - replaced


def stored_sweeps(store: Path) -> list[str]:
    """The sweeps with a folder in the trials table, by name."""
    directory = store / TRIALS.name
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) if directory.is_dir() else []


def committed_parts(store: Path, table: str, sweeps: list[str] | None = None) -> list[Path]:
    """The part files of `table` that committed flushes hold, of every sweep or of `sweeps`."""
    parts = []
    for sweep in stored_sweeps(store) if sweeps is None else sweeps:
        committed = committed_flushes(store, sweep)
        parts += [p for p in all_parts(sweep_dir(store, table, sweep)) if _flush_of(p) in committed]
    return parts


def _check_flush(tables: dict[str, pa.Table], declared: Mapping[str, Table]) -> list[str]:
    """The trial ids of a flush's tables, after checking them against the `declared` tables."""
    if TRIALS.name not in tables:
        raise StoreError("a flush needs its trials rows: they commit it")
    for name, table in tables.items():
        if name not in declared:
            raise StoreError(f"no table '{name}' in this store's schema (tables: {', '.join(declared)})")
        if not table.schema.equals(declared[name].schema):
            raise StoreError(f"table '{name}' does not match results_schema: {table.schema} != {declared[name].schema}")
    trials = tables[TRIALS.name]
    trial_ids = trials.column("trial_id").to_pylist()
    if len(set(trial_ids)) != len(trial_ids):
        raise StoreError("a flush holds each trial once")
    ok = {t for t, status in zip(trial_ids, trials.column("status").to_pylist()) if status == TrialStatus.OK.value}
    for name, table in tables.items():
        strays = set(table.column("trial_id").to_pylist()) - ok if name != TRIALS.name else set()
        if strays:
            raise StoreError(f"table '{name}' has rows of trials that did not end ok in this flush: {sorted(strays)[:3]}")
    return trial_ids


def write_flush(
    store: Path, sweep: str, tables: dict[str, pa.Table], declared: Mapping[str, Table], superseded: dict[Path, set[str]] | None = None,
) -> str:
    """Store the rows of several trials of `sweep` as one part file per table (each checked against
    its `declared` schema); return the flush id.

    The other tables' parts are written first and the trials part last: it commits the flush. If
    writing fails before the commit, the parts already written are removed again.
    `superseded` names stored trials rows these trials replace (a crashed trial run again), by
    part file: they are removed just before the commit, so a crash in between leaves those trials
    missing (a relaunch runs them), never stored twice.
    """
    _check_flush(tables, declared)
    flush = new_flush_id()
    written: list[Path] = []
    try:
        for name in sorted(tables, key=lambda n: n == TRIALS.name):
            if name == TRIALS.name:
                for part, trial_ids in (superseded or {}).items():
                    _drop_rows(part, trial_ids)
            if tables[name].num_rows or name == TRIALS.name:
                directory = sweep_dir(store, name, sweep)
                directory.mkdir(parents=True, exist_ok=True)
                replace_atomically(directory / f"{flush}.parquet", lambda tmp, table=tables[name]: pq.write_table(table, tmp))
                written.append(directory / f"{flush}.parquet")
    except BaseException:
        # A flush that fails before its commit takes its parts back, so a plain pandas reader
        # never keeps seeing rows of trials the trials table does not hold (a retry writes them anew).
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return flush


def _drop_rows(part: Path, trial_ids: set[str]) -> None:
    """Rewrite a part without the rows of `trial_ids` (atomically), or delete it if none is left
    (gone already: a retried flush whose first try removed it)."""
    if not part.exists():
        return
    table = pq.read_table(part)
    keep = table.filter(pc.invert(pc.is_in(table.column("trial_id"), pa.array(sorted(trial_ids), pa.string()))))
    if keep.num_rows == table.num_rows:
        return
    if keep.num_rows == 0:
        part.unlink()
    else:
        replace_atomically(part, lambda tmp: pq.write_table(keep, tmp))


def superseded_rows(store: Path, sweep: str, trial_ids: set[str] | list[str]) -> dict[Path, set[str]]:
    """The committed trials parts of `sweep` that hold rows of `trial_ids`, with those ids."""
    parts = committed_parts(store, TRIALS.name, [sweep])
    if not parts or not trial_ids:
        return {}
    wanted = pa.array(sorted(set(trial_ids)), pa.string())
    found = pads.dataset([str(p) for p in parts], schema=TRIALS.schema, format="parquet").to_table(
        columns=["trial_id", "__filename"], filter=pc.is_in(pc.field("trial_id"), wanted)
    )
    out: dict[Path, set[str]] = {}
    for trial_id, filename in zip(found.column("trial_id").to_pylist(), found.column("__filename").to_pylist()):
        out.setdefault(Path(filename), set()).add(trial_id)
    return out


def write_trial(store: Path, tables: dict[str, pa.Table], declared: Mapping[str, Table]) -> None:
    """Store one trial's tables as a flush of its own, replacing any row the trial already has.

    For tests, benchmarks and tools that write a trial at a time; a launch writes many per flush.
    """
    trials = tables[TRIALS.name]
    if trials.num_rows != 1:
        raise StoreError(f"write_trial takes one trial's rows, got {trials.num_rows} trials rows")
    sweep, trial_id = trials.column("sweep")[0].as_py(), trials.column("trial_id")[0].as_py()
    write_flush(store, sweep, tables, declared, superseded_rows(store, sweep, [trial_id]))


def clean_uncommitted(store: Path, sweep: str, declared: Mapping[str, Table]) -> int:
    """Finish what a writer of `sweep` cut off left behind: publish a compaction whose merged
    trials part was staged, and delete the parts of flushes that never committed, parts a
    compaction replaced, and temporary files, in every table `declared`. Returns the files deleted.

    Only safe while nothing writes this sweep: a launch and compact call it holding its lock.
    """
    trials_dir = sweep_dir(store, TRIALS.name, sweep)
    parts = all_parts(trials_dir)
    replaced = set().union(*(_replaced_by(p) for p in parts))
    committed = {_flush_of(p) for p in parts} - replaced
    deleted = 0
    for table in sorted(declared, key=lambda n: n != TRIALS.name):  # replaced trials parts go first
        directory = sweep_dir(store, table, sweep)
        for path in all_parts(directory):
            if _flush_of(path) in replaced or (table != TRIALS.name and _flush_of(path) not in committed):
                path.unlink(missing_ok=True)
                deleted += 1
        for path in directory.glob(".tmp-*") if directory.is_dir() else []:
            path.unlink(missing_ok=True)
            deleted += 1
    # Only now, with no replaced part left, may a merged part become visible to plain readers;
    # the trials part goes last, as in a flush.
    for table in sorted(declared, key=lambda n: n == TRIALS.name):
        for path in all_parts(sweep_dir(store, table, sweep)):
            if path.name.startswith(STAGED_PREFIX):
                os.replace(path, path.with_name(path.name.removeprefix(STAGED_PREFIX)))
                fsync(path.parent)
    return deleted


SMALL_FLUSH_BYTES = 64 * 2**20
"""compact merges the flushes whose parts hold less than this together; bigger ones stay as they are."""


def compact(store: Path, sweep: str, declared: Mapping[str, Table]) -> tuple[int, int]:
    """Merge the small flushes of `sweep` into one (in every table `declared`); return its trials
    parts before and after.

    The merged parts are written under staged names that pandas and pyarrow skip, the trials one
    last: it names the flushes it replaces, so from the moment it exists sbsweep's reader reads
    the merged rows and not the old ones. Then the old parts are deleted, and only then are the
    merged ones renamed into view: a plain reader may briefly miss the merged trials, but never
    reads one twice. A crash in between is finished by the next launch or compaction. Rows are
    streamed, so memory stays bounded whatever the sweep's size. Only safe while nothing writes
    this sweep (the caller holds its lock).
    """
    clean_uncommitted(store, sweep, declared)
    flushes = sorted(committed_flushes(store, sweep))
    sizes = {f: sum(p.stat().st_size for t in declared for p in [sweep_dir(store, t, sweep) / f"{f}.parquet"] if p.exists()) for f in flushes}
    small = [f for f in flushes if sizes[f] < SMALL_FLUSH_BYTES]
    if len(small) < 2:
        return len(flushes), len(flushes)
    merged = f"{STAGED_PREFIX}{COMPACTED_PREFIX}{new_flush_id()}"
    for name in sorted(declared, key=lambda n: n == TRIALS.name):
        parts = [sweep_dir(store, name, sweep) / f"{f}.parquet" for f in small]
        parts = [str(p) for p in parts if p.exists()]
        if not parts:
            continue
        schema = declared[name].schema
        if name == TRIALS.name:
            schema = schema.with_metadata({REPLACES_KEY: json.dumps(small)})
        batches = pads.dataset(parts, schema=declared[name].schema, format="parquet").to_batches()

        def write(tmp: Path, schema: pa.Schema = schema, batches: Any = batches) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)

        replace_atomically(sweep_dir(store, name, sweep) / f"{merged}.parquet", write)
    clean_uncommitted(store, sweep, declared)
    return len(flushes), len(flushes) - len(small) + 1


