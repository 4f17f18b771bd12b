"""Every crash state is repaired by the next launch of any sweep into the store, or by any
compaction, whether or not it has work; and `status`'s advice, when followed, restores what it
says. Real trials, real Parquet, real commands."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import TINY_SWEEP

from orchestrator.cli import cli
from orchestrator.plan import expand
from orchestrator.rows import concat_tables
from orchestrator.spec import load_spec
from orchestrator.store import compact, open_store, read_table, save_sweep, write_flush
from orchestrator.trial import run_trial
from workloads import TABLES


class Crash(BaseException):
    """A process killed at a chosen file operation (raised where the OS call would run)."""


def run(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture(scope="module")
def two_sweeps(tmp_path_factory) -> tuple[Path, dict[str, Path], int]:
    """A store holding every trial of two tiny sweeps, 'tiny' in two flushes (so it has parts to
    merge) and 'other' in one, with their specs: a launch of either has nothing to run. Returns
    (store, {sweep: sweep file}, the curves rows of 'tiny')."""
    root = tmp_path_factory.mktemp("two")
    store = open_store(root / "store")
    files = {}
    curves = 0
    for name in ("tiny", "other"):
        files[name] = root / f"{name}.yaml"
        files[name].write_text(TINY_SWEEP.replace("name: tiny", f"name: {name}"))
        spec = load_spec(files[name])
        rows = [run_trial(trial) for trial in expand(spec)]
        for flush in ([rows[:2], rows[2:]] if name == "tiny" else [rows]):
            write_flush(store, name, concat_tables(flush), TABLES)
        save_sweep(store, name, spec.stored_form())
        curves = curves or sum(r["curves"].num_rows for r in rows)
    return store, files, curves


def plain_counts(store: Path, sweep: str) -> tuple[int, int]:
    trials = pd.read_parquet(store / "trials" / sweep)
    curves = pd.read_parquet(store / "curves" / sweep)
    if trials.empty or curves.empty:  # every old part deleted and the merged ones not yet in view
        return len(trials), len(curves)
    assert trials["trial_id"].is_unique and not curves.duplicated(["trial_id", "step"]).any()
    return len(trials), len(curves)


def test_a_compaction_killed_at_any_point_is_repaired_by_a_launch_of_any_sweep_with_nothing_to_run_or_any_compaction(tmp_path, two_sweeps,
                                                                                                                     monkeypatch):
    original, files, curves = two_sweeps
    real = {"replace": os.replace, "unlink": os.unlink, "rmtree": shutil.rmtree}
    repairers = [
        ["launch", files["tiny"], "--no-plot"],   # the same sweep, nothing to run
        ["launch", files["other"], "--no-plot"],  # another sweep, nothing to run
        ["compact", "--sweep", "other"],          # a compaction of another sweep
    ]
    crash_points = 0
    for crash_at in range(1, 100):
        store = tmp_path / f"store-{crash_at}"
        shutil.copytree(original, store, symlinks=True)
        calls: list[str] = []

        def operation(kind, *args, calls=calls, crash_at=crash_at, **kwargs):
            calls.append(kind)
            if len(calls) == crash_at:
                raise Crash()
            return real[kind](*args, **kwargs)

        for kind in ("replace", "unlink"):
            monkeypatch.setattr(os, kind, lambda *a, kind=kind, **k: operation(kind, *a, **k))
        monkeypatch.setattr(shutil, "rmtree", lambda *a, **k: operation("rmtree", *a, **k))
        try:
            compact(store, "tiny", TABLES)
            finished = True
        except Crash:
            finished = False
        finally:
            monkeypatch.undo()
        # Before the repair: sbsweep reads every trial once; plain pandas never reads one twice (it
        # may miss the merged ones until the repair).
        assert len(read_table(store, TABLES["trials"], sweeps=["tiny"])) == 4, crash_at
        assert len(read_table(store, TABLES["curves"], sweeps=["tiny"])) == curves, crash_at
        assert plain_counts(store, "tiny")[0] <= 4
        repairer = repairers[crash_at % len(repairers)]
        args = [*repairer[:2], "--store", store, *repairer[2:]] if repairer[0] == "launch" else [repairer[0], store, *repairer[1:]]
        result = run(*args)
        assert result.exit_code == 0, (crash_at, repairer, result.output)
        assert plain_counts(store, "tiny") == (4, curves), (crash_at, repairer)
        staged = [p for p in (store / "_staging").rglob("*") if p.is_file() and p.name != "generation"]
        assert not staged and not [p for p in store.rglob("*.parquet") if p.name.startswith((".", "_"))], (crash_at, staged)
        if finished:
            break
        crash_points += 1
    assert crash_points >= 8  # staging each table's merged part, the commit, deleting the old ones, publishing


@pytest.fixture(scope="module")
def launched_once(tmp_path_factory) -> tuple[Path, Path]:
    """A store holding the tiny sweep's four trials, a flush each, and its spec, as a launch that
    flushed after every trial leaves it; and its sweep file."""
    root = tmp_path_factory.mktemp("launched")
    sweep = root / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    store = open_store(root / "store")
    spec = load_spec(sweep)
    for trial in expand(spec):
        write_flush(store, spec.name, run_trial(trial), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    return store, sweep


@pytest.fixture
def launched(tmp_path, launched_once, local_ray) -> tuple[Path, Path]:
    """A copy of launched_once's store, and its sweep file."""
    shutil.copytree(launched_once[0], tmp_path / "store", symlinks=True)
    return tmp_path / "store", launched_once[1]


