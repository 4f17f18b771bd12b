"""The driver's writer, without Ray: what the batches report reaches the store once, in flushes
that grow further apart as a launch runs, and a batch lost past its retries crashes its unreported
trials and preparations."""

from __future__ import annotations

import dataclasses
import io

import pandas as pd

from orchestrator.job import Stage
from orchestrator.plan import expand, plan
from orchestrator.preparation import PreparedResult
from orchestrator.progress import ProgressLine
from orchestrator.rows import unfinished_trial
from orchestrator.spec import load_spec
from orchestrator.store import open_store, prepared_ids, read_table
from orchestrator.writer import FlushPolicy, StoreWriter
from results_schema import TrialStatus
from workloads import TABLES


class Clock:
    """A clock the test moves by hand (the writer's time source, passed in)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def writer_for(tmp_path, write_sweep, policy: FlushPolicy, clock: Clock, batch_size: int = 2) -> tuple[StoreWriter, list]:
    trials = expand(load_spec(write_sweep(), ["seeds=[0, 1]"]))
    batches = plan(trials, lambda t: 1.0, slots=2, batch_size=batch_size)
    store = open_store(tmp_path / "store")
    progress = ProgressLine("tiny", len(trials), stream=io.StringIO())
    return StoreWriter(store, "tiny", batches, {}, progress, policy, clock=clock), trials


def test_a_trial_reported_twice_by_a_retried_batch_is_stored_once(tmp_path, write_sweep):
    writer, trials = writer_for(tmp_path, write_sweep, FlushPolicy(), Clock())
    rows = unfinished_trial(trials[0], "a crash", TrialStatus.CRASHED)
    writer.take_rows(rows)
    writer.take_rows(rows)
    writer.flush()
    assert writer.counts.duplicates == 1
    assert read_table(writer.store, TABLES["trials"])["trial_id"].tolist() == [trials[0].trial_id]


def test_a_finished_trial_reaches_the_store_within_flush_every_s_however_long_the_launch_has_run(tmp_path, write_sweep):
    clock = Clock()
    writer, trials = writer_for(tmp_path, write_sweep, FlushPolicy(every_s=600), clock)
    reported_at: dict[str, float] = {}
    stored_at: dict[str, float] = {}
    for tick in range(2400):  # 10 hours of Tune steps 15 s apart, a trial finishing every minute
        clock.now = 15.0 * tick
        if tick % 4 == 0:
            trial = dataclasses.replace(trials[0], trial_id=f"tiny-{tick}")
            writer.take_rows(unfinished_trial(trial, "x", TrialStatus.CRASHED))
            reported_at[trial.trial_id] = clock.now
        before = writer.counts.flushes
        writer.tick()
        if writer.counts.flushes > before:
            stored_at.update({t: clock.now for t in reported_at if t not in stored_at})
    waits = {t: stored_at[t] - reported_at[t] for t in stored_at}
    assert len(waits) >= len(reported_at) - 10 and len(read_table(writer.store, TABLES["trials"])) == len(waits)
    assert max(waits.values()) <= 600 + 15  # flush_every_s and the tick after it
    assert max(wait for t, wait in waits.items() if reported_at[t] > 9 * 3600) <= 600 + 15  # ten hours in, as at the start


def test_a_batch_lost_past_its_retries_crashes_only_what_it_had_not_reported(tmp_path, write_sweep):
    writer, trials = writer_for(tmp_path, write_sweep, FlushPolicy(), Clock())
    batch = writer.batches[0]
    reported, lost = batch.trials[0], batch.trials[1:]
    writer.take_rows(unfinished_trial(reported, "loss became nan", TrialStatus.DIVERGED))
    writer.batch_failed(0, "Traceback ...\nRayActorError: the worker died")
    writer.flush()
    stored = read_table(writer.store, TABLES["trials"]).set_index("trial_id")
    assert stored.loc[reported.trial_id, "status"] == TrialStatus.DIVERGED
    assert all(stored.loc[t.trial_id, "status"] == TrialStatus.CRASHED for t in lost)
    assert all("RayActorError: the worker died" in stored.loc[t.trial_id, "error"] for t in lost)


def test_prepared_states_are_stored_once_and_a_lost_preparation_says_why(tmp_path, write_sweep):
    writer, trials = writer_for(tmp_path, write_sweep, FlushPolicy(), Clock(), batch_size=1)
    job = dataclasses.replace(trials[0], trial_id="prepared-abc", stage=Stage.PREPARE)
    writer.batches = [dataclasses.replace(writer.batches[0], units=((job,),))]
    writer.take_prepared([PreparedResult("prepared-ok", b"theta")])
    writer.take_prepared([PreparedResult("prepared-ok", b"other")])  # a retried batch's second report
    writer.batch_failed(0, "RayActorError: the worker died")
    assert prepared_ids(writer.store) == {"prepared-ok"}
    assert (writer.store / "prepared" / "prepared-ok.pt").read_bytes() == b"theta"
    assert writer.prepared["prepared-abc"] == PreparedResult("prepared-abc", status=TrialStatus.CRASHED, error="RayActorError: the worker died")
    assert read_table(writer.store, TABLES["trials"]).empty and isinstance(read_table(writer.store, TABLES["trials"]), pd.DataFrame)
