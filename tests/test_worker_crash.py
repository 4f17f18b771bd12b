"""A crashed worker is retried, not a lost sweep: its batch resumes from its checkpoint, and past
its retries only the trial it was running crashes. Each test kills a real Ray worker with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pandas as pd
from processes import checkpointed_step, descendants, start_launch, wait_until

# One batch: two short trials, which the batch reports before the long one's first checkpoint,
# then a long one.
BATCH_WITH_A_LONG_TRIAL = """\
name: long
experiment: manifold_classification
grid: {k: [5], L: [2], steps: [200, 300, 1500]}
workload: {width: 32, depth: 3, n_points: 128, eval_every_steps: 100}
execution: {checkpoint_every_steps: 100, checkpoint_min_interval_s: 0, batch_size: 3}
"""


def by_steps(store: Path) -> pd.DataFrame:
    """The trials table indexed by each trial's `steps` (from its config: crashed ones have no results row)."""
    trials = pd.read_parquet(store / "trials")
    return trials.set_index(trials["config_json"].map(lambda text: json.loads(text)["steps"]))


def kill_the_workers_mid_trial(*launches: tuple[Path, Path, tuple[str, ...]]) -> list[subprocess.CompletedProcess]:
    """Start each (sweep, store, args) launch, SIGKILL its one worker once its long trial has
    checkpointed step 300, and let it finish. Each launch starts once the one before has been
    killed (each on its own Ray): started together, a loaded machine could let the second finish
    before its turn to be killed came."""
    started = []
    for sweep, store, args in launches:
        launch = start_launch(sweep, store, *args)
        started.append((launch, store))
        wait_until(lambda store=store: checkpointed_step(store) >= 300)
        workers = [pid for pid, command in descendants(launch.pid) if "ImplicitFunc" in command]
        assert len(workers) == 1, descendants(launch.pid)
        os.kill(workers[0], signal.SIGKILL)
    done = []
    for launch, _ in started:
        out, err = launch.communicate(timeout=240)
        done.append(subprocess.CompletedProcess(launch.args, launch.returncode, out, err))
    return done


def test_a_killed_workers_batch_is_retried_from_its_checkpoint_and_past_its_retries_its_unreported_trials_crash(write_sweep, tmp_path):
    sweep = write_sweep(BATCH_WITH_A_LONG_TRIAL)
    retried, no_retries = tmp_path / "retried", tmp_path / "no_retries"
    done, crashed = kill_the_workers_mid_trial((sweep, retried, ()), (sweep, no_retries, ("--set", "execution.max_failures=0")))

    # Retried: the batch skips the trials it reported, and the long one resumes from its checkpoint.
    assert done.returncode == 0, done.stderr
    assert "1 retried after a crash" in done.stderr
    assert "reported twice" not in done.stderr  # a redone trial would be reported again
    trials = by_steps(retried)
    assert len(trials) == 3 and set(trials["status"]) == {"ok"}
    assert trials.loc[1500, "resumed_from_step"] >= 300
    assert trials.loc[200, "resumed_from_step"] == trials.loc[300, "resumed_from_step"] == 0
    assert trials.loc[200, "started_at"] < trials.loc[1500, "started_at"]  # run once, before the kill

    # No retries left: what the batch reported is stored, the trial it was running crashed.
    assert crashed.returncode == 1
    trials = by_steps(no_retries)
    assert list(trials.loc[[200, 300], "status"]) == ["ok", "ok"]
    row = trials.loc[1500]
    assert row["status"] == "crashed"
    assert row["error"] and "\n" not in row["error"]
    assert "crashed" in crashed.stdout and row["trial_id"] in crashed.stdout


def test_sweeps_launched_together_each_keep_their_own_retries(tmp_path, write_sweep):
    """`reproduce` runs several sweeps' batches in one Tune run, whose FailureConfig holds the most
    retries any of them allows; Tune decides each retry by the trial's own max_failures, which the
    driver sets from the batch's sweep, so a sweep that allows none is never retried for another's."""
    import io

    from ray import tune
    from ray.tune.experiment import Trial

    from orchestrator.plan import expand, plan
    from orchestrator.progress import ProgressLine
    from orchestrator.ray_backend import _WriterCallback
    from orchestrator.spec import load_spec
    from orchestrator.store import open_store
    from orchestrator.writer import FlushPolicy, StoreWriter

    store = open_store(tmp_path / "store")
    owners = []
    for name in ("patient", "strict"):
        batches = plan(expand(load_spec(write_sweep(), [f"name={name}"])), lambda t: 1.0, slots=1, batch_size=4)
        writer = StoreWriter(store, name, batches, {}, ProgressLine(name, 4, stream=io.StringIO()), FlushPolicy())
        owners.append((writer, 0))
    callback = _WriterCallback(owners, max_failures=[2, 0])
    trials = [Trial("sbsweep_batch", config={"batch": batch}, placement_group_factory=tune.PlacementGroupFactory([{"CPU": 1}]),
                    max_failures=2, stub=True) for batch in (0, 1)]  # as the shared FailureConfig makes them
    for trial in trials:
        callback.on_trial_start(0, trials, trial)
        trial.run_metadata.num_failures = 1  # its worker died once
    patient, strict = trials
    assert patient.should_recover() and not strict.should_recover()
    patient.run_metadata.num_failures = 3
    assert not patient.should_recover()  # past its own two retries
