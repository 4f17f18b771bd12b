"""The command line through click's CliRunner: help, dry runs, and errors as one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from orchestrator.cli import cli

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted(cli.commands)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert cli.commands[command].help
    assert "Example:" in result.output and f"sbsweep {command}" in result.output


def test_verify_help_names_every_claim_with_its_threshold():
    from orchestrator.verify import CLAIMS

    lines = invoke("verify", "--help").output.splitlines()
    for claim in CLAIMS:
        [line] = [line for line in lines if line.split()[:1] == [claim.claim_id]]
        assert line.endswith(f"{claim.comparison} {claim.threshold:g}"), line


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_in_the_readme(command):
    assert f"sbsweep {command}" in (REPO / "README.md").read_text()


def test_dry_run_prints_the_count_and_first_rows_and_writes_nothing(tmp_path):
    store = tmp_path / "store"
    result = invoke("launch", str(REPO / "sweeps" / "manifold.yaml"), "--store", str(store), "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "sweep 'manifold' (manifold_classification): 440 trials"
    assert lines[1].split()[:4] == ["trial_id", "k", "L", "seed"]
    assert re.match(r"manifold-[0-9a-f]{16}\s+50\s+0\s+0\s", lines[2])
    assert lines[-1] == "... and 430 more"
    assert not store.exists()


def test_set_overrides_reach_the_expanded_grid(tmp_path):
    result = invoke("launch", str(REPO / "sweeps" / "smoke.yaml"), "--dry-run", "--set", "grid.k=[7]", "--set", "seeds=[0,1,2]")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "sweep 'smoke' (manifold_classification): 6 trials"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "workload.stepz=5"], "workload.stepz: unknown key (did you mean 'steps'?)"),
        (["--set", "grid.L=[0.5]"], "grid.L[0]: Input should be a valid integer, got 0.5"),
        (["--set", "execution.max_trials=1"], "execution.max_trials: the sweep expands to 4 trials"),
    ],
)
def test_a_bad_override_exits_2_with_one_line_naming_the_override(args, expected):
    result = invoke("launch", str(REPO / "sweeps" / "smoke.yaml"), "--dry-run", *args)
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert f"(--set {args[1]})" in result.output and expected in result.output


def test_launch_into_a_foreign_directory_exits_2_and_leaves_it_alone(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = invoke("launch", str(REPO / "sweeps" / "smoke.yaml"), "--store", str(tmp_path))
    assert result.exit_code == 2
    assert "not an sbsweep store" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_plot_of_a_missing_store_exits_2(tmp_path):
    result = invoke("plot", str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "no such store" in result.output


def test_experiments_lists_every_config_key_with_its_default_and_meaning():
    result = invoke("experiments")
    assert result.exit_code == 0
    assert "manifold_classification" in result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["learning_rate:", "0.0003", "#", "Adam", "learning", "rate:", "3e-4,", "as", "in", "the", "authors'", "code"] in lines
    depth = next(" ".join(line) for line in lines if line[:2] == ["depth:", "6"])
    assert "# number of Linear layers: depth - 1 hidden layers and the output layer" in depth


def test_reading_validating_and_expanding_a_sweep_never_imports_torch(tmp_path):
    # torch takes over a second to import: the CLI and the driver must not pay it, only workers.
    script = f"""
import sys
from click.testing import CliRunner
from orchestrator.cli import cli
import orchestrator.launcher, orchestrator.preparation, orchestrator.status, orchestrator.writer, orchestrator.figures, orchestrator.verify
runner = CliRunner()
for args in (["--help"], ["experiments"], ["launch", "{REPO / 'sweeps' / 'manifold.yaml'}", "--dry-run"], ["status", "{tmp_path}"]):
    result = runner.invoke(cli, args)
    assert result.exit_code in (0, 2), (args, result.output)
print("torch" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("command", ["status", "verify", "plot", "compact"])
def test_every_command_that_reads_a_store_defaults_to_sbsweep_store_from_the_environment(command, tmp_path):
    from orchestrator.store import open_store

    store = open_store(tmp_path / "elsewhere")
    runner = CliRunner(env={"SBSWEEP_STORE": str(store)})
    result = runner.invoke(cli, [command])
    if command == "plot":  # an empty store has nothing to draw: it says so of the variable's store
        assert result.exit_code == 2 and f"{store}: no trials to plot" in result.output
    elif command == "verify":  # nothing shown to hold is not a success
        assert result.exit_code == 5 and "16 no data" in result.output
    else:
        assert result.exit_code == 0, result.output
    missing = CliRunner(env={"SBSWEEP_STORE": str(tmp_path / "nowhere")}).invoke(cli, [command])
    assert missing.exit_code == 2 and "nowhere" in missing.output  # the variable's store, named


@pytest.fixture
def small_store(tmp_path):
    """A store with two real tiny trials (a flush each) and their sweep's spec, written in this process."""
    from conftest import TINY_SWEEP

    from orchestrator.plan import expand
    from orchestrator.spec import load_spec
    from orchestrator.store import open_store, save_sweep, write_trial
    from orchestrator.trial import run_trial
    from workloads import TABLES

    sweep = tmp_path / "tiny.yaml"
    sweep.write_text(TINY_SWEEP)
    spec = load_spec(sweep)
    store = open_store(tmp_path / "store")
    for trial in expand(spec)[:2]:
        write_trial(store, run_trial(trial), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    return store


@pytest.mark.parametrize("command", ["status", "verify", "plot", "compact"])
def test_every_command_that_reads_a_store_takes_it_as_an_argument_or_as_store_and_refuses_two(command, small_store, tmp_path):
    as_argument, as_option = invoke(command, str(small_store)), invoke(command, "--store", str(small_store))
    assert as_argument.exit_code == as_option.exit_code and as_argument.exit_code in (0, 1, 3, 4, 5), as_argument.output
    two = invoke(command, str(small_store), "--store", str(tmp_path / "other"))
    assert two.exit_code == 2 and "the store is given twice" in two.output and len(two.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["status"], ["verify"], ["compact"], ["plot"], ["experiments"], ["launch", "{sweep}", "--dry-run"]])
def test_every_command_that_prints_a_table_prints_one_json_object_with_json(args, small_store):
    import json

    args = [a.format(sweep=small_store.parent / "tiny.yaml") for a in args]
    result = invoke(*args, *([] if args[0] in ("experiments", "launch") else [str(small_store)]), "--json")
    assert result.exit_code in (0, 1, 3, 4, 5), result.output
    data = json.loads(result.output)
    assert isinstance(data, dict) and data


def test_a_store_the_command_cannot_write_is_one_line_naming_the_file(small_store):
    """`plot` and `compact` on a store they cannot write (a disk that refuses every write: the
    process's file size limit set to 0, as a full disk) exit 2 with one line, no traceback."""
    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))\n"
        "from orchestrator.cli import main\n"
        "sys.argv = ['sbsweep'] + sys.argv[1:]\n"
        "main()\n"
    )
    for args in (["plot", str(small_store)], ["compact", str(small_store)]):  # compact has two flushes to merge
        done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "File too large" in done.stderr and str(small_store) in done.stderr
