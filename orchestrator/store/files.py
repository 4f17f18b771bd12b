"""The store's directory: its marker (format and schema version), the checks that refuse what is
not a store, and the one way anything in it is committed: atomically and durably."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.lock import LOCKS_DIR
from results_schema import MARKER_FILE, SCHEMA_VERSION, StoreError

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
        write_atomic(
            store / MARKER_FILE,
            json.dumps({"format": STORE_FORMAT, "schema_version": SCHEMA_VERSION, "created_by": __version__}, indent=2).encode(),
        )
    except OSError as error:
        raise StoreError(f"{store}: cannot create store ({error.strerror or error})") from None
    return store


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Have `write` fill a hidden temporary file beside `path`, then rename it over `path`.

    Readers see the old file or the new one, never part of one: a crash mid-write leaves only a
    `.tmp-*` file, which every reader skips. The file's bytes reach the disk before the rename
    that publishes them, and the rename before this returns (the folder is synced after it): a
    power loss cannot leave a published name on an empty or partial file.
    """
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}"
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


def write_atomic(path: Path, data: bytes) -> None:
    """Commit `data` as the file `path` (replace_atomically)."""
    replace_atomically(path, lambda tmp: tmp.write_bytes(data))