def curves_part_of_one_flush(store: Path) -> Path:
    return sorted((store / "curves" / "tiny").glob("*.parquet"))[0]


@pytest.mark.parametrize("damage", ["truncate", "delete", "foreign-schema"])
def test_following_status_advice_on_a_damaged_part_restores_every_trial_with_all_its_rows(launched, damage):
    store, sweep = launched
    part = curves_part_of_one_flush(store)
    kept = pq.read_table(part)
    if damage == "truncate":
        part.write_bytes(part.read_bytes()[:-30])
    elif damage == "delete":
        part.unlink()  # what status's advice once said to do: a flush with a part gone must not read as fewer rows
    else:
        pq.write_table(pa.table({"trial_id": kept.column("trial_id"), "something": pa.array([1.0] * kept.num_rows)}), part)
    status = run("status", store)
    assert status.exit_code == 1 and "damaged flush" in status.output and "launch 'tiny' again" in status.output
    verify = run("verify", store)
    assert verify.exit_code == 2 and "Traceback" not in verify.output  # a reader never takes a damaged flush for fewer rows
    again = run("launch", sweep, "--store", store, "--no-plot")
    assert again.exit_code == 0, again.output
    assert "set flush" in again.output and "aside" in again.output
    assert run("status", store).exit_code == 0
    trials, curves = pd.read_parquet(store / "trials"), pd.read_parquet(store / "curves")
    assert len(trials) == 4 and set(trials["status"]) == {"ok"} and set(curves["trial_id"]) == set(trials["trial_id"])
    assert not curves.duplicated(["trial_id", "step"]).any()
    assert list((store / "_damaged" / "tiny").glob("*/trials.parquet"))  # set aside whole, kept for a look, outside the tables


def test_a_part_of_another_schema_is_named_not_read_as_rows_of_nulls(launched):
    store, _ = launched
    part = curves_part_of_one_flush(store)
    kept = pq.read_table(part)
    pq.write_table(kept.rename_columns([*kept.column_names[:-1], "accuracy_renamed"]), part)
    status = run("status", store, "--json")
    assert status.exit_code == 1 and str(part) in status.output and "not a part of table 'curves'" in status.output
    verify = run("verify", store)
    assert verify.exit_code == 2 and str(part) in verify.output and len(verify.output.strip().splitlines()) == 1


def test_compact_sets_a_damaged_flush_aside_in_one_line_instead_of_a_traceback(tmp_path, launched_once):
    shutil.copytree(launched_once[0], tmp_path / "store", symlinks=True)
    store = tmp_path / "store"
    part = curves_part_of_one_flush(store)
    part.write_bytes(part.read_bytes()[:-30])
    result = run("compact", store)
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert "set flush" in result.output and "aside" in result.output
    status = run("status", store)
    assert status.exit_code == 0 and status.output.splitlines()[1].split()[-1] == "1"  # its trial counts as missing: a launch reruns it
