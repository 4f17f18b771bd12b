"""Interruption is a non-event: killed launches resume, nothing duplicates, and a reader of the
store never notices.

Every test here kills real processes (a launch's whole process group, or one Ray worker) with
SIGKILL and checks the store afterwards.
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import with_results
from processes import SIX_TRIALS, checkpointed_step, kill_group, start_launch, stored, wait_until

from orchestrator.cli import cli
from orchestrator.plan import expand
from orchestrator.spec import load_spec
from orchestrator.trial import run_trial
from workloads import TABLES

ONE_LONG_TRIAL = """\
name: long
experiment: manifold_classification
grid: {k: [5], L: [2]}
workload: {width: 32, depth: 3, n_points: 128, steps: 1500, eval_every_steps: 100}
execution: {checkpoint_every_steps: 100, checkpoint_min_interval_s: 0}
"""


class Readers:
    """sbsweep's reader and pandas, pyarrow, DuckDB and polars on the resolved table folders (the
    pattern docs/store.md gives), polling a store in a thread: every error, every read that held
    a trial twice, and every read that held fewer trials than the same reader's read before."""

    def __init__(self, store: Path) -> None:
        from test_store import plain_readers

        from orchestrator.store import read_table

        self.readers = {"sbsweep": lambda: (read_table(store, TABLES["trials"], columns=["trial_id"])["trial_id"].tolist(), []),
                        **plain_readers(store, resolved=True)}
        self.seen, self.reads = dict.fromkeys(self.readers, 0), dict.fromkeys(self.readers, 0)
        self.problems: list[tuple[str, str]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.poll)

    def poll(self) -> None:
        while not self.stop.is_set():
            for name, read in self.readers.items():
                try:
                    trial_ids, _ = read()
                except Exception as error:  # counted: a snapshot read never fails
                    self.problems.append((name, f"{type(error).__name__}: {str(error)[:300]}"))
                    continue
                if len(trial_ids) != len(set(trial_ids)) or len(trial_ids) < self.seen[name]:
                    self.problems.append((name, f"{len(trial_ids)} rows, {len(set(trial_ids))} trials, {self.seen[name]} before"))
                self.seen[name] = len(trial_ids)
                self.reads[name] += 1
            time.sleep(0.3)  # a reader now and then, not a second load on the machine

    def read_again(self) -> None:
        """Wait until every reader has read once more, so the last reads see the store as it is now."""
        before = dict(self.reads)
        wait_until(lambda: all(self.reads[name] > count for name, count in before.items()) or bool(self.problems))

    def __enter__(self) -> Readers:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def test_a_batched_sweep_killed_with_sigkill_resumes_without_duplicates_and_equals_an_uninterrupted_run(local_ray, write_sweep, tmp_path):
    """... while readers of every kind poll the store through the kill, the relaunch, its
    end-of-launch merge and a `compact`: none fails, sees a trial twice or loses one."""
    sweep = write_sweep(SIX_TRIALS)  # two batches of three trials, one after the other
    store = tmp_path / "interrupted"
    readers = Readers(store)  # its readers imported now: the kill follows the second stored trial at once
    launch = start_launch(sweep, store)
    wait_until(lambda: stored(store) >= 2)
    with readers:
        kill_group(launch)
        cut_at = stored(store)
        assert 0 < cut_at < 6, "the kill must land mid-sweep for this test to mean anything"

        status = CliRunner().invoke(cli, ["status", str(store)])
        assert status.exit_code == 0
        assert status.output.splitlines()[1].split() == ["six", "manifold_classification", "6", str(cut_at), "0", "0", "0", str(6 - cut_at)]

        again = relaunch(sweep, store)
        assert again.exit_code == 0, again.output
        assert f"{cut_at} already stored" in again.output
        compact = CliRunner().invoke(cli, ["compact", str(store)])
        assert compact.exit_code == 0, compact.output
        readers.read_again()
    assert readers.problems == []
    assert all(count >= 3 for count in readers.reads.values()) and all(count == 6 for count in readers.seen.values()), readers.reads

    # The uninterrupted reference: the same trials, run start to end by the same trial code.
    uninterrupted = [run_trial(trial) for trial in expand(load_spec(sweep))]
    clean = pd.concat([rows["trials"].to_pandas().merge(rows["manifold_classification"].to_pandas().drop(columns=["sweep", "seed"]), on="trial_id")
                       for rows in uninterrupted])
    clean_curves = pd.concat([rows["curves"].to_pandas() for rows in uninterrupted])

    resumed = with_results(store)
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


def relaunch(sweep: Path, store: Path, *args: str):
    """`sbsweep launch` again, in this process on the tests' shared Ray (the killed launch was a real
    process with a Ray of its own, killed whole)."""
    return CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store), "--no-plot", *args])


