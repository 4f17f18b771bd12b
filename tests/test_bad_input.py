"""Bad input gets one clear line and exit code 2, and never changes what the store holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from conftest import TINY_SWEEP, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_spec import BAD_SPECS

from orchestrator.cli import cli
from orchestrator.plan import expand
from orchestrator.spec import SpecError, load_spec, parse_yaml, validate_spec
from orchestrator.store import open_store, save_sweep, write_trial
from orchestrator.trial import run_trial
from results_schema import MARKER_FILE, SCHEMA_VERSION
from workloads import TABLES


@pytest.fixture
def populated_store(tmp_path, write_sweep) -> Path:
    """A store holding one real trial of the 'tiny' sweep, and that sweep's spec."""
    spec = load_spec(write_sweep(TINY_SWEEP, name="tiny.yaml"))
    store = open_store(tmp_path / "store")
    write_trial(store, run_trial(expand(spec)[0], torch.device("cpu")), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    return store


def launch(*args: str):
    return CliRunner().invoke(cli, ["launch", *args])


@pytest.mark.parametrize(("text", "overrides", "key", "line"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_a_malformed_spec_exits_2_names_file_and_key_and_leaves_the_store_byte_identical(
    populated_store, write_sweep, text, overrides, key, line
):
    path = write_sweep(text, name="bad.yaml")
    before = snapshot(populated_store)
    result = launch(str(path), "--store", str(populated_store), *[a for o in overrides for a in ("--set", o)])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert len(message.splitlines()) == 1 and message.startswith(f"Error: {path}")
    assert f": {key}: " in message if key else True
    assert "Traceback" not in result.output
    assert snapshot(populated_store) == before


def store_case_foreign(store: Path) -> None:
    (store / MARKER_FILE).unlink()


def store_case_newer(store: Path) -> None:
    marker = json.loads((store / MARKER_FILE).read_text())
    (store / MARKER_FILE).write_text(json.dumps({**marker, "schema_version": SCHEMA_VERSION + 1}))


def store_case_older(store: Path) -> None:
    marker = json.loads((store / MARKER_FILE).read_text())
    (store / MARKER_FILE).write_text(json.dumps({**marker, "schema_version": SCHEMA_VERSION - 1}))


def store_case_corrupt_marker(store: Path) -> None:
    (store / MARKER_FILE).write_text("{not json")


def store_case_foreign_marker(store: Path) -> None:
    (store / MARKER_FILE).write_text(json.dumps({"format": "something-else"}))


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (store_case_foreign, "not an sbsweep store"),
        (store_case_newer, f"store schema version {SCHEMA_VERSION + 1}, this sbsweep reads version {SCHEMA_VERSION}; upgrade sbsweep"),
        (store_case_older, f"store schema version {SCHEMA_VERSION - 1}, this sbsweep reads version {SCHEMA_VERSION}; re-run"),
        (store_case_corrupt_marker, "unreadable store marker"),
        (store_case_foreign_marker, "not an sbsweep store marker"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[len("store_case_"):] or None,
)
def test_a_store_that_is_not_ours_or_not_this_version_is_refused_untouched(populated_store, write_sweep, damage, expected):
    damage(populated_store)
    before = snapshot(populated_store)
    result = launch(str(write_sweep(TINY_SWEEP)), "--store", str(populated_store))
    assert result.exit_code == 2 and expected in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert snapshot(populated_store) == before


def test_a_file_given_as_the_store_is_refused(tmp_path, write_sweep):
    target = tmp_path / "results.csv"
    target.write_text("a,b\n")
    result = launch(str(write_sweep()), "--store", str(target))
    assert result.exit_code == 2 and "is a file, not a store directory" in result.output
    assert target.read_text() == "a,b\n"


def test_the_same_sweep_name_with_a_different_spec_is_refused_and_says_how_to_proceed(populated_store, write_sweep):
    before = snapshot(populated_store)
    result = launch(str(write_sweep()), "--store", str(populated_store), "--set", "workload.steps=41")
    assert result.exit_code == 2
    assert "sweep 'tiny' is already stored with a different spec (workload.steps: 40 -> 41)" in result.output
    assert "--set name=NEW" in result.output and "--overwrite" in result.output
    assert snapshot(populated_store) == before


def test_a_sweep_may_grow_its_grid_without_a_conflict(populated_store, write_sweep):
    result = launch(str(write_sweep()), "--store", str(populated_store), "--set", "grid.k=[3, 20, 25]", "--dry-run")
    assert result.exit_code == 0
    from orchestrator.store import spec_conflict

    grown = load_spec(write_sweep(), ["grid.k=[3, 20, 25]", "seeds=[0, 1]", "resources.cpu=2"])
    assert spec_conflict(populated_store, "tiny", grown.stored_form()) is None


def test_a_sweep_stored_by_code_with_other_defaults_is_refused_as_a_different_spec(populated_store, write_sweep):
    saved = populated_store / "sweeps" / "tiny.json"
    stored = json.loads(saved.read_text())
    assert stored["resolved_workload"]["learning_rate"] == 3e-4  # the experiment's default, filled in
    stored["resolved_workload"]["learning_rate"] = 1e-3  # as code with another default would have stored it
    saved.write_text(json.dumps(stored))
    before = snapshot(populated_store)
    result = launch(str(write_sweep()), "--store", str(populated_store))
    assert result.exit_code == 2
    assert "the experiment's code has changed its fields or defaults since (resolved_workload.learning_rate: 0.001 -> 0.0003)" in result.output
    assert snapshot(populated_store) == before


def test_resources_no_node_could_ever_satisfy_fail_before_any_trial(local_ray, populated_store, write_sweep):
    before = snapshot(populated_store)
    result = launch(str(write_sweep()), "--store", str(populated_store), "--set", "resources.gpu=1", "--set", "grid.k=[25]", "--num-cpus", "1")
    assert result.exit_code == 2, result.output
    assert "resources.gpu: each trial asks for 1 GPU, but no node of this Ray cluster has more than 0" in result.output
    assert snapshot(populated_store) == before


# --- property: the loader accepts or raises SpecError, never anything else ----------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
keys = st.sampled_from(["name", "experiment", "grid", "seeds", "workload", "resources", "execution", "description", "k", "L", "steps", "bogus"])
sub_keys = st.sampled_from(
    ["k", "L", "width", "depth", "steps", "n_points", "learning_rate", "threshold", "cpu", "gpu", "custom", "max_trials", "seed", "x"]
)
spec_like = st.fixed_dictionaries(
    {"name": st.sampled_from(["ok", "../up", "", "a b"]), "experiment": st.sampled_from(["manifold_classification", "nope"])},
    optional={
        "grid": st.dictionaries(sub_keys, st.lists(values, max_size=3), max_size=3),
        "workload": st.dictionaries(sub_keys, values, max_size=4),
        "resources": st.dictionaries(sub_keys, values, max_size=3),
        "execution": st.dictionaries(sub_keys, values, max_size=2),
        "seeds": values,
    },
) | st.dictionaries(keys, values, max_size=5) | values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=spec_like)
def test_any_data_is_either_a_valid_spec_or_a_spec_error(raw):
    try:
        spec = validate_spec(raw, "fuzz.yaml")
    except SpecError as error:
        assert "\n" not in str(error) and str(error).startswith("fuzz.yaml")
    else:
        assert expand(spec)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("name: experiment{}[],-?&*!|>'\"#\n\t 0123.e")), max_size=60))
