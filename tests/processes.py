"""Real launches as real processes, and the processes below them: start one in its own process
group, wait for something to happen in its store, find its Ray workers, kill it whole. Shared by
the tests that kill launches (resume, worker crashes, Ctrl-C)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq

SIX_TRIALS = """\
name: six
experiment: manifold_classification
grid: {k: [3, 10, 20], L: [0, 6]}
workload: {width: 16, depth: 2, n_points: 64, steps: 600, eval_every_steps: 200}
execution: {batch_size: 3, flush_every_s: 0}
"""

def start_launch(sweep: Path, store: Path, *args: str) -> subprocess.Popen:
    """`sbsweep launch` as a real process in its own process group (so it can be killed whole), on a
    1-CPU Ray of its own: one Tune worker, whose imports are most of what a tiny launch costs."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "launch", str(sweep), "--store", str(store), "--num-cpus", "1", "--no-plot", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_until(condition, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def stored(store: Path) -> int:
    """Trials rows in the store, as plain pandas reads them."""
    parts = [p for p in store.glob("trials/*/*.parquet") if not p.name.startswith(".")]
    return sum(pq.read_metadata(p).num_rows for p in parts)


def checkpointed_step(store: Path) -> int:
    """The most steps any unit has checkpointed (batch.json of Tune's latest checkpoints)."""
    steps = []
    for path in store.glob("_tune/*/*/*/checkpoint_*/batch.json"):
        with contextlib.suppress(OSError, ValueError):  # being written
            steps.append(json.loads(path.read_text())["step"] or 0)
    return max(steps, default=0)


def descendants(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every process below `pid`, from ps."""
    table = [line.split(None, 2) for line in subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()]
    children: dict[int, list[tuple[int, str]]] = {}
    for row in table:
        if len(row) == 3:
            children.setdefault(int(row[1]), []).append((int(row[0]), row[2]))
    found, frontier = [], [pid]
    while frontier:
        for child in children.get(frontier.pop(), []):
            found.append(child)
            frontier.append(child[0])
    return found


def kill_group(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