def test_a_trial_cut_off_mid_training_resumes_from_its_checkpoint_and_restart_starts_over(local_ray, write_sweep, tmp_path):
    sweep = write_sweep(ONE_LONG_TRIAL)
    store = tmp_path / "store"
    launch = start_launch(sweep, store)
    wait_until(lambda: checkpointed_step(store) >= 300)
    kill_group(launch)
    assert stored(store) == 0
    shutil.copytree(store, tmp_path / "restarted", symlinks=True)

    for relaunched in (relaunch(sweep, store), relaunch(sweep, tmp_path / "restarted", "--restart")):
        assert relaunched.exit_code == 0, relaunched.output

    rows = run_trial(expand(load_spec(sweep))[0])
    uninterrupted = {**rows["trials"].to_pylist()[0], **rows["manifold_classification"].to_pylist()[0]}
    resumed_row = with_results(store).iloc[0]
    restarted_row = with_results(tmp_path / "restarted").iloc[0]
    assert resumed_row["status"] == "ok" and resumed_row["resumed_from_step"] >= 300
    assert restarted_row["status"] == "ok" and restarted_row["resumed_from_step"] == 0
    for row in (resumed_row, restarted_row):
        assert (row["accuracy"], row["loss"]) == (uninterrupted["accuracy"], uninterrupted["loss"])
    assert not list(store.glob("_tune/*/*/*/checkpoint_*")), "a stored trial's checkpoints are removed"


def test_a_truncated_part_file_is_reported_by_name_by_status(write_sweep, tmp_path):
    from orchestrator.store import open_store, write_trial

    store = open_store(tmp_path / "store")
    trial = expand(load_spec(write_sweep()))[0]
    write_trial(store, run_trial(trial), TABLES)
    [part] = (store / "curves" / trial.sweep).glob("*.parquet")
    part.write_bytes(part.read_bytes()[:-20])
    result = CliRunner().invoke(cli, ["status", str(store)])
    assert result.exit_code == 1
    [trials_part] = (store / "trials" / trial.sweep).glob("*.parquet")
    assert f"damaged flush {trials_part}: {part}: " in result.output  # the flush, and its part that cannot be read
    assert f"launch '{trial.sweep}' again" in result.output


def test_status_counts_what_it_can_read_beside_an_unreadable_trials_part_and_names_it(write_sweep, tmp_path):
    from orchestrator.store import open_store, save_sweep, write_trial

    store = open_store(tmp_path / "store")
    spec = load_spec(write_sweep())
    save_sweep(store, spec.name, spec.stored_form())
    first, second = expand(spec)[:2]
    write_trial(store, run_trial(first), TABLES)
    before = set((store / "trials" / spec.name).glob("*.parquet"))
    write_trial(store, run_trial(second), TABLES)
    [part] = set((store / "trials" / spec.name).glob("*.parquet")) - before
    part.write_bytes(part.read_bytes()[:-20])
    result = CliRunner().invoke(cli, ["status", str(store)])
    assert result.exit_code == 1
    [row] = [line.split() for line in result.output.splitlines() if line.split()[:1] == [spec.name]]
    assert row[:7] == [spec.name, "manifold_classification", "4", "1", "0", "0", "0"] and row[7] == "3"  # 1 ok read, 3 missing
    assert f"damaged flush {part}: {part}: unreadable part file" in result.output and "counted without the damaged flushes" in result.output


@pytest.mark.parametrize("tear", ["truncate", "delete"])
def test_a_torn_checkpoint_is_used_only_as_far_as_it_is_complete(tmp_path, tear):
    """Tune copies a checkpoint into place without a temporary name: a crash mid-copy leaves a
    state that is cut short or missing. The unit then starts from step 0; what was reported stays known."""
    import torch

    from orchestrator.checkpoints import STATE_FILE, BatchProgress, load_checkpoint, save_checkpoint

    stored = tmp_path / "checkpoint"
    state = {"step": 300, "nets": {"w": torch.arange(10_000.0)}, "rows": []}
    save_checkpoint(BatchProgress({"tiny-a"}, "tiny-b", state), lambda directory: shutil.copytree(directory, stored))
    whole = load_checkpoint(str(stored), "cpu")
    assert (whole.unit, whole.state["step"], whole.reported) == ("tiny-b", 300, {"tiny-a"})
    path = stored / STATE_FILE
    if tear == "truncate":
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    else:
        path.unlink()
    torn = load_checkpoint(str(stored), "cpu")
    assert (torn.unit, torn.state, torn.reported) == (None, None, {"tiny-a"})
    (stored / "batch.json").write_text('{"unit": "tiny-b", "st')  # the metadata itself cut short
    assert load_checkpoint(str(stored), "cpu") == BatchProgress()
