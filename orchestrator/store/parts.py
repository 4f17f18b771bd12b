"""A sweep's rows as part files: flushes written all-or-nothing, rows superseded by a rerun,
what a crash left repaired, damaged flushes set aside, and small parts merged.

Trials are written in flushes: the rows of every trial finished since the last flush go to one
part file per table, `<table>/<sweep>/<flush>.parquet`, so the number of files grows with the
flushes, not with the trials. Each part is written in the store's staging folder
(`_staging/<sweep>/`, outside every table's folder) and renamed into place, and the trials part
goes last: a flush, and every trial in it, is stored exactly when its trials part exists. The
trials part names the other tables the flush wrote (its manifest), so a part that goes missing
later is noticed, not read as fewer rows. A trial stored again (a crashed trial run once more)
has its old row removed just before the new one commits, so the store never holds a trial twice.
`compact` merges a sweep's small parts, staged outside the table folders until the parts they
replace are gone.

The tables are the caller's: functions that check rows or visit every table take the declared
tables ({name: results_schema.Table}), so storage knows no experiment.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from orchestrator.lock import is_locked
from orchestrator.paths import inside, regular_file
from orchestrator.store.files import fsync, replace_atomically, staging_dir, staging_path
from results_schema import DAMAGED_DIR, TRIALS, StoreError, Table, TrialStatus, check_sweep_name

COMPACTED_PREFIX = "compact-"
"""Flushes written by compact: their trials part names the flushes it replaces."""
LEGACY_STAGED_PREFIX = "_"
"""Stores written by sbsweep before staging moved out of the table folders kept a merged part
under this prefix in the table's folder: still recognised, so a compaction cut off then finishes."""
REPLACES_KEY = b"sbsweep.replaces"
MANIFEST_KEY = b"sbsweep.tables"
"""Metadata of a trials part: the other tables its flush wrote a part in (JSON list)."""
TMP_PREFIX = "tmp-"


def new_flush_id() -> str:
    """A fresh name for a flush's part files: time-ordered (so a listing reads oldest first), and
    random enough that two writers never pick the same one."""
    return f"{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:8]}"


def sweep_dir(store: Path, table: str, sweep: str) -> Path:
    """The folder of `sweep`'s part files in `table`, once checked to be a real folder (or none
    yet) inside the store: a sweep name from an argument or a folder name of the store is refused
    unless it is a sweep name, and a link is never followed."""
    path = store / table / check_sweep_name(sweep)
    for link in (store / table, path):
        if link.is_symlink():
            raise StoreError(f"{link}: is a link, which sbsweep never makes in a store; remove it (it points to {link.resolve()})")
    return inside(store, path)


@dataclass(frozen=True)
class PartInfo:
    """What a part file's footer says: its schema and metadata."""

    schema: pa.Schema
    metadata: dict[bytes, bytes]


_INFO: dict[tuple[str, int, int, int], PartInfo] = {}
"""Footers read, by (path, inode, size, mtime): a part never changes in place (it is replaced), so
a footer is read once per version of a file however many times a table is read."""


class ChangedWhileRead(Exception):
    """A part a reader listed was gone (or rewritten) when it came to read it: list again."""


