"""Reading and writing the Parquet result store, following the contract in results_schema.

Trials are written in flushes: the rows of every trial finished since the last flush go to one
part file per table, `<table>/<sweep>/<flush>.parquet`, so the number of files grows with the
flushes, not with the trials. Each part is written under a hidden temporary name and renamed into
place (a rename is atomic on one filesystem), and the trials part goes last: a flush, and every
trial in it, is stored exactly when its trials part exists. A trial stored again (a crashed trial
run once more) has its old row removed just before the new one commits, so the store never holds
a trial twice. A launch only ever adds parts (or rewrites one without a superseded row); `compact`
merges a sweep's small parts on demand, staged under names plain readers skip (see compact).
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from orchestrator.lock import LOCKS_DIR
from orchestrator.spec import RESOLVED_KEY, VERSION_KEY
from results_schema import FIGURES_DIR, MARKER_FILE, PREPARED_DIR, SCHEMA_VERSION, SWEEPS_DIR, TRIALS, StoreError, Table, TrialStatus
from workloads import TABLES

STORE_FORMAT = "sbsweep-store"
COMPACTED_PREFIX = "compact-"
"""Part files written by compact: their trials part names the flushes it replaces."""
STAGED_PREFIX = "_"
"""A merged part waits under this prefix, which pandas and pyarrow skip, until the parts it
replaces are gone (compact): so a plain reader never reads a row twice."""
REPLACES_KEY = b"sbsweep.replaces"
READ_ATTEMPTS = 5
"""Times a reader lists and reads again when a part changed under it (a compaction, a rerun
trial's row dropped) before it calls the store damaged."""


def _marker(store: Path) -> dict[str, Any] | None:
    path = store / MARKER_FILE
    if not path.exists():
        return None
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: unreadable store marker ({error})") from None
    if not isinstance(marker, dict) or marker.get("format") != STORE_FORMAT:
        raise StoreError(f"{path}: not an sbsweep store marker")
    return marker


def check_store(store: Path) -> None:
    """Raise StoreError unless `store` is an sbsweep store of this schema version."""
    if not store.is_dir():
        raise StoreError(f"{store}: no such store directory")
    marker = _marker(store)
    if marker is None:
        raise StoreError(f"{store}: not an sbsweep store (no {MARKER_FILE})")
    version = marker.get("schema_version")
    if version != SCHEMA_VERSION:
        newer = isinstance(version, int) and version > SCHEMA_VERSION
        advice = "upgrade sbsweep to read it" if newer else "re-run its sweeps into a new store"
        raise StoreError(
            f"{store}: store schema version {version}, this sbsweep reads version {SCHEMA_VERSION}; {advice}"
        )


def check_store_path(store: Path) -> Path:
    """Raise StoreError unless `store` is a store, or a place one can be created; write nothing.

    Refuses a path that is a file, a non-empty directory that is not an sbsweep store (so
    pointing sbsweep at the wrong directory never writes into it), a store of another schema
    version, and a place this user cannot write. Returns the absolute path.
    """
    store = store.expanduser().absolute()
    if store.exists() and not store.is_dir():
        raise StoreError(f"{store}: is a file, not a store directory")
    if store.is_dir() and any(p.name != LOCKS_DIR for p in store.iterdir()):  # a first launch's lock may come before the marker
        check_store(store)
    existing = next(p for p in (store, *store.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise StoreError(f"{store}: cannot write here ({existing} is not a writable directory)")
    return store


def open_store(store: Path) -> Path:
    """Make `store` ready for writing (check_store_path, then create if absent); return its path."""
    store = check_store_path(store)
    if (store / MARKER_FILE).exists():
        return store
    from orchestrator import __version__

    try:
        store.mkdir(parents=True, exist_ok=True)
        _write_atomic(
            store / MARKER_FILE,
            json.dumps({"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION, "created_by": __version__}, indent=2).encode(),
        )
    except OSError as error:
        raise StoreError(f"{store}: cannot create store ({error.strerror or error})") from None
    return store


def _replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Have `write` fill a hidden temporary file beside `path`, then rename it over `path`.

    Readers see the old file or the new one, never part of one: a crash mid-write leaves only a
    `.tmp-*` file, which every reader skips. The file's bytes reach the disk before the rename
    that publishes them, and the rename before this returns (the folder is synced after it): a
    power loss cannot leave a published name on an empty or partial file.
    """
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        write(tmp)
        _fsync(tmp)
        os.replace(tmp, path)
        _fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') writes to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_atomic(path: Path, data: bytes) -> None:
    _replace_atomically(path, lambda tmp: tmp.write_bytes(data))


def new_flush_id() -> str:
    """A fresh name for a flush's part files: time-ordered (so a listing reads oldest first), and
    random enough that two writers never pick the same one."""
    return f"{time.time_ns() // 1_000_000:012x}{uuid.uuid4().hex[:8]}"


def _sweep_dir(store: Path, table: str, sweep: str) -> Path:
    return store / table / sweep


def _visible_parts(directory: Path) -> list[Path]:
    """Part files a plain reader sees in a folder, oldest flush first (hidden ones are not data)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_")))


def _parts(directory: Path) -> list[Path]:
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
        raise _ChangedWhileRead() from None
    except (pa.ArrowException, OSError) as error:
        raise StoreError(f"{part}: unreadable part file ({error})") from None
    return set(json.loads(metadata.get(REPLACES_KEY, b"[]")))


class _ChangedWhileRead(Exception):
    """A part a reader listed was gone (or rewritten) when it came to read it: list again."""


def committed_flushes(store: Path, sweep: str) -> set[str]:
    """The flushes of `sweep` that committed: those with a trials part, less any a compaction
    replaced (its merged copy is committed and the old parts are on their way out)."""
    parts = _parts(_sweep_dir(store, TRIALS.name, sweep))
    replaced = set().union(*(_replaced_by(p) for p in parts))
    return {_flush_of(p) for p in parts} - replaced


def stored_sweeps(store: Path) -> list[str]:
    """The sweeps with a folder in the trials table, by name."""
    directory = store / TRIALS.name
    return sorted(p.name for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))) if directory.is_dir() else []


def _committed_parts(store: Path, table: str, sweeps: list[str] | None = None) -> list[Path]:
    parts = []
    for sweep in stored_sweeps(store) if sweeps is None else sweeps:
        committed = committed_flushes(store, sweep)
        parts += [p for p in _parts(_sweep_dir(store, table, sweep)) if _flush_of(p) in committed]
    return parts


def _check_flush(tables: dict[str, pa.Table]) -> list[str]:
    """The trial ids of a flush's tables, after checking them against the contract."""
    if TRIALS.name not in tables:
        raise StoreError("a flush needs its trials rows: they commit it")
    for name, table in tables.items():
        if name not in TABLES:
            raise StoreError(f"no table '{name}' in this store's schema (tables: {', '.join(TABLES)})")
        if not table.schema.equals(TABLES[name].schema):
            raise StoreError(f"table '{name}' does not match results_schema: {table.schema} != {TABLES[name].schema}")
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


def write_flush(store: Path, sweep: str, tables: dict[str, pa.Table], superseded: dict[Path, set[str]] | None = None) -> str:
    """Store the rows of several trials of `sweep` as one part file per table; return the flush id.

    The other tables' parts are written first and the trials part last: it commits the flush. If
    writing fails before the commit, the parts already written are removed again.
    `superseded` names stored trials rows these trials replace (a crashed trial run again), by
    part file: they are removed just before the commit, so a crash in between leaves those trials
    missing (a relaunch runs them), never stored twice.
    """
    _check_flush(tables)
    flush = new_flush_id()
    written: list[Path] = []
    try:
        for name in sorted(tables, key=lambda n: n == TRIALS.name):
            if name == TRIALS.name:
                for part, trial_ids in (superseded or {}).items():
                    _drop_rows(part, trial_ids)
            if tables[name].num_rows or name == TRIALS.name:
                directory = _sweep_dir(store, name, sweep)
                directory.mkdir(parents=True, exist_ok=True)
                _replace_atomically(directory / f"{flush}.parquet", lambda tmp, table=tables[name]: pq.write_table(table, tmp))
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
        _replace_atomically(part, lambda tmp: pq.write_table(keep, tmp))


def superseded_rows(store: Path, sweep: str, trial_ids: set[str] | list[str]) -> dict[Path, set[str]]:
    """The committed trials parts of `sweep` that hold rows of `trial_ids`, with those ids."""
    parts = _committed_parts(store, TRIALS.name, [sweep])
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


def write_trial(store: Path, tables: dict[str, pa.Table]) -> None:
    """Store one trial's tables as a flush of its own, replacing any row the trial already has.

    For tests, benchmarks and tools that write a trial at a time; a launch writes many per flush.
    """
    trials = tables[TRIALS.name]
    if trials.num_rows != 1:
        raise StoreError(f"write_trial takes one trial's rows, got {trials.num_rows} trials rows")
    sweep, trial_id = trials.column("sweep")[0].as_py(), trials.column("trial_id")[0].as_py()
    write_flush(store, sweep, tables, superseded_rows(store, sweep, [trial_id]))


def clean_uncommitted(store: Path, sweep: str) -> int:
    """Finish what a writer of `sweep` cut off left behind: publish a compaction whose merged
    trials part was staged, and delete the parts of flushes that never committed, parts a
    compaction replaced, and temporary files. Returns the files deleted.

    Only safe while nothing writes this sweep: a launch and compact call it holding its lock.
    """
    trials_dir = _sweep_dir(store, TRIALS.name, sweep)
    parts = _parts(trials_dir)
    replaced = set().union(*(_replaced_by(p) for p in parts))
    committed = {_flush_of(p) for p in parts} - replaced
    deleted = 0
    for table in sorted(TABLES, key=lambda n: n != TRIALS.name):  # replaced trials parts go first
        directory = _sweep_dir(store, table, sweep)
        for path in _parts(directory):
            if _flush_of(path) in replaced or (table != TRIALS.name and _flush_of(path) not in committed):
                path.unlink(missing_ok=True)
                deleted += 1
        for path in directory.glob(".tmp-*") if directory.is_dir() else []:
            path.unlink(missing_ok=True)
            deleted += 1
    # Only now, with no replaced part left, may a merged part become visible to plain readers;
    # the trials part goes last, as in a flush.
    for table in sorted(TABLES, key=lambda n: n == TRIALS.name):
        for path in _parts(_sweep_dir(store, table, sweep)):
            if path.name.startswith(STAGED_PREFIX):
                os.replace(path, path.with_name(path.name.removeprefix(STAGED_PREFIX)))
                _fsync(path.parent)
    return deleted


SMALL_FLUSH_BYTES = 64 * 2**20
"""compact merges the flushes whose parts hold less than this together; bigger ones stay as they are."""


def compact(store: Path, sweep: str) -> tuple[int, int]:
    """Merge the small flushes of `sweep` into one; return its trials parts before and after.

    The merged parts are written under staged names that pandas and pyarrow skip, the trials one
    last: it names the flushes it replaces, so from the moment it exists sbsweep's reader reads
    the merged rows and not the old ones. Then the old parts are deleted, and only then are the
    merged ones renamed into view: a plain reader may briefly miss the merged trials, but never
    reads one twice. A crash in between is finished by the next launch or compaction. Rows are
    streamed, so memory stays bounded whatever the sweep's size. Only safe while nothing writes
    this sweep (the caller holds its lock).
    """
    clean_uncommitted(store, sweep)
    flushes = sorted(committed_flushes(store, sweep))
    sizes = {f: sum(p.stat().st_size for t in TABLES for p in [_sweep_dir(store, t, sweep) / f"{f}.parquet"] if p.exists()) for f in flushes}
    small = [f for f in flushes if sizes[f] < SMALL_FLUSH_BYTES]
    if len(small) < 2:
        return len(flushes), len(flushes)
    merged = f"{STAGED_PREFIX}{COMPACTED_PREFIX}{new_flush_id()}"
    for name in sorted(TABLES, key=lambda n: n == TRIALS.name):
        parts = [_sweep_dir(store, name, sweep) / f"{f}.parquet" for f in small]
        parts = [str(p) for p in parts if p.exists()]
        if not parts:
            continue
        schema = TABLES[name].schema
        if name == TRIALS.name:
            schema = schema.with_metadata({REPLACES_KEY: json.dumps(small)})
        batches = pads.dataset(parts, schema=TABLES[name].schema, format="parquet").to_batches()

        def write(tmp: Path, schema: pa.Schema = schema, batches: Any = batches) -> None:
            with pq.ParquetWriter(tmp, schema) as writer:
                for batch in batches:
                    writer.write_batch(batch)

        _replace_atomically(_sweep_dir(store, name, sweep) / f"{merged}.parquet", write)
    clean_uncommitted(store, sweep)
    return len(flushes), len(flushes) - len(small) + 1


GROWABLE_SPEC_KEYS = ("description", "grid", "seeds", "resources", "execution")
"""Spec keys a stored sweep may change on a later launch: they add trials or change how they run,
never what an already stored trial means. Any other change needs a new name or --overwrite."""


def saved_sweep(store: Path, name: str) -> dict[str, Any] | None:
    """The spec stored for sweep `name` by its last launch, or None."""
    path = store / SWEEPS_DIR / f"{name}.json"
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: unreadable sweep spec ({error})") from None


def spec_conflict(store: Path, name: str, spec: dict[str, Any]) -> str | None:
    """Why `spec` cannot join the stored sweep of the same name (None if it can).

    A sweep may grow (more grid values, seeds) or change resources; changing what its trials
    compute (experiment, fixed workload values) would mix two experiments under one name.
    """
    stored = saved_sweep(store, name)
    if stored is None:
        return None
    stored_version, version = stored.get(VERSION_KEY, 1), spec.get(VERSION_KEY, 1)
    if stored_version != version:
        return (f"sweep '{name}' is already stored, computed by version {stored_version} of experiment '{spec.get('experiment')}', "
                f"whose code now computes version {version} (other numbers from the same config)")
    stored, spec = {k: v for k, v in stored.items() if k != VERSION_KEY}, {k: v for k, v in spec.items() if k != VERSION_KEY}
    if RESOLVED_KEY not in stored:  # saved before specs kept their resolved config: compare what both have
        spec = {k: v for k, v in spec.items() if k != RESOLVED_KEY}
    changed = sorted(k for k in set(stored) | set(spec) if k not in GROWABLE_SPEC_KEYS and stored.get(k) != spec.get(k))
    if changed != [RESOLVED_KEY]:  # a change written in the spec is the one to name
        changed = [k for k in changed if k != RESOLVED_KEY]
    if not changed:
        return None
    details = []
    for key in changed:
        old, new = stored.get(key), spec.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            details += [f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        else:
            details.append(f"{key}: {old!r} -> {new!r}")
    if changed == [RESOLVED_KEY]:
        return f"sweep '{name}' is already stored, and the experiment's code has changed its fields or defaults since ({'; '.join(details)})"
    return f"sweep '{name}' is already stored with a different spec ({'; '.join(details)})"


def remove_sweep(store: Path, name: str) -> int:
    """Delete every stored trial of sweep `name` (all tables), its figures and its spec; return the count.

    The trials folder goes first: the sweep's trials stop counting as stored before their other
    rows go, so a crash half way leaves only uncommitted parts, which no reader reads.
    """
    count = len(read_table(store, TRIALS.name, columns=["trial_id"], sweeps=[name]))
    for table in sorted(TABLES, key=lambda n: n != TRIALS.name):
        shutil.rmtree(_sweep_dir(store, table, name), ignore_errors=True)
    figures = store / FIGURES_DIR
    for figure in drawn_figures(figures, name):
        (figures / figure).unlink(missing_ok=True)
    _figures_record(figures, name).unlink(missing_ok=True)
    (store / SWEEPS_DIR / f"{name}.json").unlink(missing_ok=True)
    return count


def _figures_record(figures: Path, sweep: str) -> Path:
    return figures / f".{sweep}.figures.json"


def record_figures(figures: Path, sweep: str, paths: list[Path]) -> None:
    """Note which files in the folder `figures` were drawn from `sweep` (so --overwrite removes
    them with it): file names alone, since a sweep's figures are named by experiment, not sweep."""
    names = sorted(set(drawn_figures(figures, sweep)) | {p.name for p in paths})
    _write_atomic(_figures_record(figures, sweep), json.dumps(names).encode())


def drawn_figures(figures: Path, sweep: str) -> list[str]:
    """The names of the files in `figures` drawn from `sweep` (record_figures)."""
    try:
        return list(json.loads(_figures_record(figures, sweep).read_text()))
    except (OSError, ValueError):
        return []


def write_prepared(store: Path, prepared_id: str, data: bytes) -> None:
    """Keep a prepared state (e.g. theta*) under its content-addressed id, atomically."""
    (store / PREPARED_DIR).mkdir(exist_ok=True)
    _write_atomic(store / PREPARED_DIR / f"{prepared_id}.pt", data)


def prepared_ids(store: Path) -> set[str]:
    """Ids of the prepared states the store holds."""
    return {p.stem for p in (store / PREPARED_DIR).glob("*.pt") if not p.name.startswith(".")}


def read_prepared(store: Path, prepared_id: str) -> bytes:
    """The bytes of a stored prepared state."""
    return (store / PREPARED_DIR / f"{prepared_id}.pt").read_bytes()


def save_sweep(store: Path, name: str, spec: dict[str, Any]) -> None:
    """Keep the resolved spec of a launch beside its results (sweeps/<name>.json)."""
    (store / SWEEPS_DIR).mkdir(exist_ok=True)
    _write_atomic(store / SWEEPS_DIR / f"{name}.json", json.dumps(spec, indent=2, sort_keys=True).encode())


def stored_trial_ids(store: Path, status: TrialStatus | None = TrialStatus.OK, sweeps: list[str] | None = None) -> set[str]:
    """Ids of the trials committed to the store (only those with `status`, unless None)."""
    trials = read_table(store, TRIALS.name, columns=["trial_id", "status"], sweeps=sweeps)
    if status is not None:
        trials = trials[trials["status"] == status.value]
    return set(trials["trial_id"])


def finished_trial_ids(store: Path, sweeps: list[str] | None = None) -> set[str]:
    """Trials a relaunch need not run: stored ok, or diverged (it would diverge again).

    A crashed trial (its worker died, or its rows could not be written) is not finished.
    """
    trials = read_table(store, TRIALS.name, columns=["trial_id", "status"], sweeps=sweeps)
    return set(trials.loc[trials["status"].map(lambda s: TrialStatus(s).finished), "trial_id"])


def unreadable_parts(store: Path) -> list[tuple[Path, str]]:
    """Every part file of every table that Parquet cannot read, with the reason (a part that a
    compaction or a rerun trial changed while it was checked is read again, not reported)."""
    bad = []
    for name in TABLES:
        for sweep_dir in sorted((store / name).iterdir()) if (store / name).is_dir() else []:
            for path in _parts(sweep_dir):
                for attempt in range(READ_ATTEMPTS):
                    try:
                        pq.read_table(path, schema=TABLES[name].schema)
                        break
                    except FileNotFoundError:
                        break  # gone since the listing: nothing to read, nothing damaged
                    except (pa.ArrowException, OSError) as error:
                        if attempt == READ_ATTEMPTS - 1:
                            bad.append((path, str(error).splitlines()[0]))
                        time.sleep(0.01 * 2**attempt)
    return bad


def _read_parts(files: list[Path], table: Table, columns: list[str] | None) -> pa.Table:
    """Read `files` in one dataset scan (about 3x faster than a loop over them), or, when that
    fails, one by one to name the part that does: raising _ChangedWhileRead for one that is gone."""
    if not files:
        return table.schema.empty_table().select(columns or table.column_names)
    try:
        return pads.dataset([str(p) for p in files], schema=table.schema, format="parquet").to_table(columns=columns)
    except (pa.ArrowException, OSError):
        pass
    frames = []
    for path in files:
        try:
            frames.append(pq.read_table(path, columns=columns, schema=table.schema))
        except FileNotFoundError:
            raise _ChangedWhileRead() from None
        except (pa.ArrowException, OSError) as error:
            raise StoreError(f"{path}: unreadable part file ({error})") from None
    return pa.concat_tables(frames)


def read_table(
    store: Path, name: str, columns: list[str] | None = None, sweeps: list[str] | None = None, skip: Collection[Path] = (),
) -> pd.DataFrame:
    """One table of the store (or of some of its sweeps) as a DataFrame; empty, with the declared
    columns, if nothing is stored.

    Only committed flushes are read (see write_flush), so a reader never sees half a trial, nor a
    row a compaction is replacing. A part that changes between listing and reading (a compaction
    deleted it, a rerun trial's row was dropped from it) makes the reader list again; a part that
    stays unreadable raises StoreError naming it. `skip` names parts to leave out (status counts
    what it can beside the ones it reports unreadable).
    """
    if name not in TABLES:
        raise StoreError(f"no table '{name}' in this store's schema (tables: {', '.join(TABLES)})")
    check_store(store)
    table = TABLES[name]
    skip = set(skip)

    def listing() -> list[Path]:
        return [path for path in _committed_parts(store, name, sweeps) if path not in skip]

    for attempt in range(READ_ATTEMPTS):
        files: list[Path] | None = None
        try:
            files = listing()
            return _read_parts(files, table, columns).to_pandas()
        except (_ChangedWhileRead, StoreError) as error:
            if isinstance(error, StoreError) and files is not None and _listing_or_none(listing) == files:
                raise  # the same parts as before, and one of them unreadable: damaged, not changing
            if attempt == READ_ATTEMPTS - 1:
                if isinstance(error, StoreError):
                    raise
                raise StoreError(f"{store}: table '{name}' kept changing while it was read; read it again") from None
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _listing_or_none(listing: Callable[[], list[Path]]) -> list[Path] | None:
    try:
        return listing()
    except (_ChangedWhileRead, StoreError):
        return None


class ResultStore:
    """A store, read-only, for scripts and notebooks: its tables as pandas DataFrames.

        store = ResultStore("sbsweep-store")
        store.sweeps                                  # ['manifold_cpu', ...]
        store.table("trials", sweep="manifold_cpu")   # one row per trial
        store.table("curves")                         # every sweep's learning curves

    The same rows `pd.read_parquet(STORE / table)` gives, less those of flushes that never
    committed (a launch killed while writing), and checked against this sbsweep's schema.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().absolute()
        check_store(self.path)

    @property
    def sweeps(self) -> list[str]:
        """The sweeps the store holds trials of."""
        return stored_sweeps(self.path)

    @property
    def tables(self) -> list[str]:
        """The tables a store can hold (results_schema)."""
        return list(TABLES)

    def table(self, name: str, sweep: str | list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """Table `name` (of one sweep, of several, or of all) as a DataFrame."""
        sweeps = [sweep] if isinstance(sweep, str) else sweep
        return read_table(self.path, name, columns=columns, sweeps=sweeps)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


class StoredSweep:
    """One stored sweep as its experiment's figure and claims read it (workloads.experiment.SweepData).

    `trials` has every trial of the sweep, whatever its status, with each config field as a
    column read from config_json (ints stay ints, tuples are lists); `table` reads the rows of the
    sweep's ok trials in one table, and joins the config fields asked for.
    """

    def __init__(self, store: Path, name: str) -> None:
        self.store, self.name = store, name
        trials = read_table(store, TRIALS.name, sweeps=[name])
        config = pd.DataFrame([json.loads(text) for text in trials["config_json"]], index=trials.index)
        self.trials = pd.concat([trials, config.drop(columns=[c for c in config if c in trials])], axis=1)
        self.experiment = str(trials["experiment"].iloc[0]) if len(trials) else ""

    def table(self, name: str, *config: str) -> pd.DataFrame:
        """Rows of table `name` written by the sweep's ok trials, with the config fields `config`."""
        rows = read_table(self.store, name, sweeps=[self.name])
        ok = self.trials[self.trials["status"] == TrialStatus.OK.value]
        rows = rows[rows["trial_id"].isin(ok["trial_id"])]
        wanted = [field for field in config if field not in rows]
        return rows.merge(ok[["trial_id", *wanted]], on="trial_id") if wanted else rows.reset_index(drop=True)

    def subset(self, trial_ids: pd.Series | list[str]) -> StoredSweep:
        """The same sweep with only the trials `trial_ids` (their rows alone in every table)."""
        part = copy.copy(self)
        part.trials = self.trials[self.trials["trial_id"].isin(list(trial_ids))]
        return part

    def sweeps_of(self, experiment: str) -> list[StoredSweep]:
        """The store's sweeps of `experiment` (this one included, if it is one), by name."""
        trials = read_table(self.store, TRIALS.name, columns=["sweep", "experiment"])
        return [StoredSweep(self.store, name) for name in sorted(set(trials.loc[trials["experiment"] == experiment, "sweep"]))]
