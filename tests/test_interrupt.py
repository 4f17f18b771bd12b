"""Ctrl-C is an ordinary way to stop a launch: what finished is stored, the exit code says so, and
the command that resumes is printed. A real launch process, a real SIGINT to its process group."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys

import pandas as pd
from processes import SIX_TRIALS, start_launch, stored, wait_until


def test_ctrl_c_stores_what_finished_exits_130_and_prints_the_command_that_resumes(write_sweep, tmp_path):
    sweep = write_sweep(SIX_TRIALS)
    store = tmp_path / "interrupted"
    launch = start_launch(sweep, store)
    wait_until(lambda: stored(store) >= 2)
    os.killpg(launch.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends: the whole foreground group
    _, err = launch.communicate(timeout=120)
    assert launch.returncode == 130, err
    assert "Traceback" not in err
    [line] = [line for line in err.splitlines() if "launch again to resume:" in line]
    again = shlex.split(line.split("launch again to resume: ")[1])
    assert again == ["sbsweep", "launch", str(sweep), "--store", str(store)]
    kept = pd.read_parquet(store / "trials")
    assert len(kept) >= 2 and kept["trial_id"].is_unique and set(kept["status"]) == {"ok"}
    # The printed command is the one that resumes (a relaunch resuming is test_resume's): it reads
    # the same sweep into the same store, with what is stored counted as done.
    dry = subprocess.run([sys.executable, "-m", "orchestrator", *again[1:], "--dry-run"], capture_output=True, text=True, timeout=60)
    assert dry.returncode == 0 and "sweep 'six'" in dry.stdout
