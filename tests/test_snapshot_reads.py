"""A researcher's pandas, pyarrow, DuckDB or polars session open on the store while sweeps run:
through flushes, a `kill -9` of the launch, the relaunch that finishes it, its end-of-launch
merge and a `compact`, every read of the resolved table folders is a snapshot. Real launches as
real processes, four real readers polling in a thread."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pandas as pd
from processes import SIX_TRIALS, kill_group, start_launch, stored, wait_until
from test_store import plain_readers

from orchestrator.store import read_table
from workloads import TABLES


def test_readers_polling_through_launches_a_kill_and_merges_never_fail_never_see_a_trial_twice_and_never_lose_one(write_sweep, tmp_path):
    sweep = write_sweep(SIX_TRIALS)
    store = tmp_path / "store"
    readers = {"sbsweep": lambda: (read_table(store, TABLES["trials"], columns=["trial_id"])["trial_id"].tolist(), []),
               **plain_readers(store, resolved=True)}
    seen = dict.fromkeys(readers, 0)
    reads = dict.fromkeys(readers, 0)
    errors: list[tuple[str, str]] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            for name, read in readers.items():
                try:
                    trial_ids, _ = read()
                except Exception as error:  # counted: a snapshot read never fails
                    errors.append((name, f"{type(error).__name__}: {str(error)[:300]}"))
                    continue
                if len(trial_ids) != len(set(trial_ids)) or len(trial_ids) < seen[name]:
                    errors.append((name, f"{len(trial_ids)} rows, {len(set(trial_ids))} trials, {seen[name]} before"))
                seen[name] = len(trial_ids)
                reads[name] += 1
            time.sleep(0.01)

    first = start_launch(sweep, store)
    wait_until(lambda: stored(store) >= 2)
    poller = threading.Thread(target=poll)
    poller.start()
    try:
        kill_group(first)  # kill -9, mid-flush or not
        finished = start_launch(sweep, store)  # resumes, then merges its flushes at the end
        _, err = finished.communicate(timeout=180)
        assert finished.returncode == 0, err
        compact = subprocess.run([sys.executable, "-m", "orchestrator", "compact", str(store)], capture_output=True, text=True, timeout=60)
        assert compact.returncode == 0, compact.stderr
        time.sleep(0.2)
    finally:
        stop.set()
        poller.join()
    assert errors == []
    assert all(count >= 3 for count in reads.values()), reads
    assert seen["sbsweep"] == 6 and all(count == 6 for count in seen.values()), seen
    assert len(pd.read_parquet(store / "trials")) == 6
