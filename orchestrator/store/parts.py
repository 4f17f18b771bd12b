"""A sweep's rows as part files: flushes written all-or-nothing, rows superseded by a rerun,
what a crash left repaired, damaged flushes set aside, and small parts merged; every change that
removes or replaces a part made as a new generation, so a reader reads a snapshot.

Trials are written in flushes: the rows of every trial finished since the last flush go to one
part file per table, `<table>/<sweep>/<flush>.parquet`, so the number of files grows with the
flushes, not with the trials. Each part is written in the store's staging folder
(`_staging/<sweep>/`, outside every table's folder) and renamed into place, and the trials part
goes last: a flush, and every trial in it, is stored exactly when its trials part exists. The
trials part names the other tables the flush wrote (its manifest), so a part that goes missing
later is noticed, not read as fewer rows. A trial stored again (a crashed trial run once more)
has its old row removed just before the new one commits, so the store never holds a trial twice.
`compact` merges a sweep's small parts.

Generations: a sweep's parts live in `_generations/<sweep>/<generation>/<table>/`, and each table's
folder `<table>/<sweep>` is a link to its current generation's. A flush only adds files (renamed in,
whole), so it writes into the current generation. A change that removes or rewrites a part (a
merge, a rerun trial's superseded row, a repair) builds the next generation beside it (hard links
to the parts it keeps, new files for the rest), marks it complete, and swaps each table's link to
it with one rename (the trials table's last); the generation before is removed only after
GRACE_S. So a reader that resolves a sweep's link before it lists (sbsweep's own, which reads
every table of a sweep from the one generation its trials link names, and pandas, pyarrow,
polars or DuckDB on the resolved folders) finds every file it listed, never a trial twice, and
never fewer trials than a moment before. A reader through the link never sees a trial twice
either; one that lists, then opens a file after a swap, may find it gone (docs/store.md). A kill
at any point leaves the links on the old generation or on a complete new one; the next writer
finishes the swap (or removes a generation never completed).

The tables are the caller's: functions that check rows or visit every table take the declared
tables ({name: results_schema.Table}), so storage knows no experiment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Collection, Mapping
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
from results_schema import DAMAGED_DIR, GENERATIONS_DIR, TRIALS, StoreError, Table, TrialStatus, check_sweep_name

COMPACTED_PREFIX = "compact-"
"""Flushes written by compact: their trials part names the flushes it replaces."""
LEGACY_STAGED_PREFIX = "_"
"""Stores written by sbsweep before staging moved out of the table folders kept a merged part
under this prefix in the table's folder: still recognised, so a compaction cut off then finishes."""
REPLACES_KEY = b"sbsweep.replaces"
MANIFEST_KEY = b"sbsweep.tables"
"""Metadata of a trials part: the other tables its flush wrote a part in (JSON list)."""
TMP_PREFIX = "tmp-"
GENERATION_NAME = re.compile(r"g-[0-9a-f]{20}")
COMPLETE_FILE = "complete"
"""In a generation's folder once every part of it is written: from then on a crash rolls forward
to it rather than removing it."""
RETIRED_FILE = "retired"
"""In a generation's folder once it is no longer current: the time it was replaced."""
GRACE_S = 300.0
"""An old generation is kept this long after it is replaced, for readers that listed it: a read
of a sweep's table takes far less. Removed by the next writer of the sweep after that."""


def new_flush_id() -> str:
    """A fresh name for a flush's part files: time-ordered (so a listing reads oldest first), and
    random enough that two writers never pick the same one."""
    return f"{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:8]}"


def table_link(store: Path, table: str, sweep: str) -> Path:
    """`<table>/<sweep>`: the link to the sweep's current generation of `table` (in a store written
    before generations, a real folder). A sweep name from an argument or a folder name of the store
    is refused unless it is a sweep name; the table folder itself may not be a link."""
    folder = store / table
    if folder.is_symlink():
        raise StoreError(f"{folder}: is a link, which sbsweep never makes there; remove it (it points to {folder.resolve()})")
    return inside(store, folder) / check_sweep_name(sweep)


def generations_dir(store: Path, sweep: str) -> Path:
    """`_generations/<sweep>/`, checked to be a real folder of the store (or none yet)."""
    folder = store / GENERATIONS_DIR / check_sweep_name(sweep)
    for path in (store / GENERATIONS_DIR, folder):
        if path.is_symlink():
            raise StoreError(f"{path}: is a link, which sbsweep never makes there; remove it (it points to {path.resolve()})")
    return inside(store, folder)


