"""Nothing outside the store is ever read, written or deleted, whatever a file of the store or an
argument says: crafted figure records, links planted in the store, sweep names that are paths, and
two stores sharing one checkpoint storage. Each test keeps files of "the user's" beside the store
and checks them byte for byte after every command."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import TINY_SWEEP, snapshot

from orchestrator.checkpoints import tune_root
from orchestrator.cli import cli
from orchestrator.plan import expand
from orchestrator.spec import load_spec
from orchestrator.store import open_store, save_sweep, store_id, write_trial
from orchestrator.trial import run_trial
from workloads import TABLES


@pytest.fixture(scope="module")
def stored_tiny(tmp_path_factory) -> tuple[Path, Path]:
    """A store holding every trial of the tiny sweep (so a relaunch has nothing to run), its spec
    and its figure, as a launch leaves them (trials run in this process, stored by the launch's own
    writer, the figure drawn by `plot`); returns (store, sweep file). Copied by each test."""
    root = tmp_path_factory.mktemp("tiny")
    sweep = root / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    spec = load_spec(sweep)
    store = open_store(root / "store")
    for trial in expand(spec):
        write_trial(store, run_trial(trial), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    assert CliRunner().invoke(cli, ["plot", str(store)]).exit_code == 0
    assert list((store / "figures").glob("*.png")) and (store / "figures" / ".tiny.figures.json").exists()
    return store, sweep


@pytest.fixture
def tiny(tmp_path, stored_tiny) -> tuple[Path, Path, Path]:
    """(store, sweep file, the user's folder beside it with precious files in it), fresh copies."""
    import shutil

    store = tmp_path / "store"
    shutil.copytree(stored_tiny[0], store, symlinks=True)
    user = tmp_path / "user"
    (user / "nested").mkdir(parents=True)
    (user / "thesis.tex").write_text("precious")
    (user / "nested" / "data.parquet").write_bytes(next((store / "trials" / "tiny").glob("*.parquet")).read_bytes())
    return store, stored_tiny[1], user


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result) -> str:
    """The error of a command that refused: exit 2, no traceback, the error one line and the last
    (a launch may have said which sweep it was launching before it found the problem)."""
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert "Traceback" not in result.output and lines[-1].startswith("Error: ") and sum(line.startswith("Error") for line in lines) == 1
    return lines[-1]


@pytest.mark.parametrize("entry", ["../../user/thesis.tex", "{user}/thesis.tex", "../sweeps/tiny.json", "../trials/tiny", ".tiny.figures.json"])
def test_overwrite_never_deletes_what_a_crafted_figure_record_names_outside_the_figures(tiny, entry):
    # Refused before Ray starts: the record is checked with the other checks, before anything is written.
    store, sweep, user = tiny
    record = store / "figures" / ".tiny.figures.json"
    record.write_text(json.dumps(["figure4_tiny.png", entry.format(user=user)]))
    before, mine = snapshot(store), snapshot(user)
    message = one_line_error(run("launch", sweep, "--store", store, "--overwrite", "--set", "workload.steps=41", "--no-plot"))
    assert str(record) in message and "outside its store" in message
    assert snapshot(user) == mine and snapshot(store) == before


@pytest.mark.parametrize("name", ["../../user", "../x", "..", "/tmp/x", "a/b", ".hidden", "_staging"])
@pytest.mark.parametrize("command", [["compact", "--sweep"], ["plot", "--sweep"], ["verify", "--sweep"]])
def test_a_sweep_name_that_is_a_path_is_refused_before_anything_is_read_or_written(tiny, command, name):
    store, _, user = tiny
    around = snapshot(store.parent)
    message = one_line_error(run(command[0], store, *command[1:], name))
    assert "is not a sweep name" in message
    assert snapshot(store.parent) == around


LINKS = {
    # where in the store a link is planted -> what it points to in the user's folder
    "trials/tiny2": "nested",
    "curves/tiny/000000000000deadbeef.parquet": "nested/data.parquet",
    "figures": ".",
    "figures/figure4_tiny.png": "thesis.tex",
    "sweeps": ".",
    "prepared": ".",
    "_staging": ".",
    "_staging/tiny": ".",
    ".locks": ".",
    "_tune": ".",
    "sbsweep_store.json": "thesis.tex",
}


@pytest.mark.parametrize("where", list(LINKS))
def test_a_link_planted_in_the_store_is_never_followed_out_of_it_by_any_command(tiny, where):
    store, sweep, user = tiny
    link = store / where
    if link.is_dir() and not link.is_symlink():
        import shutil

        shutil.rmtree(link)
    else:
        link.unlink(missing_ok=True)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(user / LINKS[where])
    mine = snapshot(user)
    for args in (["status", store], ["verify", store], ["plot", store], ["compact", store], ["launch", sweep, "--store", store, "--no-plot"],
                 ["launch", sweep, "--store", store]):
        result = run(*args)
        assert "Traceback" not in result.output and result.exit_code in (0, 1, 2, 3, 4, 5), (args, result.output)
        if result.exit_code == 2:
            one_line_error(result)
        assert snapshot(user) == mine, args  # not a byte of the user's files read into the store's results, changed or deleted
        assert (user / "thesis.tex").read_text() == "precious"


def test_a_link_in_the_store_is_named_by_the_commands_that_would_have_followed_it(tiny):
    store, _, user = tiny
    (store / "trials" / "tiny2").symlink_to(user / "nested")
    for command in ("status", "verify", "plot", "compact"):
        message = one_line_error(run(command, store))
        assert str(store / "trials" / "tiny2") in message and "link" in message


