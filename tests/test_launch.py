"""`sbsweep launch` end to end on a real local Ray: real trials, real Parquet, real figures."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
from click.testing import CliRunner
from conftest import snapshot, with_results

from orchestrator.cli import cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def launch(*args: str):
    return CliRunner().invoke(cli, ["launch", *args, "--num-cpus", "2"], catch_exceptions=False)


def test_a_tiny_launch_as_a_real_subprocess_writes_the_store_and_figure_4_and_a_relaunch_runs_nothing(write_sweep, tmp_path):
    store = tmp_path / "store"
    env = {**os.environ, "SBSWEEP_STORE": str(store)}  # the store comes from the environment
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "launch", str(write_sweep()), "--num-cpus", "2"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "[tiny] 4/4 done" in done.stderr
    # Only sbsweep's own lines: none of Tune's per-trial reports between the progress lines.
    assert "Last result" not in done.stdout + done.stderr and "Trial sbsweep_batch" not in done.stdout + done.stderr

    trials = with_results(store)  # the trials table and Experiment 3's own (its config and accuracy)
    assert len(trials) == 4 and set(trials["status"]) == {"ok"}
    assert {"trial_id", "sweep", "experiment", "k", "L", "seed", "accuracy", "loss", "steps", "status", "wall_s"} <= set(trials.columns)
    assert sorted(zip(trials["k"], trials["L"])) == [(3, 0), (3, 6), (20, 0), (20, 6)]
    assert trials["node_id"].notna().all() and (trials["steps"] == 40).all()
    curves = pd.read_parquet(store / "curves")
    assert len(curves) == 4 * 5 and set(curves["trial_id"]) == set(trials["trial_id"])

    for suffix in (".png", ".pdf"):
        figure = store / "figures" / f"figure4_tiny{suffix}"
        assert figure.stat().st_size > 1000
    assert (store / "figures" / "figure4_tiny.png").read_bytes()[:8] == PNG_MAGIC
    assert "4 ok" in " ".join(done.stdout.split()) or "ok 4" in " ".join(done.stdout.split())

    data_before = {k: v for k, v in snapshot(store).items() if k.startswith(("trials", "curves"))}
    again = launch(str(write_sweep()), "--store", str(store))  # in process: nothing to run, so no Ray
    assert again.exit_code == 0, again.output
    assert "4 already stored" in again.output
    assert {k: v for k, v in snapshot(store).items() if k.startswith(("trials", "curves"))} == data_before


def test_a_diverging_trial_is_recorded_as_failed_while_the_others_finish(local_ray, write_sweep, tmp_path):
    store = tmp_path / "store"
    result = launch(str(write_sweep()), "--store", str(store), "--set", "grid={k: [3], learning_rate: [0.001, 1.0e+30]}", "--no-plot")
    assert result.exit_code == 1, result.output
    trials = pd.read_parquet(store / "trials")
    assert len(trials) == 2
    by_rate = trials.set_index(trials["config_json"].str.extract(r'"learning_rate": ([^,]+),')[0])
    assert by_rate.loc["1e+30", "status"] == "diverged"
    assert by_rate.loc["1e+30", "error"].startswith("loss became nan")
    assert by_rate.loc["0.001", "status"] == "ok"
    assert f"diverged {by_rate.loc['1e+30', 'trial_id']}: loss became nan" in result.output


def test_a_bad_sweep_file_exits_2_with_one_line_and_writes_nothing(write_sweep, tmp_path):
    bad = write_sweep("name: x\nexperiment: manifold_classification\nworkload: {width: -3}\n", name="bad.yaml")
    store = tmp_path / "store"
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "launch", str(bad), "--store", str(store)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"Error: {bad}:3: workload.width: Input should be greater than 0, got -3"]
    assert not store.exists()