def part_info(path: Path) -> PartInfo:
    """The footer of a part file; ChangedWhileRead if it is gone, StoreError if it is unreadable."""
    try:
        stat = path.stat()
        key = (str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        if key not in _INFO:
            schema = pq.read_schema(path)
            _INFO[key] = PartInfo(schema, dict(schema.metadata or {}))
        return _INFO[key]
    except FileNotFoundError:
        raise ChangedWhileRead() from None
    except (pa.ArrowException, OSError) as error:
        raise StoreError(f"{path}: unreadable part file ({str(error).splitlines()[0]})") from None


def check_schema(path: Path, table: Table) -> None:
    """StoreError unless the part is one of `table`'s: its columns are the table's, with their
    types, in the table's order, and `trial_id` among them. A part may lack columns declared since
    it was written (an experiment's new config field: they read as nulls), never hold others (a
    file of another schema would otherwise be read as rows of nulls)."""
    schema = part_info(path).schema
    declared = {field.name: field.type for field in table.schema}
    found = [(field.name, field.type) for field in schema]
    extra = sorted(name for name, _ in found if name not in declared)
    wrong = sorted(name for name, kind in found if name in declared and declared[name] != kind)
    order = [name for name in table.column_names if name in dict(found)]
    if extra or wrong or "trial_id" not in dict(found) or [name for name, _ in found] != order:
        what = "; ".join(filter(None, [f"columns not in the table: {extra[:3]}" if extra else "",
                                       f"columns of another type: {wrong[:3]}" if wrong else "",
                                       "no trial_id column" if "trial_id" not in dict(found) else ""])) or "its columns in another order"
        raise StoreError(f"{path}: not a part of table '{table.name}' of this schema ({what})")


def _visible_parts(store: Path, directory: Path) -> list[Path]:
    """Part files a plain reader sees in a table's sweep folder, oldest flush first."""
    if not directory.is_dir():
        return []
    parts = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", LEGACY_STAGED_PREFIX)))
    return [regular_file(p) for p in parts]


def _staged_parts(store: Path, table: str, sweep: str) -> list[Path]:
    """A compaction's merged parts of `table`, staged outside the table folder (and, in a store
    written by an earlier sbsweep, under the legacy prefix inside it)."""
    legacy = sweep_dir(store, table, sweep)
    staged = sorted(legacy.glob(f"{LEGACY_STAGED_PREFIX}{COMPACTED_PREFIX}*.parquet")) if legacy.is_dir() else []
    staging = staging_path(store, sweep)
    if staging.is_dir():
        staged += sorted(p for p in staging.glob(f"{COMPACTED_PREFIX}*/{table}.parquet"))
    return [regular_file(p) for p in staged]


def all_parts(store: Path, table: str, sweep: str) -> list[Path]:
    """The published parts of a sweep's table and the staged ones of a compaction (sbsweep's
    reader reads both: a staged merged part is committed once its trials part exists)."""
    return sorted(_visible_parts(store, sweep_dir(store, table, sweep)) + _staged_parts(store, table, sweep), key=flush_of)


def flush_of(part: Path) -> str:
    """The flush a part belongs to, whether published, staged, or staged the legacy way."""
    if part.name.startswith(TMP_PREFIX):
        return ""
    if part.parent.name.startswith(COMPACTED_PREFIX):
        return part.parent.name
    return part.stem.removeprefix(LEGACY_STAGED_PREFIX)


def _is_staged(part: Path) -> bool:
    return part.name.startswith(LEGACY_STAGED_PREFIX) or part.parent.name.startswith(COMPACTED_PREFIX)


def _replaced_by(part: Path) -> set[str]:
    """The flushes a compacted trials part replaces (see compact); empty for an ordinary part, and
    for one whose footer cannot be read: the flushes it merged then count as they were (where
    their parts are still there), and the unreadable part is found damaged like any other."""
    if not flush_of(part).startswith(COMPACTED_PREFIX):
        return set()
    try:
        return set(json.loads(part_info(part).metadata.get(REPLACES_KEY, b"[]")))
    except (StoreError, ValueError):
        return set()


def manifest(trials_part: Path) -> set[str] | None:
    """The other tables the flush of `trials_part` wrote a part in (None: written before flushes
    kept one, so a missing part of it cannot be told from one never written)."""
    listed = part_info(trials_part).metadata.get(MANIFEST_KEY)
    return None if listed is None else set(json.loads(listed))


def committed_trials_parts(store: Path, sweep: str) -> dict[str, Path]:
    """flush id -> trials part, of the flushes of `sweep` that committed: those with a trials part,
    less any a compaction replaced (its merged copy is committed and the old parts are on their
    way out)."""
    parts = all_parts(store, TRIALS.name, sweep)
    replaced = set().union(*(_replaced_by(p) for p in parts))
    return {flush_of(p): p for p in parts if flush_of(p) not in replaced}


def committed_flushes(store: Path, sweep: str) -> set[str]:
    """The flushes of `sweep` that committed (committed_trials_parts)."""
    return set(committed_trials_parts(store, sweep))


def stored_sweeps(store: Path) -> list[str]:
    """The sweeps with a folder in the trials table, by name (a folder that is not a sweep's, or a
    link, is refused by name rather than read)."""
    directory = inside(store, store / TRIALS.name)
    if not directory.is_dir():
        return []
    names = sorted(p.name for p in directory.iterdir() if not p.name.startswith((".", "_")))
    for name in names:
        check_sweep_name(name, f"{directory / name}: folder")
        sweep_dir(store, TRIALS.name, name)
    return names


GENERATION_FILE = "generation"
"""`_staging/<sweep>/generation`: a count a compaction makes odd while it moves parts between the
staging folder and the table folders, and even again when done (a seqlock). A reader lists the two
folders one after the other, so it accepts a listing only when the count was even and unchanged
across it: it never takes an instant of a move for the store."""
LISTING_ATTEMPTS = 8
"""Listings tried while a compaction moves parts (about 1.3 s in all), before a reader takes the
one it has. A count left odd by a compaction that was killed is seen as such at once: nobody
holds the sweep's lock, so nothing moves."""


def _generation(store: Path, sweep: str) -> int:
    try:
        return int((staging_path(store, sweep) / GENERATION_FILE).read_text())
    except (OSError, ValueError):
        return 0


def _set_generation(store: Path, sweep: str, generation: int) -> None:
    directory = staging_dir(store, sweep)
    replace_atomically(store, directory / GENERATION_FILE, lambda tmp: tmp.write_text(str(generation)), sweep)


def _stable_listing(store: Path, table: str, sweep: str) -> tuple[dict[str, Path], dict[str, Path]]:
    """(committed flushes -> trials part, flush -> part of `table`) of `sweep`, from one listing no
    compaction moved parts during (see GENERATION_FILE)."""
    for attempt in range(LISTING_ATTEMPTS):
        before = _generation(store, sweep)
        flushes = committed_trials_parts(store, sweep)
        found = flushes if table == TRIALS.name else {flush_of(p): p for p in all_parts(store, table, sweep) if flush_of(p) in flushes}
        if _generation(store, sweep) == before and (before % 2 == 0 or not is_locked(store, sweep)):
            break
        time.sleep(0.005 * 2**attempt)
    return flushes, found


class MissingPart(StoreError):
    """A committed flush's manifest names a part of a table that is not there."""


def committed_parts(store: Path, table: str, sweeps: list[str] | None = None) -> list[Path]:
    """The part files of `table` that committed flushes hold, of every sweep or of `sweeps`.
    MissingPart when a committed flush lacks a part its manifest names (deleted by hand, say)."""
    parts = []
    for sweep in stored_sweeps(store) if sweeps is None else sweeps:
        flushes, found = _stable_listing(store, table, sweep)
        if table != TRIALS.name:
            for flush, trials_part in flushes.items():
                listed = manifest(trials_part)
                if flush not in found and listed is not None and table in listed:
                    raise MissingPart(f"{trials_part}: its flush wrote a '{table}' part that is gone, so its trials' rows are incomplete; "
                                      f"launch sweep '{sweep}' again to set the flush aside and rerun its trials")
        parts += sorted(found.values(), key=flush_of)
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


def _with_metadata(table: pa.Table, metadata: dict[bytes, bytes]) -> pa.Table:
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})