def test_any_text_is_either_a_valid_spec_or_a_spec_error(text):
    try:
        raw, lines = parse_yaml(text, "fuzz.yaml")
        validate_spec(raw, "fuzz.yaml", lines)
    except SpecError as error:
        assert "\n" not in str(error)


# --- the store under real write failures ---------------------------------------------------------

FULL_DISK_SCRIPT = """
import resource, signal, sys, numpy as np, torch
from pathlib import Path
from orchestrator.plan import expand
from orchestrator.spec import load_spec
from orchestrator.store import open_store, write_trial
from orchestrator.trial import run_trial
from results_schema import CURVES, to_arrow
from workloads import TABLES

store = open_store(Path(sys.argv[1]))
first, second = expand(load_spec(sys.argv[2]))[:2]
write_trial(store, run_trial(first, torch.device("cpu")), TABLES)
big = run_trial(second, torch.device("cpu"))
noise = np.random.default_rng(0).random(50_000)
big["curves"] = to_arrow(CURVES, [{"trial_id": second.trial_id, "step": i, "loss": float(x)} for i, x in enumerate(noise)])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))
try:
    write_trial(store, big, TABLES)
except OSError as error:
    print("write failed:", error.errno)
"""


def test_a_write_that_runs_out_of_space_leaves_earlier_trials_intact_and_no_half_trial(tmp_path, write_sweep):
    import subprocess
    import sys

    from orchestrator.store import read_table

    store = tmp_path / "store"
    done = subprocess.run([sys.executable, "-c", FULL_DISK_SCRIPT, str(store), str(write_sweep())], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("write failed: 27")  # EFBIG: the file could not grow
    trials = read_table(store, TABLES["trials"])
    assert len(trials) == 1 and trials["status"].iloc[0] == "ok"
    assert len(read_table(store, TABLES["curves"])) == 5
    assert not [p for p in store.rglob(".tmp*")]


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs a Linux /proc to stand for an unwritable place")
def test_an_unwritable_store_location_is_one_line_and_exit_2(local_ray, write_sweep):
    result = launch(str(write_sweep()), "--store", "/proc/sbsweep-store", "--num-cpus", "1", "--set", "grid.k=[3]", "--set", "grid.L=[0]")
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("Error: /proc/sbsweep-store: cannot")
    assert not Path("/proc/sbsweep-store").exists()


LIMITED_DRIVER_SCRIPT = """
import json, logging, resource, signal, sys
import ray
from orchestrator import launch
from workloads import TABLES

ray.init(address="local", num_cpus=1, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails like a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))  # the driver only: Ray's processes run already
report = launch(sys.argv[1], store=sys.argv[2], plot=False)
print(json.dumps({"unstored": report.unstored, "storage_error": report.storage_error}))
print(json.dumps({status.value: count for status, count in report.statuses.items()}))
"""


def test_a_trial_whose_rows_cannot_be_stored_crashes_alone_while_the_sweep_goes_on(tmp_path, write_sweep):
    import subprocess
    import sys

    import pandas as pd

    # One trial records its curve at every one of 4000 steps (about 50 kB of Parquet): too many rows
    # for a 40 kB file, where the other trial's parts and Tune's own files (about 10-25 kB) fit.
    sweep = write_sweep(TINY_SWEEP.replace("  k: [3, 20]\n  L: [0, 6]", "  k: [3]\n  L: [0]\n  eval_every_steps: [1, 100]").replace(
        "  steps: 40\n  eval_every_steps: 10\n", "  steps: 4000\n"))
    store = tmp_path / "store"
    done = subprocess.run([sys.executable, "-c", LIMITED_DRIVER_SCRIPT, str(sweep), str(store)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"ok": 1, "crashed": 1}
    said = json.loads(done.stdout.splitlines()[-2])  # the launch's summary names the disk's error and what it cost
    assert said["unstored"] == 1 and "File too large" in said["storage_error"]
    trials = pd.read_parquet(store / "trials")
    by_eval = trials.set_index(trials["config_json"].map(lambda c: json.loads(c)["eval_every_steps"]))
    error = by_eval.loc[1, "error"]
    assert by_eval.loc[1, "status"] == "crashed" and error.startswith("could not store results: ") and "File too large" in error
    assert by_eval.loc[100, "status"] == "ok"
    assert len(pd.read_parquet(store / "curves")) == 4000 // 100 + 1  # only the stored trial's curve
    assert not [p for p in store.rglob(".tmp*")]
