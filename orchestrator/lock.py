"""One launch of a sweep into a store at a time.

Two launches of one sweep into one store would compute every trial twice and race on its parts.
A launch holds an exclusive `flock` on `STORE/.locks/<sweep>.lock` for as long as it runs, and
writes who it is (host, pid, start time) into the file. The kernel drops the lock when the process
ends, however it ends (SIGKILL included), so a killed driver never leaves a stale lock behind.
The store lives on the driver's machine (see README, "Run on a cluster"), where flock is reliable.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from orchestrator.paths import inside, regular_file
from results_schema import check_sweep_name

LOCKS_DIR = ".locks"


class SweepLocked(Exception):
    """Another process is launching the same sweep into the same store (or deciding on it). str() is one line."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process (starting up)"
    return f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started_at')}"


def _make_dir(path: Path) -> bool:
    """Create the folder `path` (and its parents); return whether this call created `path`."""
    try:
        path.mkdir(parents=True)
        return True
    except FileExistsError:
        return False


def _remove_if_empty(*paths: Path) -> None:
    for path in paths:
        with suppress(OSError):  # not empty (another lock, or the store's data), or gone: leave it
            path.rmdir()


@contextmanager
def sweep_lock(store: Path, sweep: str) -> Iterator[None]:
    """Hold the launch lock of `sweep` in `store`; raise SweepLocked at once if another process
    holds it. The first thing a launch does: it may create the store's folder to put the lock in,
    and what it created goes again if it is refused or when it ends with the folder still empty,
    so a refused launch leaves the directory as it found it. The lock file is removed on release.
    A name that is not a sweep's, or a lock folder that leads outside the store, is refused
    (StoreError) before anything is created."""
    check_sweep_name(sweep)
    busy = f"sweep '{sweep}' is already being launched into this store"
    with _exclusive(store, f"{sweep}.lock", busy, "wait for it to end, or stop it and launch again"):
        yield


@contextmanager
def decide_lock(store: Path) -> Iterator[None]:
    """Hold the store's decide lock for a whole `decide` run: a second run on the same store would
    resume the live one's state and launch its seeds twice. SweepLocked at once if it is held."""
    with _exclusive(store, "_decide.lock", "sbsweep decide is already running on this store", "wait for it to end, or stop it first"):
        yield


@contextmanager
def _exclusive(store: Path, name: str, busy: str, advice: str) -> Iterator[None]:
    """Hold the exclusive lock `STORE/.locks/<name>` (see sweep_lock), writing who holds it."""
    if store.exists():
        inside(store, store / LOCKS_DIR)
    created_store = _make_dir(store)
    directory = inside(store, store / LOCKS_DIR)
    created_locks = _make_dir(directory)
    mine = [d for d, created in ((directory, created_locks), (store, created_store)) if created]
    path = regular_file(directory / name)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = _holder(path)
            _remove_if_empty(*mine)
            raise SweepLocked(f"{store}: {busy} ({holder}); {advice}") from None
        try:  # the holder before us may have removed the file between our open and our lock
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        info = {
            "host": socket.gethostname(), "pid": os.getpid(), "command": " ".join(sys.argv),
            "started_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        }
        os.write(fd, json.dumps(info).encode())
        yield
    finally:
        path.unlink(missing_ok=True)  # while still holding it, so no one locks a file about to vanish
        os.close(fd)
        _remove_if_empty(*mine)


def is_locked(store: Path, sweep: str) -> bool:
    """Whether a process holds `sweep`'s lock in `store` now (a launch or a compaction of it).
    Creates nothing: a reader of a store it may not write asks too."""
    path = store / LOCKS_DIR / f"{check_sweep_name(sweep)}.lock"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False  # no lock file: nobody holds it (a holder's file exists for as long as it holds it)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
