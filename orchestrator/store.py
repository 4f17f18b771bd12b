"""Reading and writing the Parquet result store, following the contract in results_schema.

Writes are all-or-nothing per trial: each table's rows for a trial go to a hidden temporary file
that is renamed into place (a rename is atomic on one filesystem), and the trials table is written
last, so a trial counts as stored exactly when its `trials/<trial_id>.parquet` exists. A trial
written again replaces its own files: the store never holds a trial twice.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

from results_schema import DIVERGED_PREFIX, MARKER_FILE, PREPARED_DIR, SCHEMA_VERSION, SWEEPS_DIR, TABLES, TRIALS, StoreError, Table

STORE_FORMAT = "sbsweep-store"


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
    if store.is_dir() and any(store.iterdir()):
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
    `.tmp-*` file, which every reader skips.
    """
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    _replace_atomically(path, lambda tmp: tmp.write_bytes(data))


def write_trial(store: Path, tables: dict[str, pa.Table]) -> None:
    """Store one trial's tables (name -> Arrow table holding only this trial's rows).

    The trials table, which must be among them, is written last: it is the commit marker.
    """
    trial_ids = set(tables[TRIALS.name].column("trial_id").to_pylist())
    if len(trial_ids) != 1 or tables[TRIALS.name].num_rows != 1:
        raise StoreError(f"write_trial takes one trial's rows, got trial ids {sorted(trial_ids)}")
    trial_id = trial_ids.pop()
    for name in sorted(tables, key=lambda n: n == TRIALS.name):
        expected = TABLES[name].schema
        if not tables[name].schema.equals(expected):
            raise StoreError(f"table '{name}' does not match results_schema: {tables[name].schema} != {expected}")
        directory = store / name
        directory.mkdir(exist_ok=True)
        _replace_atomically(directory / f"{trial_id}.parquet", lambda tmp, table=tables[name]: pq.write_table(table, tmp))


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
    changed = sorted(k for k in set(stored) | set(spec) if k not in GROWABLE_SPEC_KEYS and stored.get(k) != spec.get(k))
    if not changed:
        return None
    details = []
    for key in changed:
        old, new = stored.get(key), spec.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            details += [f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        else:
            details.append(f"{key}: {old!r} -> {new!r}")
    return f"sweep '{name}' is already stored with a different spec ({'; '.join(details)})"


def remove_sweep(store: Path, name: str) -> int:
    """Delete every stored trial of sweep `name` (all tables) and its spec; return the count."""
    trials = read_table(store, TRIALS.name, columns=["trial_id", "sweep"])
    trial_ids = set(trials.loc[trials["sweep"] == name, "trial_id"])
    # The trials row goes first: a trial stops counting as stored before its other rows go.
    for table in sorted(TABLES, key=lambda n: n != TRIALS.name):
        for trial_id in trial_ids:
            (store / table / f"{trial_id}.parquet").unlink(missing_ok=True)
    (store / SWEEPS_DIR / f"{name}.json").unlink(missing_ok=True)
    return len(trial_ids)


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


def stored_trial_ids(store: Path, status: str | None = "ok") -> set[str]:
    """Ids of the trials committed to the store (only those with `status`, unless None)."""
    trials = read_table(store, TRIALS.name, columns=["trial_id", "status"])
    if status is not None:
        trials = trials[trials["status"] == status]
    return set(trials["trial_id"])


def finished_trial_ids(store: Path) -> set[str]:
    """Trials a relaunch need not run: stored ok, or failed in a way that would repeat (diverged).

    A trial whose worker crashed or whose results could not be written is not finished.
    """
    trials = read_table(store, TRIALS.name, columns=["trial_id", "status", "error"])
    repeatable = trials["error"].fillna("").str.startswith(DIVERGED_PREFIX)
    return set(trials.loc[(trials["status"] == "ok") | repeatable, "trial_id"])


def unreadable_parts(store: Path) -> list[tuple[Path, str]]:
    """Every part file of every table that Parquet cannot read, with the reason."""
    bad = []
    for name in TABLES:
        for path in sorted((store / name).glob("*.parquet")) if (store / name).is_dir() else []:
            if path.name.startswith((".", "_")):
                continue
            try:
                pq.read_table(path, schema=TABLES[name].schema)
            except (pa.ArrowException, OSError) as error:
                bad.append((path, str(error).splitlines()[0]))
    return bad


def _read_one_by_one(files: list[Path], table: Table, columns: list[str] | None) -> pa.Table:
    frames = []
    for path in files:
        try:
            frames.append(pq.read_table(path, columns=columns, schema=table.schema))
        except (pa.ArrowException, OSError) as error:
            raise StoreError(f"{path}: unreadable part file ({error})") from None
    return pa.concat_tables(frames)


def with_integer_columns(rows: pd.DataFrame, table: Table = TRIALS) -> pd.DataFrame:
    """`rows` of `table` (a part of it, such as one sweep's) with every column the schema declares
    integer back as int64 wherever none of these rows is null in it.

    pandas reads an integer column that is null anywhere as floats, and a store of several
    experiments leaves k or L null for those without them; within one sweep they are whole again,
    so its labels read "L = 4", not "L = 4.0".
    """
    rows = rows.copy()
    for column in table.columns:
        values = rows.get(column.name)
        if values is not None and pa.types.is_integer(column.type) and values.dtype.kind == "f" and values.notna().all():
            rows[column.name] = values.astype("int64")
    return rows


def read_table(store: Path, name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """One table of the store as a DataFrame (empty, with the declared columns, if none stored).

    Rows of other tables whose trial never committed (no trials row) are left out, so a reader
    never sees half a trial. An unreadable part file raises StoreError naming it.
    """
    if name not in TABLES:
        raise StoreError(f"no table '{name}' in this store's schema (tables: {', '.join(TABLES)})")
    check_store(store)
    table = TABLES[name]
    directory = store / name
    files = sorted(p for p in directory.glob("*.parquet") if not p.name.startswith((".", "_"))) if directory.is_dir() else []
    if files:
        try:  # one dataset scan reads the files in parallel: about 3x faster than a loop over them
            data = pads.dataset([str(p) for p in files], schema=table.schema, format="parquet").to_table(columns=columns)
        except (pa.ArrowException, OSError):
            data = _read_one_by_one(files, table, columns)  # slower, but names the file that fails
    else:
        data = table.schema.empty_table().select(columns or table.column_names)
    frame = data.to_pandas()
    if name != TRIALS.name and files and "trial_id" in frame:
        committed = {p.stem for p in (store / TRIALS.name).glob("*.parquet") if not p.name.startswith((".", "_"))}
        frame = frame[frame["trial_id"].isin(committed)].reset_index(drop=True)
    return frame