def write_flush(
    store: Path, sweep: str, tables: dict[str, pa.Table], declared: Mapping[str, Table], superseded: dict[Path, set[str]] | None = None,
) -> str:
    """Store the rows of several trials of `sweep` as one part file per table (each checked against
    its `declared` schema); return the flush id.

    The other tables' parts are written first and the trials part last, naming them: it commits
    the flush. If writing fails before the commit, the parts already written are removed again.
    `superseded` names stored trials rows these trials replace (a crashed trial run again), by
    part file: they are removed just before the commit, so a crash in between leaves those trials
    missing (a relaunch runs them), never stored twice.
    """
    _check_flush(tables, declared)
    flush = new_flush_id()
    written: list[Path] = []
    others = sorted(name for name in tables if name != TRIALS.name and tables[name].num_rows)
    try:
        for name in [*others, TRIALS.name]:
            table = tables[name]
            if name == TRIALS.name:
                for part, trial_ids in (superseded or {}).items():
                    _drop_rows(store, sweep, part, trial_ids)
                table = _with_metadata(table, {MANIFEST_KEY: json.dumps(others).encode()})
            directory = sweep_dir(store, name, sweep)
            directory.mkdir(parents=True, exist_ok=True)
            replace_atomically(store, directory / f"{flush}.parquet", lambda tmp, table=table: pq.write_table(table, tmp), sweep)
            written.append(directory / f"{flush}.parquet")
    except BaseException:
        # A flush that fails before its commit takes its parts back, so a plain pandas reader
        # never keeps seeing rows of trials the trials table does not hold (a retry writes them anew).
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return flush


