"""Which code a trial ran: the git commit of the checkout (and whether it had uncommitted
changes), else the installed package's version. Read once per process."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

from orchestrator import __version__

CODE_DIRS = ("orchestrator", "workloads", "results_schema")
"""The folders whose content decides what a trial computes: a change there makes the checkout dirty."""


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@cache
def code_version() -> tuple[str, bool | None]:
    """(version, dirty): (commit, whether CODE_DIRS have uncommitted or untracked changes) when
    sbsweep runs from a git checkout of its own, else (package version, None)."""
    root = Path(__file__).resolve().parents[1]
    top = _git(root, "rev-parse", "--show-toplevel")
    # An installed copy inside some other repository (a venv in a project) is not a checkout of ours.
    if top is not None and Path(top).resolve() == root:
        commit = _git(root, "rev-parse", "HEAD")
        status = _git(root, "status", "--porcelain", "--untracked-files=normal", "--", *CODE_DIRS)
        if commit and status is not None:
            return commit, bool(status)
    return __version__, None