@pytest.mark.parametrize("where", ["_tune", "_staging/tiny"])
def test_a_launch_with_work_never_writes_through_a_link_to_its_checkpoints_or_staging(tiny, local_ray, where):
    store, sweep, user = tiny
    link = store / where
    if link.exists():
        import shutil

        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(user)
    mine = snapshot(user)
    message = one_line_error(run("launch", sweep, "--store", store, "--set", "seeds=[0, 1]", "--no-plot"))
    assert "outside its store" in message
    assert snapshot(user) == mine


def test_two_stores_sharing_a_checkpoint_storage_never_touch_each_others_checkpoints(tmp_path, local_ray):
    sweep = tmp_path / "long.yaml"
    sweep.write_text(TINY_SWEEP.replace("  steps: 40\n", "  steps: 400\n"))
    shared = tmp_path / "shared-checkpoints"
    first, second = open_store(tmp_path / "first"), open_store(tmp_path / "second")
    assert store_id(first) != store_id(second)
    # The first store's checkpoint of a unit of the same sweep, as an interrupted launch leaves it.
    theirs = Path(tune_root(first, store_id(first), "tiny", str(shared))) / "launch-1" / "batch-00000" / "checkpoint_000001"
    theirs.mkdir(parents=True)
    (theirs / "batch.json").write_text(json.dumps({"unit": "u", "step": 100, "reported": []}))
    before = snapshot(shared)
    for extra in ([], ["--restart"]):  # a launch drops its own finished checkpoints; --restart all of its own
        result = run("launch", sweep, "--store", second, "--checkpoint-storage", shared, "--no-plot", *extra)
        assert result.exit_code == 0, result.output
    assert {k: v for k, v in snapshot(shared).items() if k in before} == before
    mine = Path(tune_root(second, store_id(second), "tiny", str(shared)))
    assert mine.parent.name == store_id(second) and mine.parent != theirs.parents[3]


def test_store_ids_are_kept_in_the_marker_and_given_once_to_a_store_made_without_one(tmp_path):
    store = open_store(tmp_path / "store")
    marker = json.loads((store / "sbsweep_store.json").read_text())
    assert store_id(store) == marker["store_id"]
    del marker["store_id"]
    (store / "sbsweep_store.json").write_text(json.dumps(marker))
    given = store_id(store)
    assert given == store_id(store) == json.loads((store / "sbsweep_store.json").read_text())["store_id"]


def test_plot_out_writes_only_the_figure_files_there_and_no_record(tiny):
    store, _, user = tiny
    out = user / "figures-for-the-paper"
    result = run("plot", store, "--out", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) and all(p.suffix in (".png", ".pdf") for p in out.iterdir())
    assert (user / "thesis.tex").read_text() == "precious"


def test_a_committed_write_leaves_nothing_waiting_in_the_staging_folder(tmp_path, write_sweep):
    spec = load_spec(write_sweep())
    store = open_store(tmp_path / "store")
    write_trial(store, run_trial(expand(spec)[0]), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    assert os.listdir(store / "_staging" / "tiny") == []


CRAFTED_REPORT = {
    "generated_at a path": {"generated_at": "x/../../../../outside_by_report", "claims": []},
    "generated_at through a link": {"generated_at": "a/pwned", "claims": []},
    "generated_at with a NUL": {"generated_at": "2026-01-01T00:00:00+00:00\x00", "claims": []},
    "a list": [1, 2, 3],
    "a verdict without its claim": {"generated_at": "2026-01-01T00:00:00+00:00", "claims": [{"verdicts": [{"outcome": "pass"}]}]},
}


@pytest.mark.parametrize("crafted", sorted(CRAFTED_REPORT))
def test_a_crafted_earlier_report_is_one_line_and_the_report_writes_nothing_anywhere(tiny, crafted):
    store, _, user = tiny
    folder = store / "report"
    (folder / "history" / "report-x").mkdir(parents=True)
    (folder / "history" / "report-a").symlink_to(user)
    (folder / "report.json").write_text(json.dumps(CRAFTED_REPORT[crafted]))
    before, beside = snapshot(store), snapshot(store.parent)
    assert "report.json: not a report sbsweep wrote" in one_line_error(run("report", store))
    assert snapshot(store) == before and snapshot(store.parent) == beside


@pytest.mark.parametrize(("where", "content"), [
    ("suites/x.json", b"[1, 2]"),
    ("suites/x.json", b'{"name": 3}'),
    ("decisions/run.parquet", b"not parquet"),
])
def test_a_crafted_suite_record_or_decisions_file_is_one_line_naming_it(tiny, where, content):
    store, _, _ = tiny
    (store / where).parent.mkdir(exist_ok=True)
    (store / where).write_bytes(content)
    before = snapshot(store)
    assert where.split("/")[-1] in one_line_error(run("report", store))
    assert snapshot(store) == before


def test_a_decisions_table_of_another_schema_is_one_line(tiny):
    import pyarrow as pa
    import pyarrow.parquet as pq

    store, _, _ = tiny
    (store / "decisions").mkdir()
    pq.write_table(pa.table({"something": [1, 2]}), store / "decisions" / "other.parquet")
    assert "other.parquet: not a table of decide's looks" in one_line_error(run("report", store))
