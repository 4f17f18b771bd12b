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
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

LOCKS_DIR = ".locks"


class SweepLocked(Exception):
    """Another process is launching the same sweep into the same store. str() is one line."""


def _holder(path: Path) -> str:
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info:
        return "another process (starting up)"
    return f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started_at')}"


@contextmanager
def sweep_lock(store: Path, sweep: str) -> Iterator[None]:
    """Hold the launch lock of `sweep` in `store`; raise SweepLocked at once if another process
    holds it. The lock file is removed on release."""
    directory = store / LOCKS_DIR
    directory.mkdir(exist_ok=True)
    path = directory / f"{sweep}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SweepLocked(
                f"{store}: sweep '{sweep}' is already being launched into this store ({_holder(path)}); "
                "wait for it to end, or stop it and launch again"
            ) from None
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