def _drop_rows(store: Path, sweep: str, part: Path, trial_ids: set[str]) -> None:
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
        replace_atomically(store, part, lambda tmp: pq.write_table(keep, tmp), sweep)


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
    compaction replaced, a compaction's staging that never committed, and temporary files, in
    every table `declared`. Returns the files deleted.

    Only safe while nothing writes this sweep: a launch and compact call it holding its lock.
    """
    parts = all_parts(store, TRIALS.name, sweep)
    replaced = set().union(*(_replaced_by(p) for p in parts))
    committed = {flush_of(p) for p in parts} - replaced
    moving = bool(replaced) or any(_is_staged(p) for p in parts)
    generation = _generation(store, sweep)
    if moving:  # readers wait while parts move between the staging and the table folders
        generation += 1 - generation % 2
        _set_generation(store, sweep, generation)
    deleted = 0
    for table in sorted(declared, key=lambda n: n != TRIALS.name):  # replaced trials parts go first
        directory = sweep_dir(store, table, sweep)
        for path in all_parts(store, table, sweep):
            if flush_of(path) in replaced or (table != TRIALS.name and flush_of(path) not in committed):
                path.unlink(missing_ok=True)
                deleted += 1
        for path in directory.glob(".tmp-*") if directory.is_dir() else []:  # left by an sbsweep that staged beside the parts
            path.unlink(missing_ok=True)
            deleted += 1
    staging = staging_path(store, sweep)
    for path in staging.glob(f"{TMP_PREFIX}*"):
        path.unlink(missing_ok=True)
        deleted += 1
    # Only now, with no replaced part left, may a merged part become visible to plain readers;
    # the trials part goes last, as in a flush.
    for table in sorted(declared, key=lambda n: n == TRIALS.name):
        for path in all_parts(store, table, sweep):
            if _is_staged(path):
                target = sweep_dir(store, table, sweep) / f"{flush_of(path)}.parquet"
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, target)
                fsync(target.parent)
    for leftover in staging.glob(f"{COMPACTED_PREFIX}*"):
        deleted += sum(1 for _ in leftover.iterdir())
        shutil.rmtree(leftover)  # emptied by publishing, or a compaction that never committed
    if generation % 2:
        _set_generation(store, sweep, generation + 1)
    return deleted


def damaged_flushes(store: Path, sweep: str, declared: Mapping[str, Table], thorough: bool = False) -> dict[str, str]:
    """flush id -> why, for the committed flushes of `sweep` a reader cannot trust: a part its
    manifest names is missing, or a part is unreadable or of another schema. `thorough` reads
    every part whole (else its footer alone, which finds a file cut short but not one damaged
    inside)."""
    damaged: dict[str, str] = {}
    flushes = committed_trials_parts(store, sweep)
    parts = {name: {flush_of(p): p for p in all_parts(store, name, sweep)} for name in declared if name != TRIALS.name}
    for flush, trials_part in flushes.items():
        for name, table in declared.items():
            part = trials_part if name == TRIALS.name else parts[name].get(flush)
            try:
                if part is None:
                    listed = manifest(trials_part)
                    if listed is not None and name in listed:
                        damaged[flush] = f"its '{name}' part is missing"
                    continue
                check_schema(part, table)
                if thorough:
                    pq.read_table(part, schema=table.schema)
            except (StoreError, ChangedWhileRead, pa.ArrowException, OSError) as error:
                damaged[flush] = str(error).splitlines()[0] if str(error) else f"{part}: unreadable"
            if flush in damaged:
                break
    return damaged


def set_aside(store: Path, sweep: str, flush: str, declared: Mapping[str, Table]) -> list[str]:
    """Move a damaged flush's parts out of the tables into `_damaged/<sweep>/<flush>/`, its trials
    part first (so its trials stop counting as stored before their other rows go); return the ids
    of the trials it held, where its trials part can still be read (they run again on the next
    launch)."""
    try:
        trial_ids = pq.read_table(sweep_dir(store, TRIALS.name, sweep) / f"{flush}.parquet", columns=["trial_id"]).column("trial_id").to_pylist()
    except (pa.ArrowException, OSError):
        trial_ids = []
    target = inside(store, store / DAMAGED_DIR / check_sweep_name(sweep) / flush)
    target.mkdir(parents=True, exist_ok=True)
    for name in sorted(declared, key=lambda n: n != TRIALS.name):
        part = sweep_dir(store, name, sweep) / f"{flush}.parquet"
        if part.exists():
            os.replace(part, target / f"{name}.parquet")
            fsync(part.parent)
    return trial_ids


SMALL_FLUSH_BYTES = 64 * 2**20
"""compact merges the flushes whose parts hold less than this together; bigger ones stay as they are."""


def compact(store: Path, sweep: str, declared: Mapping[str, Table]) -> tuple[int, int]:
    """Merge the small flushes of `sweep` into one (in every table `declared`); return its trials
    parts before and after.

    The merged parts are written to the staging folder (`_staging/<sweep>/compact-<id>/`, where
    no reader of a table looks), the trials one last: it names the flushes it replaces, so from
    the moment it exists sbsweep's reader reads the merged rows and not the old ones. Then the
    old parts are deleted, and only then are the merged ones renamed into the table folders: a
    plain reader may briefly miss the merged trials, but never reads one twice. A crash in
    between is finished by the next launch or compaction. Rows are streamed, so memory stays
    bounded whatever the sweep's size. Only safe while nothing writes this sweep (the caller
    holds its lock).
    """
    clean_uncommitted(store, sweep, declared)
    flushes = committed_trials_parts(store, sweep)
    sizes = {f: sum(p.stat().st_size for t in declared for p in [sweep_dir(store, t, sweep) / f"{f}.parquet"] if p.exists()) for f in flushes}
    small = sorted(f for f in flushes if sizes[f] < SMALL_FLUSH_BYTES)
    if len(small) < 2:
        return len(flushes), len(flushes)
    merged = f"{COMPACTED_PREFIX}{new_flush_id()}"
    stage = staging_dir(store, sweep) / merged
    stage.mkdir()
    others = sorted(name for name in declared if name != TRIALS.name)
    written: list[str] = []
    for name in [*others, TRIALS.name]:
        parts = [sweep_dir(store, name, sweep) / f"{f}.parquet" for f in small]
        parts = [str(p) for p in parts if p.exists()]
        if not parts:
            continue
        schema = declared[name].schema
        if name == TRIALS.name:
            schema = schema.with_metadata({REPLACES_KEY: json.dumps(small).encode(), MANIFEST_KEY: json.dumps(written).encode()})
        else:
            written.append(name)
        batches = pads.dataset(parts, schema=declared[name].schema, format="parquet").to_batches()

        def write(tmp: Path, schema: pa.Schema = schema, batches: Any = batches) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)

        replace_atomically(store, stage / f"{name}.parquet", write, sweep)
    clean_uncommitted(store, sweep, declared)
    return len(flushes), len(flushes) - len(small) + 1