def linked_generation(store: Path, table: str, sweep: str) -> Path | None:
    """The generation folder `table`'s link of `sweep` points to; None where there is no link (a
    new sweep, or a real folder of a store written before generations). A link anywhere else (to
    another folder, outside the store) is refused by name, never followed."""
    link = table_link(store, table, sweep)
    if not link.is_symlink():
        return None
    target = os.readlink(link)
    pieces = Path(target).parts
    if len(pieces) != 5 or pieces[:3] != ("..", GENERATIONS_DIR, sweep) or not GENERATION_NAME.fullmatch(pieces[3]) or pieces[4] != table:
        raise StoreError(f"{link}: is a link to {target}, not to a generation of sweep '{sweep}' (the one link sbsweep makes "
                         f"in a store); remove it")
    generation = generations_dir(store, sweep) / pieces[3]
    if generation.is_symlink() or (generation / table).is_symlink():
        raise StoreError(f"{generation}: is a link, which sbsweep never makes there; remove it")
    return generation


def current_generation(store: Path, sweep: str) -> Path | None:
    """The generation every reader of `sweep` reads now: the one its trials link names."""
    return linked_generation(store, TRIALS.name, sweep)


def sweep_dir(store: Path, table: str, sweep: str, generation: Path | None = None) -> Path:
    """The folder of `sweep`'s part files in `table`: in `generation` (by default the current
    one), or in a store written before generations, the real folder `<table>/<sweep>`."""
    generation = generation or current_generation(store, sweep)
    if generation is not None:
        return generation / table
    path = table_link(store, table, sweep)
    if path.is_symlink():
        raise StoreError(f"{path}: is a link, which sbsweep never makes in a store; remove it (it points to {path.resolve()})")
    return path


def as_seen(part: Path) -> Path:
    """A part file as a user reaches it: `<store>/<table>/<sweep>/<file>` (through the link) for
    one in a generation's folder, `_generations/<sweep>/<generation>/<table>/<file>`."""
    pieces = part.parts
    if len(pieces) >= 5 and pieces[-5] == GENERATIONS_DIR and GENERATION_NAME.fullmatch(pieces[-3]):
        return Path(*pieces[:-5], pieces[-2], pieces[-4], pieces[-1])
    return part


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
        raise StoreError(f"{as_seen(path)}: unreadable part file ({str(error).splitlines()[0]})") from None


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
        raise StoreError(f"{as_seen(path)}: not a part of table '{table.name}' of this schema ({what})")


def _visible_parts(store: Path, directory: Path) -> list[Path]:
    """Part files a plain reader sees in a table's sweep folder, oldest flush first."""
    if not directory.is_dir():
        return []
    parts = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", LEGACY_STAGED_PREFIX)))
    return [regular_file(p) for p in parts]


def _staged_parts(store: Path, table: str, sweep: str) -> list[Path]:
    """In a store written before generations: a compaction's merged parts of `table`, staged
    outside the table folder (or, earlier still, under the legacy prefix inside it)."""
    legacy = sweep_dir(store, table, sweep)
    staged = sorted(legacy.glob(f"{LEGACY_STAGED_PREFIX}{COMPACTED_PREFIX}*.parquet")) if legacy.is_dir() else []
    staging = staging_path(store, sweep)
    if staging.is_dir():
        staged += sorted(p for p in staging.glob(f"{COMPACTED_PREFIX}*/{table}.parquet"))
    return [regular_file(p) for p in staged]


def all_parts(store: Path, table: str, sweep: str, generation: Path | None = None) -> list[Path]:
    """The parts of a sweep's table in `generation` (by default the current one); in a store
    written before generations, the published parts and a compaction's staged ones (sbsweep's
    reader reads both: a staged merged part is committed once its trials part exists)."""
    generation = generation or current_generation(store, sweep)
    if generation is not None:
        return sorted(_visible_parts(store, generation / table), key=flush_of)
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


def committed_trials_parts(store: Path, sweep: str, generation: Path | None = None) -> dict[str, Path]:
    """flush id -> trials part, of the flushes of `sweep` (in `generation`, by default the current
    one) that committed: those with a trials part, less any a compaction of a store written before
    generations replaced (its merged copy is committed and the old parts are on their way out)."""
    parts = all_parts(store, TRIALS.name, sweep, generation)
    replaced = set().union(*(_replaced_by(p) for p in parts))
    return {flush_of(p): p for p in parts if flush_of(p) not in replaced}


