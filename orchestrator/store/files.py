"""The store's directory: its marker (format, schema version, id), the checks that refuse what is
not a store, the one check every path inside it passes (it stays inside), and the one way
anything in it is committed: atomically and durably."""

from __future__ import annotations

import fcntl
import json
import os
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.lock import LOCKS_DIR
from orchestrator.paths import inside, regular_file
from results_schema import MARKER_FILE, SCHEMA_VERSION, STAGING_DIR, StoreError, check_sweep_name

STORE_FORMAT = "sbsweep-store"


def _marker(store: Path) -> dict[str, Any] | None:
    path = regular_file(store / MARKER_FILE)
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
    """Make `store` ready for writing (check_store_path, then create if absent, with a store id
    in its marker); return its path."""
    store = check_store_path(store)
    if (store / MARKER_FILE).exists():
        return store
    from orchestrator import __version__

    try:
        store.mkdir(parents=True, exist_ok=True)
        marker = {"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION, "created_by": __version__, "store_id": uuid.uuid4().hex}
        write_atomic(store, store / MARKER_FILE, json.dumps(marker, indent=2).encode())
    except OSError as error:
        raise StoreError(f"{store}: cannot create store ({error.strerror or error})") from None
    return store


def store_id(store: Path) -> str:
    """The store's own id (its marker's store_id): what keeps its checkpoints apart from another
    store's in a checkpoint storage they share. A store made before ids were given one gets it
    here, once, under a lock, so two launches never give it two."""
    check_store(store)
    marker = _marker(store) or {}
    if isinstance(marker.get("store_id"), str) and re.fullmatch(r"[0-9a-f]{32}", marker["store_id"]):
        return marker["store_id"]
    locks = inside(store, store / LOCKS_DIR)
    locks.mkdir(exist_ok=True)
    fd = os.open(regular_file(locks / "marker.lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        marker = _marker(store) or {}
        if not (isinstance(marker.get("store_id"), str) and re.fullmatch(r"[0-9a-f]{32}", marker["store_id"])):
            marker["store_id"] = uuid.uuid4().hex
            write_atomic(store, store / MARKER_FILE, json.dumps(marker, indent=2).encode())
        return marker["store_id"]
    finally:
        os.close(fd)


def staging_path(store: Path, sweep: str | None = None) -> Path:
    """Where files wait before they are renamed into place: `_staging/<sweep>/` for a sweep's
    files (only a launch or compaction of that sweep, holding its lock, writes or cleans there),
    `_staging/` for the store's own (its marker, shared prepared states). Not created here."""
    return inside(store, store / STAGING_DIR / check_sweep_name(sweep)) if sweep else inside(store, store / STAGING_DIR)


def staging_dir(store: Path, sweep: str | None = None) -> Path:
    """staging_path, created if absent."""
    directory = staging_path(store, sweep)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def replace_atomically(store: Path, path: Path, write: Callable[[Path], None], sweep: str | None = None) -> None:
    """Have `write` fill a temporary file in the store's staging folder (staging_dir), then
    rename it over `path`.

    Readers see the old file or the new one, never part of one, and never the temporary file: it
    lies outside every table's folder, where no reader looks, and a crash mid-write leaves it
    there for the next launch or compaction to remove. The file's bytes reach the disk before
    the rename that publishes them, and the rename before this returns (the folder is synced
    after it): a power loss cannot leave a published name on an empty or partial file.
    """
    regular_file(path)
    tmp = staging_dir(store, sweep) / f"tmp-{uuid.uuid4().hex}-{path.name}"
    try:
        write(tmp)
        fsync(tmp)
        os.replace(tmp, path)
        fsync(path.parent)
    finally:
        tmp.unlink(missing_ok=True)


def fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') writes to the disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomic(store: Path, path: Path, data: bytes, sweep: str | None = None) -> None:
    """Commit `data` as the file `path` of `store` (replace_atomically)."""
    replace_atomically(store, path, lambda tmp: tmp.write_bytes(data), sweep)


