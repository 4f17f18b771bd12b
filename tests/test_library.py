"""Launch as a library, one launch of a sweep at a time, and the code version on every row."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import snapshot

from orchestrator import LaunchReport, ResultStore, SweepLocked, TrialStatus, launch
from orchestrator.cli import cli
from orchestrator.lock import sweep_lock
from orchestrator.store import open_store

REPO = Path(__file__).resolve().parents[1]


def logging_state() -> dict:
    import logging

    names = ["", *logging.root.manager.loggerDict]
    return {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers), logging.getLogger(name).propagate)
            for name in names if not isinstance(logging.root.manager.loggerDict.get(name), logging.PlaceHolder)}


def test_a_notebook_launches_a_sweep_and_reads_the_store_as_dataframes(local_ray, write_sweep, tmp_path, monkeypatch):
    monkeypatch.setenv("SBSWEEP_STORE", str(tmp_path / "store"))  # the notebook's store, as the CLI would take it
    environment, loggers = dict(os.environ), logging_state()
    report = launch(write_sweep(), overrides=["seeds=[0, 1]"], plot=False, echo=lambda line: None)
    assert dict(os.environ) == environment  # Ray's and Tune's settings for the launch are given back
    assert {name: state for name, state in logging_state().items() if name in loggers} == loggers
    assert report.store == tmp_path / "store"
    assert isinstance(report, LaunchReport) and report.ok
    assert (report.trials, report.ran, report.skipped) == (8, 8, 0)
    assert report.statuses == {TrialStatus.OK: 8} and report.failures == []
    assert 1 <= report.batches < 8  # tiny trials share batches
    store = ResultStore()
    assert store.path == tmp_path / "store" and store.sweeps == ["tiny"]
    trials = store.table("trials", sweep="tiny")
    pd.testing.assert_frame_equal(trials, pd.read_parquet(tmp_path / "store" / "trials"))
    assert len(store.table("curves")) == 8 * 5
    again = launch(write_sweep(), store=tmp_path / "store", overrides=["seeds=[0, 1]"], plot=False, echo=lambda line: None)
    assert (again.ran, again.skipped, again.ok) == (0, 8, True)


HOLD_THE_LOCK = """
import sys, time
from pathlib import Path
from orchestrator.lock import sweep_lock
with sweep_lock(Path(sys.argv[1]), "tiny"):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_launch_of_a_running_sweep_is_refused_at_once_naming_it_and_a_killed_holder_blocks_nothing(write_sweep, tmp_path):
    store = open_store(tmp_path / "store")
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(store)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = snapshot(store)
        start = time.monotonic()
        result = CliRunner().invoke(cli, ["launch", str(write_sweep()), "--store", str(store)])
        assert time.monotonic() - start < 10  # before Ray starts
        assert result.exit_code == 2
        [line] = result.output.strip().splitlines()
        assert line.startswith(f"Error: {store}: sweep 'tiny' is already being launched into this store")
        assert f"pid {holder.pid} on host {socket.gethostname()}, started 20" in line
        assert snapshot(store) == before
        with pytest.raises(SweepLocked), sweep_lock(store, "tiny"):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with sweep_lock(store, "tiny"):  # the kernel dropped the dead holder's lock: nothing is stale
        assert (store / ".locks" / "tiny.lock").exists()
    assert not (store / ".locks" / "tiny.lock").exists()


def test_every_row_records_the_git_commit_it_ran_and_whether_the_code_was_dirty():
    from orchestrator.provenance import code_version

    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    changes = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "orchestrator", "workloads", "results_schema"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert code_version() == (head, bool(changes))


def test_outside_a_checkout_the_code_version_is_the_package_version(tmp_path):
    for package in ("orchestrator", "results_schema"):
        shutil.copytree(REPO / package, tmp_path / package)
    script = "from orchestrator.provenance import code_version; from orchestrator import __version__; print(code_version() == (__version__, None))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)})
    assert done.stdout.strip() == "True", done.stderr


def test_overrides_given_with_a_sweepspec_are_refused_not_ignored(write_sweep, tmp_path):
    from orchestrator.spec import load_spec

    spec = load_spec(write_sweep())
    with pytest.raises(ValueError, match=r"overrides \['workload.steps=5'\] apply to a sweep file"):
        launch(spec, tmp_path / "store", overrides=["workload.steps=5"])
    assert not (tmp_path / "store").exists()  # refused before anything is written


def tree(directory: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and every folder under `directory`."""
    return {str(p.relative_to(directory)): (p.read_bytes() if p.is_file() else None) for p in sorted(directory.rglob("*"))}


def test_the_lock_comes_first_so_a_refused_launch_new_store_or_old_leaves_every_file_and_folder_as_it_was(write_sweep, tmp_path):
    sweep = write_sweep()
    # A first launch into a new store takes the lock before it writes anything (here held by a
    # stand-in that stopped right there): a second first launch is refused and writes nothing.
    fresh = tmp_path / "fresh"
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(fresh)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = tree(fresh)
        assert set(before) == {".locks", ".locks/tiny.lock"}  # the lock is all the first launch has made
        result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(fresh)])
        assert result.exit_code == 2 and "is already being launched into this store" in result.output
        assert tree(fresh) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # Refused for its spec, a launch into an existing store leaves no trace either (no .locks/).
    store = open_store(tmp_path / "store")
    from orchestrator.spec import load_spec
    from orchestrator.store import save_sweep

    save_sweep(store, "tiny", {**load_spec(sweep).stored_form(), "experiment": "knn"})
    before = tree(store)
    result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store)])
    assert result.exit_code == 2 and "already stored with a different spec" in result.output
    assert tree(store) == before


def test_overwrite_replaces_a_sweep_with_its_figures_and_its_leftover_checkpoints(local_ray, write_sweep, tmp_path):
    store = tmp_path / "store"
    first = launch(write_sweep(), store=store, echo=lambda line: None)
    assert {p.name for p in first.figures} >= {"figure4_tiny.png", "figure4_tiny.pdf"}
    replaced = set(pd.read_parquet(store / "trials")["trial_id"])
    leftover = store / "_tune" / "tiny" / "launch-19990101-000000-trials" / "batch-00000"  # a killed launch's checkpoint
    leftover.mkdir(parents=True)
    (leftover / "batch.json").write_text("{}")
    again = launch(write_sweep(), store=store, overrides=["workload.steps=20"], overwrite=True, plot=False, echo=lambda line: None)
    assert again.ok and again.ran == 4
    assert not any((store / "figures" / p.name).exists() for p in first.figures)  # drawn from the replaced trials
    assert not leftover.parent.exists()
    assert set(pd.read_parquet(store / "trials")["trial_id"]).isdisjoint(replaced)
