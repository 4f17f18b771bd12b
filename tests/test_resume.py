"""Interruption is a non-event: killed launches resume, crashed workers retry, nothing duplicates.

Every test here kills real processes (a launch's whole process group, or one Ray worker) with
SIGKILL and checks the store afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.expand import expand
from orchestrator.spec import load_spec
from orchestrator.trial import run_trial

SIX_TRIALS = """\
name: six
experiment: manifold_classification
grid: {k: [3, 10, 20], L: [0, 6]}
workload: {width: 16, depth: 2, n_points: 64, steps: 1500, eval_every_steps: 250}
"""

ONE_LONG_TRIAL = """\
name: long
experiment: manifold_classification
grid: {k: [5], L: [2]}
workload: {width: 32, depth: 3, n_points: 128, steps: 2500, eval_every_steps: 100}
execution: {checkpoint_every_steps: 100}
"""


def start_launch(sweep: Path, store: Path, *args: str) -> subprocess.Popen:
    """`sbsweep launch` as a real process in its own process group (so it can be killed whole)."""
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "launch", str(sweep), "--store", str(store), "--num-cpus", "2", "--no-plot", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )


def wait_until(condition, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


def stored(store: Path) -> int:
    return len(list((store / "trials").glob("*.parquet"))) if (store / "trials").is_dir() else 0


def checkpointed_step(store: Path) -> int:
    steps = [int(p.read_text()) for p in store.glob("_tune/*/*/*/checkpoint_*/step.txt") if p.read_text().strip()]
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


def test_a_killed_sweep_resumes_without_duplicates_and_equals_an_uninterrupted_run(write_sweep, tmp_path):
    sweep = write_sweep(SIX_TRIALS)
    store = tmp_path / "interrupted"
    launch = start_launch(sweep, store)
    wait_until(lambda: stored(store) >= 2)
    kill_group(launch)
    cut_at = stored(store)
    assert 0 < cut_at < 6, "the kill must land mid-sweep for this test to mean anything"

    status = CliRunner().invoke(cli, ["status", str(store)])
    assert status.exit_code == 0
    assert status.output.splitlines()[1].split() == ["six", "manifold_classification", "6", str(cut_at), "0", str(6 - cut_at)]

    again = relaunch(sweep, store)
    assert again.returncode == 0, again.stderr
    assert f"{cut_at} already stored" in again.stderr

    # The uninterrupted reference: the same trials, run start to end by the same trial code.
    uninterrupted = [run_trial(trial) for trial in expand(load_spec(sweep))]
    clean = pd.concat([rows["trials"].to_pandas() for rows in uninterrupted])
    clean_curves = pd.concat([rows["curves"].to_pandas() for rows in uninterrupted])

    resumed = pd.read_parquet(store / "trials")
    assert resumed["trial_id"].is_unique and len(resumed) == 6 and set(resumed["status"]) == {"ok"}
    columns = ["trial_id", "k", "L", "seed", "accuracy", "loss", "steps"]
    pd.testing.assert_frame_equal(
        resumed[columns].sort_values("trial_id", ignore_index=True), clean[columns].sort_values("trial_id", ignore_index=True), check_dtype=False
    )
    curve_columns = ["trial_id", "step", "loss", "accuracy"]
    by_key = ["trial_id", "step"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(store / "curves")[curve_columns].sort_values(by_key, ignore_index=True),
        clean_curves[curve_columns].sort_values(by_key, ignore_index=True),
        check_dtype=False,
    )


def relaunch(sweep: Path, store: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "launch", str(sweep), "--store", str(store), "--num-cpus", "2", "--no-plot", *args],
        capture_output=True, text=True, timeout=240,
    )


def test_a_trial_cut_off_mid_training_resumes_from_its_checkpoint_and_restart_starts_over(write_sweep, tmp_path):
    sweep = write_sweep(ONE_LONG_TRIAL)
    store = tmp_path / "store"
    launch = start_launch(sweep, store)
    wait_until(lambda: checkpointed_step(store) >= 300)
    kill_group(launch)
    assert stored(store) == 0
    shutil.copytree(store, tmp_path / "restarted")

    resumed = relaunch(sweep, store)
    assert resumed.returncode == 0, resumed.stderr
    restarted = relaunch(sweep, tmp_path / "restarted", "--restart")
    assert restarted.returncode == 0, restarted.stderr

    uninterrupted = run_trial(expand(load_spec(sweep))[0])["trials"].to_pylist()[0]
    resumed_row = pd.read_parquet(store / "trials").iloc[0]
    restarted_row = pd.read_parquet(tmp_path / "restarted" / "trials").iloc[0]
    assert resumed_row["status"] == "ok" and resumed_row["resumed_from_step"] >= 300
    assert restarted_row["status"] == "ok" and restarted_row["resumed_from_step"] == 0
    for row in (resumed_row, restarted_row):
        assert (row["accuracy"], row["loss"]) == (uninterrupted["accuracy"], uninterrupted["loss"])
    assert not list(store.glob("_tune/*/*/*/checkpoint_*")), "a stored trial's checkpoints are removed"


def kill_the_worker_mid_trial(sweep: Path, store: Path, *args: str) -> subprocess.CompletedProcess:
    launch = start_launch(sweep, store, *args)
    wait_until(lambda: checkpointed_step(store) >= 300)
    workers = [pid for pid, command in descendants(launch.pid) if "ImplicitFunc" in command]
    assert len(workers) == 1, descendants(launch.pid)
    os.kill(workers[0], signal.SIGKILL)
    out, err = launch.communicate(timeout=240)
    return subprocess.CompletedProcess(launch.args, launch.returncode, out, err)


def test_a_worker_killed_mid_trial_is_retried_from_its_checkpoint(write_sweep, tmp_path):
    store = tmp_path / "store"
    done = kill_the_worker_mid_trial(write_sweep(ONE_LONG_TRIAL), store)
    assert done.returncode == 0, done.stderr
    assert "1 retried after a crash" in done.stderr
    row = pd.read_parquet(store / "trials").iloc[0]
    assert row["status"] == "ok" and row["resumed_from_step"] >= 300


def test_a_worker_that_dies_past_its_retries_is_recorded_as_failed_with_the_error(write_sweep, tmp_path):
    store = tmp_path / "store"
    done = kill_the_worker_mid_trial(write_sweep(ONE_LONG_TRIAL), store, "--set", "execution.max_failures=0")
    assert done.returncode == 1
    row = pd.read_parquet(store / "trials").iloc[0]
    assert row["status"] == "failed"
    assert row["error"] and "\n" not in row["error"]
    assert "failed" in done.stdout and row["trial_id"] in done.stdout


def test_a_truncated_part_file_is_reported_by_name_by_status(write_sweep, tmp_path):
    from orchestrator.store import open_store, write_trial

    store = open_store(tmp_path / "store")
    trial = expand(load_spec(write_sweep()))[0]
    write_trial(store, run_trial(trial))
    part = store / "curves" / f"{trial.trial_id}.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    result = CliRunner().invoke(cli, ["status", str(store)])
    assert result.exit_code == 1
    assert f"unreadable part file {part}" in result.output
