"""The Parquet store: its contract, all-or-nothing trials, and refusing what is not a store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from conftest import snapshot

from orchestrator.plan import expand
from orchestrator.rows import concat_tables, tables_from_bytes, tables_to_bytes, unfinished_trial
from orchestrator.spec import load_spec
from orchestrator.store import clean_uncommitted, compact, finished_trial_ids, open_store, read_table, stored_trial_ids, write_flush, write_trial
from orchestrator.trial import run_trial
from results_schema import CURVES, MARKER_FILE, SCHEMA_VERSION, TRIALS, StoreError, TrialStatus, to_arrow
from workloads import REGISTRY, TABLES

DOCUMENTED_TRIAL_COLUMNS = {"trial_id", "sweep", "experiment", "k", "L", "seed", "accuracy", "loss", "steps", "status", "wall_s"}
PROVENANCE_COLUMNS = {"config_json", "config_hash", "seed", "sbsweep_version", "device", "started_at", "wall_s"}


@pytest.fixture
def trial_tables(write_sweep):
    """The real rows of one real tiny trial."""
    trial = expand(load_spec(write_sweep()))[0]
    return trial, run_trial(trial, torch.device("cpu"))


def test_the_contract_declares_the_documented_and_provenance_columns():
    # Generic columns are the trials table's; an experiment's config and results are its own table's.
    declared = set(TRIALS.column_names) | set(REGISTRY["manifold_classification"].table.column_names)
    assert declared >= DOCUMENTED_TRIAL_COLUMNS | PROVENANCE_COLUMNS
    assert set(TRIALS.column_names) >= PROVENANCE_COLUMNS
    assert {"trial_id", "step", "loss", "accuracy"} <= set(CURVES.column_names)
    for table in TABLES.values():
        assert all(column.doc for column in table.columns)


def test_a_trial_written_to_the_store_reads_back_through_plain_pandas(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables, TABLES)
    script = (
        "import sys, pandas as pd\n"
        f"t = pd.read_parquet({str(store / 'trials')!r}); c = pd.read_parquet({str(store / 'curves')!r})\n"
        f"e = pd.read_parquet({str(store / 'manifold_classification')!r})\n"
        "assert not any(m.split('.')[0] in ('orchestrator', 'workloads', 'results_schema') for m in sys.modules)\n"
        "print(len(t), len(c), t['trial_id'][0], e['k'][0], t['status'][0], sorted(t.columns) == sorted(set(t.columns)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()
    assert out == ["1", "5", trial.trial_id, str(trial.config["k"]), "ok", "True"]


def test_rows_carry_their_provenance(tmp_path, trial_tables):
    trial, tables = trial_tables
    row = tables[TRIALS.name].to_pylist()[0]
    assert json.loads(row["config_json"]) == trial.config
    assert row["config_hash"] == trial.config_hash and row["device"] == "cpu"
    assert row["sbsweep_version"] and row["torch_version"] == torch.__version__
    assert row["started_at"] is not None and row["wall_s"] > 0
    width = trial.config["width"]  # the tiny sweep's net: Linear(2, w), (depth - 2) x Linear(w, w), Linear(w, 1)
    assert row["parameters"] == 3 * width + (trial.config["depth"] - 2) * (width * width + width) + width + 1


def test_a_trial_stored_again_replaces_its_row_and_never_duplicates(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, unfinished_trial(trial, "RuntimeError: worker lost"), TABLES)  # crashed, then run again
    write_trial(store, tables, TABLES)
    assert len(read_table(store, TABLES["trials"])) == 1 and read_table(store, TABLES["trials"])["status"].tolist() == ["ok"]
    assert len(pd.read_parquet(store / "trials")) == 1  # plain pandas sees it once too
    assert len(read_table(store, TABLES["curves"])) == tables["curves"].num_rows
    assert not [p for p in store.rglob("*") if p.name.startswith(".tmp")]


def test_rows_of_a_flush_that_never_committed_are_not_read_and_are_cleaned_up(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    (store / "curves" / trial.sweep).mkdir(parents=True)
    orphan = store / "curves" / trial.sweep / "0000000000000badf00d.parquet"
    pq.write_table(tables["curves"], orphan)  # a launch killed before it wrote the flush's trials part
    write_trial(store, unfinished_trial(trial, "RuntimeError: worker lost"), TABLES)  # some committed flush of that sweep
    assert read_table(store, TABLES["curves"]).empty
    assert stored_trial_ids(store) == set() and stored_trial_ids(store, status=None) == {trial.trial_id}
    assert clean_uncommitted(store, trial.sweep, TABLES) == 1 and not orphan.exists()


def test_a_truncated_part_file_is_reported_by_name_not_read_as_fewer_rows(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables, TABLES)
    [part] = (store / "trials" / trial.sweep).glob("*.parquet")
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(StoreError, match=part.name):
        read_table(store, TABLES["trials"])


def test_a_crashed_trial_is_recorded_with_its_reason_and_does_not_count_as_finished(tmp_path, trial_tables):
    trial, _ = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, unfinished_trial(trial, "Traceback ...\nRuntimeError: worker lost\n"), TABLES)
    row = read_table(store, TABLES["trials"]).iloc[0]
    assert row["status"] == "crashed" and row["error"] == "RuntimeError: worker lost"
    assert stored_trial_ids(store) == set() and stored_trial_ids(store, status=None) == {trial.trial_id}
    assert finished_trial_ids(store) == set()  # a relaunch runs it again
    write_trial(store, unfinished_trial(trial, "loss became nan at step 3", TrialStatus.DIVERGED), TABLES)
    assert finished_trial_ids(store) == {trial.trial_id}  # it would diverge again: a relaunch leaves it


def test_rows_survive_the_trip_from_worker_to_driver_unchanged(trial_tables):
    _, tables = trial_tables
    back = tables_from_bytes(tables_to_bytes(tables))
    assert all(back[name].equals(tables[name]) for name in tables)


def test_an_undeclared_column_is_refused():
    with pytest.raises(StoreError, match="no column"):
        to_arrow(CURVES, [{"trial_id": "x", "step": 0, "surprise": 1.0}])


def test_a_path_that_is_a_file_is_not_a_store(tmp_path):
    path = tmp_path / "file"
    path.write_text("data")
    with pytest.raises(StoreError, match="is a file"):
        open_store(path)
    assert path.read_text() == "data"


def test_a_non_empty_directory_that_is_not_a_store_is_left_alone(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    before = snapshot(tmp_path)
    with pytest.raises(StoreError, match="not an sbsweep store"):
        open_store(tmp_path)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("version", "advice"), [(SCHEMA_VERSION + 1, "upgrade sbsweep"), (0, "new store")])
def test_a_store_of_another_schema_version_is_refused_and_says_what_to_do(tmp_path, version, advice):
    store = open_store(tmp_path / "store")
    marker = json.loads((store / MARKER_FILE).read_text())
    (store / MARKER_FILE).write_text(json.dumps({**marker, "schema_version": version}))
    before = snapshot(store)
    with pytest.raises(StoreError, match=f"version {version}.*{advice}"):
        open_store(store)
    assert snapshot(store) == before


def many_trials(tmp_path, write_sweep, count: int = 6) -> list[dict]:
    """The real rows of `count` tiny trials (grid k x L x seeds of the tiny sweep)."""
    trials = expand(load_spec(write_sweep(), ["seeds=[0, 1]", "grid.L=[0, 2, 6]"]))[:count]
    return [run_trial(trial) for trial in trials]


def test_a_flush_stores_many_trials_as_one_part_file_per_table(tmp_path, write_sweep):
    results = many_trials(tmp_path, write_sweep)
    store = open_store(tmp_path / "store")
    write_flush(store, "tiny", concat_tables(results), TABLES)
    assert sorted(p.relative_to(store).parts[0] for p in store.glob("*/*/*.parquet")) == ["curves", "manifold_classification", "trials"]
    assert len(pd.read_parquet(store / "trials")) == 6 and len(pd.read_parquet(store / "curves")) == sum(r["curves"].num_rows for r in results)


def test_a_reader_through_the_link_that_straddles_a_reruns_swap_finds_its_files_gone_never_changed_under_their_names(tmp_path, write_sweep):
    from orchestrator.store import superseded_rows

    results = many_trials(tmp_path, write_sweep)
    crashed = unfinished_trial(expand(load_spec(write_sweep()))[0], "RuntimeError: worker lost")
    store = open_store(tmp_path / "store")
    first = concat_tables([crashed, *results[1:3]])  # one flush: a crashed trial and two ok ones
    write_flush(store, "tiny", first, TABLES)
    listed = {table: sorted((store / table / "tiny").glob("*.parquet")) for table in ("trials", "curves")}  # a reader lists, then...
    sizes = {path: path.stat().st_size for paths in listed.values() for path in paths}
    rerun_id = crashed["trials"].column("trial_id")[0].as_py()
    renamed: dict[str, str] = {}
    write_flush(store, "tiny", results[0], TABLES, superseded_rows(store, "tiny", [rerun_id]), renamed)  # the rerun swaps generations
    [old_name] = {path.name for paths in listed.values() for path in paths}
    assert list(renamed) == [old_name]
    for paths in listed.values():  # ...opens after the swap: every file it listed is gone, none changed under its name
        for path in paths:
            assert not path.exists() or path.stat().st_size == sizes[path]
    trials = pd.read_parquet(store / "trials")
    assert sorted(trials["trial_id"]) == sorted(r["trials"].column("trial_id")[0].as_py() for r in results[:3])
    assert set(trials["status"]) == {"ok"}
    new = renamed[old_name]
    assert (store / "trials" / "tiny" / new).exists() and (store / "curves" / "tiny" / new).exists()  # the flush keeps its parts together
    assert len(pd.read_parquet(store / "curves")) == sum(r["curves"].num_rows for r in results[:3])


def test_compaction_merges_a_sweeps_parts_and_changes_no_row(tmp_path, write_sweep):
    results = many_trials(tmp_path, write_sweep)
    store = open_store(tmp_path / "store")
    for pair in (results[0:2], results[2:4], results[4:6]):
        write_flush(store, "tiny", concat_tables(pair), TABLES)
    before = {name: read_table(store, TABLES[name]).sort_values(["trial_id"] + (["step"] if name == "curves" else []), ignore_index=True)
              for name in ("trials", "curves")}
    assert compact(store, "tiny", TABLES) == (3, 1)
    for name, rows in before.items():
        assert len(list((store / name / "tiny").glob("*.parquet"))) == 1
        after = pd.read_parquet(store / name).sort_values(["trial_id"] + (["step"] if name == "curves" else []), ignore_index=True)
        pd.testing.assert_frame_equal(after, rows)
    assert compact(store, "tiny", TABLES) == (1, 1)  # nothing left to merge


def plain_readers(store: Path, resolved: bool) -> dict:
    """Read a store's trials table as pandas, pyarrow, DuckDB and polars users do: through the
    sweeps' links (`trials/*/*.parquet`), or `resolved`: each sweep's link resolved first, the
    pattern docs/store.md gives for a snapshot read."""
    import duckdb
    import polars as pl
    import pyarrow.dataset as pads

    def folders() -> list[str]:
        return [str(p.resolve()) if resolved else str(p) for p in sorted((store / "trials").iterdir())]

    def globs() -> list[str]:
        return [f"{folder}/*.parquet" for folder in folders()]

    return {
        "pandas": lambda: (pd.concat([pd.read_parquet(f, columns=["trial_id"]) for f in folders()])["trial_id"].tolist()
                           if resolved else pd.read_parquet(store / "trials", columns=["trial_id"])["trial_id"].tolist(), []),
        "pyarrow": lambda: ((pads.dataset([pads.dataset(f, format="parquet") for f in folders()]) if resolved
                             else pads.dataset(store / "trials", format="parquet")).to_table(columns=["trial_id"])
                            .column("trial_id").to_pylist(), []),
        "duckdb": lambda: tuple(map(list, zip(*duckdb.sql(f"SELECT trial_id, filename FROM read_parquet({globs()}, filename=true)").fetchall())))
        or ([], []),
        "polars": lambda: (lambda frame: (frame["trial_id"].to_list(), frame["path"].to_list()))(
            pl.read_parquet(globs(), include_file_paths="path")),
    }


SWAP_INSTANT = ("no such file", "not found", "does not exist")
"""What a reader through a sweep's link may meet, only when a change of generation (a merge, a
rerun trial) falls between its listing the folder and opening a file it listed."""


def test_readers_of_every_kind_beside_a_writer_that_flushes_reruns_and_compacts_never_see_a_trial_twice(tmp_path):
    """sbsweep's reader and pandas, pyarrow, DuckDB and polars on each sweep's resolved folder read
    a snapshot, polling while a writer adds flushes, reruns crashed trials (their old rows
    superseded) and compacts: no read raises, none holds a trial twice, none holds fewer trials
    than the same reader's read before, and none sees a file being written or staged. Through
    the links (`trials/*/*.parquet`) no read holds a trial twice either; one that straddles the
    instant a generation replaces another may meet a file gone, and its next read succeeds."""
    import threading

    from orchestrator.lock import sweep_lock
    from orchestrator.store import superseded_rows
    from results_schema import to_arrow

    store = open_store(tmp_path / "store")
    written: list[int] = []
    done, round_done = threading.Event(), threading.Event()

    def flush(ids: list[str], status: str) -> None:
        rows = [dict(trial_id=t, sweep="s", experiment="knn", seed=0, status=status) for t in ids]
        tables = {TRIALS.name: to_arrow(TRIALS, rows)}
        if status == "ok":
            tables[CURVES.name] = to_arrow(CURVES, [dict(trial_id=t, step=step, loss=1.0) for t in ids for step in (0, 10)])
        write_flush(store, "s", tables, TABLES, superseded_rows(store, "s", ids))

    def writer() -> None:
        for number in range(60):
            flush([f"t-{number}-{i}" for i in range(3)], "crashed" if number % 5 == 4 else "ok")
            if number % 5 == 4:  # the crashed trials run again: their rows replaced in one step
                flush([f"t-{number}-{i}" for i in range(3)], "ok")
            written.append(3 * (number + 1))
            if number % 7 == 6:
                with sweep_lock(store, "s"):  # as `sbsweep compact` and a launch hold it
                    compact(store, "s", TABLES)
            if number % 6 == 5:  # every reader reads between, however slow the machine
                round_done.clear()
                round_done.wait(timeout=60)
        done.set()

    snapshot_readers = {"sbsweep": lambda: (read_table(store, TABLES["trials"], columns=["trial_id"])["trial_id"].tolist(), []),
                        **{f"{name} resolved": read for name, read in plain_readers(store, resolved=True).items()}}
    link_readers = plain_readers(store, resolved=False)
    thread = threading.Thread(target=writer)
    thread.start()
    while not written:  # a plain reader cannot read a table with no part yet
        time.sleep(0.001)
    seen = dict.fromkeys([*snapshot_readers, *link_readers], 0)
    reads = dict.fromkeys(seen, 0)
    errors: list[tuple[str, str]] = []
    straddled: list[str] = []
    try:
        while not done.is_set():
            for name, read in [*snapshot_readers.items(), *link_readers.items()]:
                before = written[-1]
                try:
                    trial_ids, files = read()
                except Exception as error:
                    if name in link_readers and any(words in str(error).lower() for words in SWAP_INSTANT):
                        straddled.append(name)
                    else:
                        errors.append((name, f"{type(error).__name__}: {error}"))
                    continue
                assert len(trial_ids) == len(set(trial_ids)), name
                if name in snapshot_readers:
                    assert len(trial_ids) >= max(seen[name], before), (name, len(trial_ids), seen[name], before)
                    seen[name] = len(trial_ids)
                assert not [f for f in files if "_staging" in f or Path(f).name.startswith(("tmp-", ".", "_"))], name
                reads[name] += 1
            round_done.set()
    finally:
        round_done.set()
        thread.join()
    assert errors == []
    assert all(count >= 5 for count in reads.values()), reads
    assert len(read_table(store, TABLES["trials"])) == 180 == len(pd.read_parquet(store / "trials"))


def test_every_commit_reaches_the_disk_before_its_rename_and_the_folder_after(tmp_path, monkeypatch):
    """Recorded at the OS layer: fsync of the temporary file, the rename that publishes it, then
    fsync of its folder, for a part, the marker, a saved spec and a prepared state."""
    import os
    from pathlib import Path

    from orchestrator.store import open_store, save_sweep, write_prepared, write_trial
    from results_schema import TRIALS, to_arrow

    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"))), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", str(b))), real_replace(a, b))[1])
    store = open_store(tmp_path / "store")
    save_sweep(store, "s", {"name": "s"})
    write_prepared(store, "prepared-x", b"state")
    write_trial(store, {TRIALS.name: to_arrow(TRIALS, [dict(trial_id="s-1", sweep="s", experiment="knn", seed=0, status="ok")])}, TABLES)
    published = [target for kind, target in events if kind == "replace" and not Path(target).is_symlink()]  # links: see the next test
    assert len(published) == 4  # the marker, the spec, the prepared state, the trials part (no other table has rows)
    for target in published:
        at = events.index(("replace", target))
        before, after = events[at - 1], events[at + 1]
        staged = Path(before[1])  # written in the store's staging folder, outside every table's folder
        assert before[0] == "fsync" and staged.name.startswith("tmp-") and staged.name.endswith(Path(target).name)
        assert store / "_staging" in staged.parents
        assert after == ("fsync", str(Path(target).parent))


def test_a_flush_that_fails_part_way_never_stores_a_rerun_trial_twice(tmp_path, write_sweep, monkeypatch):
    """A crashed trial is rerun; the flush with its new rows fails writing its second part (a write
    error at the file layer, once); the per-trial retry must still remove the old row, and the
    failed flush's first part must go."""
    import orchestrator.store.parts as store_module
    from orchestrator.progress import ProgressLine
    from orchestrator.store import superseded_rows
    from orchestrator.writer import FlushPolicy, StoreWriter

    store = open_store(tmp_path / "store")
    first, second = expand(load_spec(write_sweep()))[:2]
    write_trial(store, unfinished_trial(first, "the worker died", TrialStatus.CRASHED), TABLES)
    superseded = {trial_id: part for part, ids in superseded_rows(store, first.sweep, [first.trial_id]).items() for trial_id in ids}
    writer = StoreWriter(store, first.sweep, [], superseded, ProgressLine(first.sweep, 2), FlushPolicy())
    writer.buffer = [run_trial(first), run_trial(second)]

    real_write_table, calls, failed = store_module.pq.write_table, [], []

    def full_disk_once(table, where, *args, **kwargs):
        calls.append(where)
        if len(calls) == 2:  # the flush's second part: one part of it is written already
            failed.append(where)
            raise OSError(28, "No space left on device")
        return real_write_table(table, where, *args, **kwargs)

    monkeypatch.setattr(store_module.pq, "write_table", full_disk_once)
    writer.flush()
    assert failed  # the first write did fail part-way
    trials = read_table(store, TABLES["trials"])
    assert sorted(trials["trial_id"]) == sorted([first.trial_id, second.trial_id])  # each once
    assert set(trials["status"]) == {"ok"}
    assert sorted(read_table(store, TABLES["curves"])["trial_id"].unique()) == sorted([first.trial_id, second.trial_id])
    # Plain pandas too: the failed flush's parts written before the failure went with it, so no table
    # holds a trial twice, nor rows of a trial the trials table lacks.
    for table in ("trials", "manifold_classification"):
        assert sorted(pd.read_parquet(store / table)["trial_id"]) == sorted([first.trial_id, second.trial_id])
    curves = pd.read_parquet(store / "curves")
    assert set(curves["trial_id"]) == {first.trial_id, second.trial_id} and not curves.duplicated(["trial_id", "step"]).any()


def test_a_part_written_before_a_column_was_declared_reads_with_nulls_there_and_a_foreign_column_is_refused(tmp_path, trial_tables):
    """An experiment that gains a config field gains a column: parts written before it lack it, and
    read as nulls there (as pandas reads them). A column the table does not declare means a file of
    another schema, which is named, not read."""
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables, TABLES)
    [part] = (store / "manifold_classification" / "tiny").glob("*.parquet")
    table = pq.read_table(part)
    pq.write_table(table.drop_columns(["width"]), part)  # as if `width` had been declared after this part was written
    rows = read_table(store, TABLES["manifold_classification"])
    assert len(rows) == 1 and rows["width"].isna().all() and rows["k"].tolist() == [trial.config["k"]]
    pq.write_table(table.append_column("unknown", pa.array([1.0])), part)
    with pytest.raises(StoreError, match="columns not in the table: \\['unknown'\\]"):
        read_table(store, TABLES["manifold_classification"])