def committed_flushes(store: Path, sweep: str) -> set[str]:
    """The flushes of `sweep` that committed (committed_trials_parts)."""
    return set(committed_trials_parts(store, sweep))


def stored_sweeps(store: Path) -> list[str]:
    """The sweeps with a folder (a link to a generation) in the trials table, by name (an entry
    that is not a sweep's, or a link anywhere else, is refused by name rather than read)."""
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
    """(committed flushes -> trials part, flush -> part of `table`) of `sweep`: from its current
    generation, which nothing changes but adding flushes; in a store written before generations,
    from one listing no compaction moved parts during (see GENERATION_FILE)."""
    generation = current_generation(store, sweep)
    if generation is not None:
        return _listing(store, table, sweep, generation)
    for attempt in range(LISTING_ATTEMPTS):
        before = _generation(store, sweep)
        flushes, found = _listing(store, table, sweep, None)
        if _generation(store, sweep) == before and (before % 2 == 0 or not is_locked(store, sweep)):
            break
        time.sleep(0.005 * 2**attempt)
    return flushes, found


def _listing(store: Path, table: str, sweep: str, generation: Path | None) -> tuple[dict[str, Path], dict[str, Path]]:
    """(committed flushes -> trials part, flush -> part of `table`) of `sweep` in `generation`."""
    flushes = committed_trials_parts(store, sweep, generation)
    found = flushes if table == TRIALS.name else {flush_of(p): p for p in all_parts(store, table, sweep, generation) if flush_of(p) in flushes}
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
                    raise MissingPart(f"{as_seen(trials_part)}: its flush wrote a '{table}' part that is gone, so its trials' rows are incomplete; "
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


def _new_generation(store: Path, sweep: str, declared: Mapping[str, Table], keep: Callable[[str, Path], bool] = lambda table, part: False,
                    tables: Collection[str] = ()) -> Path:
    """A new generation of `sweep`, not yet published: a folder for each table the current one has
    and each of `tables` (about to be written), holding hard links to the current generation's
    parts that `keep(table, part)` keeps (a hard link costs no copy, and the old generation's file
    stays as it was for its readers). A table no flush of the sweep wrote has no folder, in the
    generation or in the table."""
    current = current_generation(store, sweep)
    generation = generations_dir(store, sweep) / f"g-{new_flush_id()}"
    generation.mkdir(parents=True)
    for table in declared:
        if table not in tables and table != TRIALS.name and not (current is not None and (current / table).is_dir()):
            continue
        (generation / table).mkdir()
        for part in all_parts(store, table, sweep, current) if current else []:
            if keep(table, part):
                _link_or_copy(part, generation / table / part.name)
    return generation


def _link_or_copy(part: Path, target: Path) -> None:
    """A hard link to `part` as `target`: no data copied. A file system without hard links gets
    a copy (made in the staging way: written whole, then renamed)."""
    try:
        os.link(part, target)
    except OSError:
        partial = target.with_name(f".{TMP_PREFIX}{uuid.uuid4().hex}")
        shutil.copyfile(part, partial)
        os.replace(partial, target)


def _publish(store: Path, sweep: str, generation: Path, declared: Mapping[str, Table]) -> None:
    """Make `generation` the sweep's current one: marked complete (from here a crash rolls forward
    to it), each table's link swapped to it by one rename, the trials table's last (the moment
    sbsweep's reader moves to it), and the generation before marked retired."""
    complete = generation / COMPLETE_FILE
    if not complete.exists():
        for folder in [*(generation / table for table in declared if (generation / table).is_dir()), generation]:
            fsync(folder)
        complete.write_text(f"{time.time()}\n")
        fsync(complete)
        fsync(generation)
    before = current_generation(store, sweep)
    # The trials link goes last: sbsweep's reader moves to the generation with it. Moving a store
    # written before generations, it goes first, for the same reason: from then on sbsweep reads
    # the generation, whatever the other tables' folders are in the middle of.
    migrating = before is None and table_link(store, TRIALS.name, sweep).is_dir()
    for table in sorted(declared, key=lambda name: (name == TRIALS.name) != migrating):
        if not (generation / table).is_dir():
            continue  # no flush of the sweep wrote this table: no folder, no link
        link = table_link(store, table, sweep)
        if linked_generation(store, table, sweep) == generation:
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        new_link = staging_dir(store, sweep) / f"{TMP_PREFIX}link-{uuid.uuid4().hex}"
        os.symlink(f"../{GENERATIONS_DIR}/{sweep}/{generation.name}/{table}", new_link)
        if link.is_dir() and not link.is_symlink():
            # A store written before generations (its parts are in the generation already): the
            # one moment a plain reader may find the folder gone, once per sweep and table.
            aside = staging_dir(store, sweep) / f"{TMP_PREFIX}folder-{uuid.uuid4().hex}"
            os.rename(link, aside)
            os.replace(new_link, link)
            shutil.rmtree(aside)
        else:
            os.replace(new_link, link)
        fsync(link.parent)
    if before is not None and before != generation:
        _retire(before)


def _retire(generation: Path) -> None:
    retired = generation / RETIRED_FILE
    if not retired.exists():
        retired.write_text(f"{time.time()}\n")


def _retired_at(generation: Path) -> float | None:
    try:
        return float((generation / RETIRED_FILE).read_text())
    except (OSError, ValueError):
        return None


def _ensure_generation(store: Path, sweep: str, declared: Mapping[str, Table], tables: list[str] | None = None) -> Path:
    """The current generation of `sweep`, made (empty) if it has none yet; a table declared since
    (of `tables`, the ones about to be written; by default all) gets its folder and link."""
    wanted = list(declared) if tables is None else tables
    generation = current_generation(store, sweep)
    if generation is None:
        if _legacy_tables(store, sweep, declared):  # written before generations: moved into one first
            _migrate(store, sweep, declared)
            return _ensure_generation(store, sweep, declared, tables)
        generation = _new_generation(store, sweep, declared, tables=wanted)
    elif all(table_link(store, table, sweep).is_symlink() for table in wanted):
        return generation  # the common case, every flush: nothing to make
    else:
        for table in wanted:
            (generation / table).mkdir(exist_ok=True)  # a table this sweep writes for the first time
    _publish(store, sweep, generation, declared)
    return generation


def write_flush(
    store: Path, sweep: str, tables: dict[str, pa.Table], declared: Mapping[str, Table], superseded: dict[Path, set[str]] | None = None,
    renamed: dict[str, str] | None = None,
) -> str:
    """Store the rows of several trials of `sweep` as one part file per table (each checked against
    its `declared` schema); return the flush id.

    The other tables' parts are written first and the trials part last, naming them: it commits
    the flush. If writing fails before the commit, the parts already written are removed again.
    A flush adds files to the current generation. One whose trials replace stored rows
    (`superseded`: a crashed trial run again, by part file) is written as a new generation, with
    those parts rewritten without them, so no reader sees a trial twice, and a reader of a
    snapshot (see the module's docstring) never one missing. A rewritten part takes a new name,
    and so do its flush's parts in the other tables (hard links): a reader through the link that
    listed the old generation and opens a file after the swap finds the old name gone (an error
    it can retry), never a file whose rows or size changed under its name. `renamed` receives
    each such old part name with its new one, for a caller that keeps part names.
    """
    _check_flush(tables, declared)
    flush = new_flush_id()
    current = generation = _ensure_generation(store, sweep, declared, list(tables))
    superseded = {part.name: ids for part, ids in (superseded or {}).items() if ids}
    if superseded:
        generation = _new_generation(store, sweep, declared, lambda table, part: part.name not in superseded, list(tables))
        for name, trial_ids in superseded.items():
            if not (current / TRIALS.name / name).exists():
                continue
            new_name = f"{new_flush_id()}.parquet"
            if _without_rows(store, sweep, current / TRIALS.name / name, generation / TRIALS.name / new_name, trial_ids):
                for table in declared:
                    if table != TRIALS.name and (current / table / name).exists():
                        _link_or_copy(current / table / name, generation / table / new_name)
                if renamed is not None:
                    renamed[name] = new_name
    written: list[Path] = []
    others = sorted(name for name in tables if name != TRIALS.name and tables[name].num_rows)
    try:
        for name in [*others, TRIALS.name]:
            table = tables[name]
            if name == TRIALS.name:
                table = _with_metadata(table, {MANIFEST_KEY: json.dumps(others).encode()})
            directory = generation / name
            directory.mkdir(exist_ok=True)
            replace_atomically(store, directory / f"{flush}.parquet", lambda tmp, table=table: pq.write_table(table, tmp), sweep)
            written.append(directory / f"{flush}.parquet")
        if superseded:
            _publish(store, sweep, generation, declared)
    except BaseException:
        # A flush that fails before its commit takes its parts back, so a plain pandas reader
        # never keeps seeing rows of trials the trials table does not hold (a retry writes them
        # anew); a new generation not yet published is removed whole.
        if not superseded:
            for path in written:
                path.unlink(missing_ok=True)
        elif current_generation(store, sweep) != generation:
            shutil.rmtree(generation, ignore_errors=True)
        raise
    return flush


def _without_rows(store: Path, sweep: str, part: Path, target: Path, trial_ids: set[str]) -> bool:
    """Write `part` without the rows of `trial_ids` as `target`, keeping its metadata (the flush's
    manifest); False, and nothing written, if no row is left."""
    table = pq.read_table(part)
    keep = table.filter(pc.invert(pc.is_in(table.column("trial_id"), pa.array(sorted(trial_ids), pa.string()))))
    if keep.num_rows:
        replace_atomically(store, target, lambda tmp: pq.write_table(keep, tmp), sweep)
    return bool(keep.num_rows)


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


def _legacy_tables(store: Path, sweep: str, declared: Mapping[str, Table]) -> list[str]:
    """The tables in which `sweep` has a real folder, as stores written before generations do."""
    return [table for table in declared if (link := table_link(store, table, sweep)).is_dir() and not link.is_symlink()]


def _migrate(store: Path, sweep: str, declared: Mapping[str, Table]) -> None:
    """Move a sweep of a store written before generations into one: its parts hard-linked into a
    new generation, each table's folder swapped for the link (_publish)."""
    legacy = _legacy_tables(store, sweep, declared)
    generation = _new_generation(store, sweep, declared, tables=legacy)
    for table in legacy:
        for part in _visible_parts(store, table_link(store, table, sweep)):
            _link_or_copy(part, generation / table / part.name)
    _publish(store, sweep, generation, declared)


def _recover_generations(store: Path, sweep: str, declared: Mapping[str, Table]) -> int:
    """Finish what a writer cut off among `sweep`'s generations: a complete generation newer than
    the current one is published (the crash came mid-swap), every table's link is put on the
    current one, a generation never completed is removed, and one retired GRACE_S ago too.
    Returns the files removed from generations never completed."""
    folder = generations_dir(store, sweep)
    if not folder.is_dir():
        return 0
    current = current_generation(store, sweep)
    generations = sorted(p for p in folder.iterdir() if GENERATION_NAME.fullmatch(p.name) and p.is_dir() and not p.is_symlink())
    complete = [g for g in generations if (g / COMPLETE_FILE).exists() and _retired_at(g) is None]
    if complete and (current is None or complete[-1].name > current.name):
        current = complete[-1]
    if current is not None:
        _publish(store, sweep, current, declared)
    removed = 0
    for generation in generations:
        if generation == current:
            continue
        if not (generation / COMPLETE_FILE).exists():
            removed += sum(1 for p in generation.rglob("*") if p.is_file())
            shutil.rmtree(generation)
            continue
        _retire(generation)
        if time.time() - (_retired_at(generation) or 0.0) > GRACE_S:
            shutil.rmtree(generation)
    return removed


def clean_uncommitted(store: Path, sweep: str, declared: Mapping[str, Table]) -> int:
    """Finish what a writer of `sweep` cut off left behind: a swap of generations finished or a
    generation never completed removed (_recover_generations), the parts of flushes that never
    committed taken out (as a new generation), temporary files deleted; in a store written before
    generations, what its compaction left finished and the sweep moved into a generation. Returns
    the files deleted.

    Only safe while nothing writes this sweep: a launch and compact call it holding its lock.
    """
    deleted = 0
    if current_generation(store, sweep) is None and _legacy_tables(store, sweep, declared):
        deleted += _finish_legacy(store, sweep, declared)
        _migrate(store, sweep, declared)
    deleted += _recover_generations(store, sweep, declared)
    current = current_generation(store, sweep)
    if current is not None:
        committed = set(committed_trials_parts(store, sweep, current))
        strays = {(table, part.name) for table in declared if table != TRIALS.name
                  for part in all_parts(store, table, sweep, current) if flush_of(part) not in committed}
        if strays:
            _publish(store, sweep, _new_generation(store, sweep, declared, lambda table, part: (table, part.name) not in strays), declared)
            deleted += len(strays)
    staging = staging_path(store, sweep)
    for path in staging.glob(f"{TMP_PREFIX}*"):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
        deleted += 1
    return deleted


def _finish_legacy(store: Path, sweep: str, declared: Mapping[str, Table]) -> int:
    """In a store written before generations, finish what a writer of `sweep` cut off: publish a
    compaction whose merged trials part was staged, and delete the parts of flushes that never
    committed, parts a compaction replaced, a compaction's staging that never committed, and
    temporary files, in every table `declared`. Returns the files deleted."""
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
                damaged[flush] = str(error).splitlines()[0] if str(error) else f"{as_seen(part)}: unreadable"
            if flush in damaged:
                break
    return damaged


def set_aside(store: Path, sweep: str, flush: str, declared: Mapping[str, Table]) -> list[str]:
    """Take a damaged flush out of the tables (a new generation without it) and keep its parts in
    `_damaged/<sweep>/<flush>/`; return the ids of the trials it held, where its trials part can
    still be read (they run again on the next launch)."""
    current = _ensure_generation(store, sweep, declared)
    try:
        trial_ids = pq.read_table(current / TRIALS.name / f"{flush}.parquet", columns=["trial_id"]).column("trial_id").to_pylist()
    except (pa.ArrowException, OSError):
        trial_ids = []
    target = inside(store, store / DAMAGED_DIR / check_sweep_name(sweep) / flush)
    target.mkdir(parents=True, exist_ok=True)
    for name in declared:
        part = current / name / f"{flush}.parquet"
        if part.exists():
            (target / f"{name}.parquet").unlink(missing_ok=True)
            _link_or_copy(part, regular_file(target / f"{name}.parquet"))
    _publish(store, sweep, _new_generation(store, sweep, declared, lambda table, part: flush_of(part) != flush), declared)
    return trial_ids


SMALL_FLUSH_BYTES = 64 * 2**20
"""compact merges the flushes whose parts hold less than this together; bigger ones stay as they are."""


def compact(store: Path, sweep: str, declared: Mapping[str, Table]) -> tuple[int, int]:
    """Merge the small flushes of `sweep` into one (in every table `declared`); return its trials
    parts before and after.

    The merged parts are written into a new generation beside hard links to the parts kept, and
    the generation is published when all are written (_publish): readers of the old one read it
    to the end, and no reader ever sees a trial twice or misses one. Rows are streamed, so memory
    stays bounded whatever the sweep's size. Only safe while nothing writes this sweep (the
    caller holds its lock).
    """
    clean_uncommitted(store, sweep, declared)
    current = current_generation(store, sweep)
    if current is None:
        return 0, 0
    flushes = committed_trials_parts(store, sweep, current)
    sizes = {f: sum(p.stat().st_size for t in declared for p in [current / t / f"{f}.parquet"] if p.exists()) for f in flushes}
    small = sorted(f for f in flushes if sizes[f] < SMALL_FLUSH_BYTES)
    if len(small) < 2:
        return len(flushes), len(flushes)
    merged = f"{COMPACTED_PREFIX}{new_flush_id()}"
    generation = _new_generation(store, sweep, declared, lambda table, part: flush_of(part) not in small)
    others = sorted(name for name in declared if name != TRIALS.name)
    written: list[str] = []
    for name in [*others, TRIALS.name]:
        parts = [str(p) for p in (current / name / f"{f}.parquet" for f in small) if p.exists()]
        if not parts:
            continue
        schema = declared[name].schema
        if name == TRIALS.name:
            schema = schema.with_metadata({MANIFEST_KEY: json.dumps(written).encode()})
        else:
            written.append(name)
        batches = pads.dataset(parts, schema=declared[name].schema, format="parquet").to_batches()

        def write(tmp: Path, schema: pa.Schema = schema, batches: Any = batches) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)

        replace_atomically(store, generation / name / f"{merged}.parquet", write, sweep)
    _publish(store, sweep, generation, declared)
    return len(flushes), len(flushes) - len(small) + 1
