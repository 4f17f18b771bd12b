"""The Parquet store: its contract, all-or-nothing trials, and refusing what is not a store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from orchestrator.expand import expand
from orchestrator.spec import load_spec
from orchestrator.store import open_store, read_table, stored_trial_ids, write_trial
from orchestrator.rows import failed_trial, tables_from_bytes, tables_to_bytes
from orchestrator.trial import run_trial
from results_schema import CURVES, MARKER_FILE, SCHEMA_VERSION, TABLES, TRIALS, StoreError, to_arrow

from conftest import snapshot

DOCUMENTED_TRIAL_COLUMNS = {"trial_id", "sweep", "experiment", "k", "L", "seed", "accuracy", "loss", "steps", "status", "wall_s"}
PROVENANCE_COLUMNS = {"config_json", "config_hash", "seed", "sbsweep_version", "device", "started_at", "wall_s"}


@pytest.fixture
def trial_tables(write_sweep):
    """The real rows of one real tiny trial."""
    trial = expand(load_spec(write_sweep()))[0]
    return trial, run_trial(trial, torch.device("cpu"))


def test_the_contract_declares_the_documented_and_provenance_columns():
    assert DOCUMENTED_TRIAL_COLUMNS | PROVENANCE_COLUMNS <= set(TRIALS.column_names)
    assert {"trial_id", "step", "loss", "accuracy"} <= set(CURVES.column_names)
    for table in TABLES.values():
        assert all(column.doc for column in table.columns)


def test_a_trial_written_to_the_store_reads_back_through_plain_pandas(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables)
    script = (
        "import sys, pandas as pd\n"
        f"t = pd.read_parquet({str(store / 'trials')!r}); c = pd.read_parquet({str(store / 'curves')!r})\n"
        "assert not any(m.split('.')[0] in ('orchestrator', 'workloads', 'results_schema') for m in sys.modules)\n"
        "print(len(t), len(c), t['trial_id'][0], t['k'][0], t['status'][0], sorted(t.columns) == sorted(set(t.columns)))\n"
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


def test_each_trial_is_one_file_per_table_and_rewriting_it_never_duplicates(tmp_path, trial_tables):
    _, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables)
    write_trial(store, tables)
    assert len(read_table(store, "trials")) == 1
    assert len(read_table(store, "curves")) == tables["curves"].num_rows
    assert not [p for p in store.rglob("*") if p.name.startswith(".tmp")]


def test_rows_of_a_trial_that_never_committed_are_not_read(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    (store / "curves").mkdir()
    pq.write_table(tables["curves"], store / "curves" / f"{trial.trial_id}.parquet")  # crash before the trials row
    assert read_table(store, "curves").empty
    assert stored_trial_ids(store) == set()


def test_a_truncated_part_file_is_reported_by_name_not_read_as_fewer_rows(tmp_path, trial_tables):
    trial, tables = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, tables)
    part = store / "trials" / f"{trial.trial_id}.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with pytest.raises(StoreError, match=part.name):
        read_table(store, "trials")


def test_a_failed_trial_is_recorded_with_its_reason(tmp_path, trial_tables):
    trial, _ = trial_tables
    store = open_store(tmp_path / "store")
    write_trial(store, failed_trial(trial, "Traceback ...\nRuntimeError: worker lost\n"))
    row = read_table(store, "trials").iloc[0]
    assert row["status"] == "failed" and row["error"] == "RuntimeError: worker lost"
    assert stored_trial_ids(store) == set() and stored_trial_ids(store, status=None) == {trial.trial_id}


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
