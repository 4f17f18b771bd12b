"""The `sbsweep` command line: a thin click layer over spec, expand, driver, store and figures."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from orchestrator import __version__
from orchestrator.plan import TrialSpec, expand
from orchestrator.progress import format_duration
from orchestrator.spec import ResourceError, SpecError, SweepSpec, load_spec
from results_schema import StoreError, TrialStatus
from workloads import TABLES

if TYPE_CHECKING:
    from orchestrator.launcher import LaunchReport

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEFAULT_STORE = "sbsweep-store"  # as orchestrator.launcher.DEFAULT_STORE, which imports pandas
DRY_RUN_ROWS = 10


class UserError(click.ClickException):
    """A mistake in what the user asked for: one line on stderr, exit code 2, nothing written."""

    exit_code = 2


def store_option(fn):  # type: ignore[no-untyped-def]
    """The --store option, shared by every command that writes a store."""
    return click.option(
        "--store",
        type=click.Path(path_type=Path),
        default=lambda: os.environ.get("SBSWEEP_STORE", DEFAULT_STORE),
        show_default=f"$SBSWEEP_STORE or ./{DEFAULT_STORE}",
        help="Result store directory (created if absent).",
    )(fn)


def store_argument(command: Any) -> Any:
    """STORE, the store a command reads: $SBSWEEP_STORE, else ./sbsweep-store, as launch's --store."""
    return click.argument("store", type=click.Path(path_type=Path), required=False, envvar="SBSWEEP_STORE", default=DEFAULT_STORE)(command)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="sbsweep")
def cli() -> None:
    """Reproduce 'On the Spectral Bias of Neural Networks' as Ray Tune sweeps.

    A sweep file (sweeps/*.yaml) says what to run; `launch` runs it into a Parquet store that
    pandas reads directly; `plot` draws the paper's figures from the store alone.

    \b
    Example:
        sbsweep launch sweeps/smoke.yaml --store /tmp/demo
        sbsweep plot /tmp/demo
    """


@cli.command()
@click.argument("sweep_file", type=click.Path(path_type=Path, dir_okay=False))
@store_option
@click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a spec value, e.g. workload.steps=500 or grid.k=[50,100] (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Print the expanded grid (count and first rows) and write nothing.")
@click.option("--address", default=None, metavar="ADDR", help="Join this Ray cluster (default: $RAY_ADDRESS, else an embedded local Ray).")
@click.option("--num-cpus", type=click.IntRange(min=1), default=None, help="CPUs of the embedded local Ray (default: all).")
@click.option(
    "--checkpoint-storage",
    default=lambda: os.environ.get("SBSWEEP_CHECKPOINT_STORAGE"),
    metavar="URI",
    help="Where Tune keeps checkpoints: a path or s3://bucket/prefix that every node reaches "
    "(default: $SBSWEEP_CHECKPOINT_STORAGE, else STORE/_tune, fine on one machine).",
)
@click.option("--overwrite", is_flag=True, help="Replace a stored sweep of the same name whose spec differs (its trials are deleted).")
@click.option("--restart", is_flag=True, help="Run unfinished trials from step 0, discarding their checkpoints (stored trials are kept).")
@click.option(
    "--retry-failed", is_flag=True,
    help="Also rerun trials stored as diverged (by default a relaunch skips them: they would diverge again).",
)
@click.option("--plot/--no-plot", default=True, show_default=True, help="Draw the sweep's figure when it ends.")
def launch(
    sweep_file: Path,
    store: Path,
    overrides: tuple[str, ...],
    dry_run: bool,
    address: str | None,
    num_cpus: int | None,
    checkpoint_storage: str | None,
    overwrite: bool,
    restart: bool,
    retry_failed: bool,
    plot: bool,
) -> None:
    """Run a sweep: every grid point x seed, in batches of Ray Tune trials, results into the store.

    Launching the same sweep into the same store again resumes it: stored trials are not run
    again, and trials an interruption cut off resume from their last checkpoint. A sweep may
    grow between launches (grid values, seeds, resources); changing what its trials compute
    needs a new name or --overwrite. A second launch of a sweep that is running into the same
    store is refused. Every check runs before anything is written.

    \b
    Example:
        sbsweep launch sweeps/manifold_cpu.yaml
        sbsweep launch sweeps/smoke.yaml --set workload.steps=100 --dry-run
    """
    try:
        spec = load_spec(sweep_file, overrides)
    except SpecError as error:
        raise UserError(str(error)) from None
    if dry_run:
        _print_grid(spec, expand(spec))
        return

    from orchestrator.launcher import SweepConflict  # lazy: brings pandas and pyarrow
    from orchestrator.launcher import launch as launch_sweep
    from orchestrator.lock import SweepLocked

    try:
        report = launch_sweep(
            spec, store, address=address, num_cpus=num_cpus, checkpoint_storage=checkpoint_storage, overwrite=overwrite,
            restart=restart, retry_failed=retry_failed, plot=plot, echo=lambda line: click.echo(line, err=True),
        )
    except (StoreError, SweepConflict, SweepLocked) as error:
        raise UserError(str(error)) from None
    except ResourceError as error:
        raise UserError(f"{sweep_file}: {error}") from None
    if report.ran:
        retried = f", {report.retries} retried after a crash" if report.retries else ""
        retried += f", {report.duplicates} reported twice and dropped" if report.duplicates else ""
        click.echo(
            f"ran {report.ran} trials in {report.batches} batches in {format_duration(report.fit_s)} "
            f"(Ray start {report.ray_start_s:.1f}s{retried})",
            err=True,
        )
    _print_summary(report)
    for path in report.figures:
        click.echo(f"figure: {path}")
    if not report.ok:
        sys.exit(1)


@cli.command()
@store_argument
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME", help="Only this sweep (repeatable; default: every sweep in the store).")
def compact(store: Path, sweeps: tuple[str, ...]) -> None:
    """Merge each sweep's small part files into one per table.

    A launch writes tens of part files per table however long it runs, and never merges them; a
    sweep resumed many times, or written by many short launches, gains more. Merging keeps reads
    fast and the file count low; the rows do not change. A sweep that is being launched right now
    is left alone. sbsweep's own readers read through a compaction; a plain pandas reader running
    at that moment may miss the merged rows (never read one twice): read again after it.

    \b
    Example:
        sbsweep compact sbsweep-store
    """
    from orchestrator.lock import SweepLocked, sweep_lock
    from orchestrator.store import check_store, stored_sweeps
    from orchestrator.store import compact as compact_sweep

    try:
        check_store(store)
        for sweep in sweeps or stored_sweeps(store):
            try:
                with sweep_lock(store, sweep):
                    before, after = compact_sweep(store, sweep, TABLES)
            except SweepLocked as error:
                click.echo(f"skipped: {error}", err=True)
                continue
            click.echo(f"{sweep}: {before} part file(s) per table -> {after}")
    except StoreError as error:
        raise UserError(str(error)) from None


@cli.command()
@store_argument
@click.option("--sweep", default=None, help="Only this sweep (default: every sweep in the store).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None, help="Where to write the figures (default: STORE/figures).")
def plot(store: Path, sweep: str | None, out: Path | None) -> None:
    """Draw the paper's figures (PNG and PDF) from a store alone.

    \b
    Example:
        sbsweep plot sbsweep-store --sweep manifold_cpu
    """
    _plot(store, sweep, out)


@cli.command()
@store_argument
def status(store: Path) -> None:
    """Show each sweep's done / failed / missing trial counts, failures, and damaged files.

    Missing trials are running, pending, or were cut off: `sbsweep launch` on the same sweep file
    runs them. A part file of the store that cannot be read is named, the counts leave it out,
    and the exit code is 1.

    \b
    Example:
        sbsweep status sbsweep-store
    """
    from orchestrator.status import sweep_statuses
    from orchestrator.store import check_store, unreadable_parts

    try:
        check_store(store)
        damaged = unreadable_parts(store, TABLES)
        statuses = sweep_statuses(store, skip={path for path, _ in damaged})
    except StoreError as error:
        raise UserError(str(error)) from None
    if statuses:
        import pandas as pd

        table = pd.DataFrame(
            {
                "sweep": s.sweep, "experiment": s.experiment, "trials": "?" if s.expected is None else s.expected,
                **{status.value: s.counts.get(status, 0) for status in (TrialStatus.OK, TrialStatus.DIVERGED, TrialStatus.CRASHED)},
                "missing": "?" if s.missing is None else s.missing,
            }
            for s in statuses
        )
        click.echo(table.to_string(index=False))
        if damaged:
            click.echo("(counted without the unreadable part files below: their trials count as missing)")
        for s in statuses:
            for trial_id, status, error in s.failures:
                click.echo(f"{status.value} {trial_id}: {error}")
    elif not damaged:
        click.echo(f"{store}: no sweeps stored yet")
    for path, reason in damaged:
        click.echo(f"unreadable part file {path}: {reason}")
    if damaged:
        click.echo(f"{len(damaged)} unreadable part file(s): delete them and launch the sweep again to rerun those trials", err=True)
        sys.exit(1)


@cli.command()
@store_argument
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME", help="Only this sweep (repeatable; default: every sweep in the store).")
@click.option("--json", "as_json", is_flag=True, help="Print the verdicts as JSON (one object with 'holds' and 'verdicts').")
def verify(store: Path, sweeps: tuple[str, ...], as_json: bool) -> None:
    """Check the paper's claims on a store: statistic, value, 95% interval over seeds, verdict.

    \b
    C1  Exp. 1: the step at which k reaches half its amplitude rises with k    rho >= 0.9
    C1b Exp. 1: the layers' spectral norms grow as the spectrum is fitted      rho >= 0.8
    C2  Exp. 2: the final MSE falls as L grows                                 rho <= -0.8
    C2b Exp. 2: high frequencies are learned sooner on larger L                rho >= 0.8
    C3a Exp. 3: accuracy above the majority baseline falls with k         mean rho <= -0.7
    C3b Exp. 3: accuracy above the majority baseline rises with L, k>=150 mean rho >= 0.7
    C4  Exp. 4: the delta that halves k's mean magnitude falls with k          rho <= -0.8
    C5a Fig. 2: two seeds' nets, both fitting >= 0.95, differ on few points fraction <= 0.05
    C5b Fig. 2: ... and on much of the box around them                  fraction >= 0.1
    C6  Exp. 5: noise is fitted faster on digits than on a flat subspace   fraction >= 0.9
    C7a Fig. 10: the net's rho(L, accuracy) exceeds each k-NN's        mean gap >= 0.5
    C7b Fig. 10: the net's radial spectrum decays faster than k-NN's         ratio <= 1
    C8a ICML digits: low-frequency label noise raises the best val. loss       rho >= 0.8
    C8b ICML digits: high-frequency noise hardly does (rise, vs C8a's)       ratio <= 0.5
    C9a ICML digits: the kernel's low-index eigenvectors are fitted first      rho >= 0.8
    C9b ICML digits: best clean loss, high-index noise / white noise          ratio <= 1

    Each claim is checked on every sweep of its experiment, over the trials that ended ok,
    averaging seeds first, with one verdict per value of every grid axis the claim does not
    itself use (a sweep over fourier_scale gets C1 per scale); rho is Spearman's. Each verdict
    carries a 95% bootstrap interval
    over the seeds: pass when it lies wholly on the claim's side of the threshold, fail when
    wholly on the other, inconclusive in between; with one seed there is no interval and the
    verdict rests on the value alone. A claim whose experiment is not in the store is "no
    data", not a pass.

    \b
    Exit codes: 0 every verdict with data passed, 1 one failed, 3 none failed but one is
    inconclusive (2: a bad store or sweep name).

    \b
    Example:
        sbsweep verify sbsweep-store
        sbsweep verify sbsweep-store --sweep learning_order_cpu --json
    """
    import json

    from orchestrator.verify import all_hold, exit_code, report_lines, verify_store

    try:
        verdicts = verify_store(store, sweeps)
    except StoreError as error:
        raise UserError(str(error)) from None
    unknown = sorted(set(sweeps) - {v.sweep for v in verdicts})
    if unknown:
        raise UserError(f"{store}: no trials of sweep(s) {', '.join(map(repr, unknown))} that a claim covers")
    holds = all_hold(verdicts)
    if as_json:
        report = {"store": str(store), "holds": holds, "exit_code": exit_code(verdicts), "verdicts": [v.as_dict() for v in verdicts]}
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo("\n".join(report_lines(verdicts)))
    code = exit_code(verdicts)
    if code:
        sys.exit(code)


@cli.command()
def experiments() -> None:
    """List the experiments a sweep file can name, with their config keys, defaults and meaning.

    Each key is printed as it would be written under `workload:` in a sweep file.

    \b
    Example:
        sbsweep experiments
    """
    import dataclasses
    import json

    from workloads import REGISTRY
    from workloads.config import field_docs

    for experiment in REGISTRY.values():
        click.echo(f"{experiment.name}: {experiment.summary} ({', '.join(experiment.figures)})")
        docs = field_docs(experiment.config)
        for field in dataclasses.fields(experiment.config):
            value = json.dumps(list(field.default) if isinstance(field.default, tuple) else field.default)
            click.echo(f"  {f'{field.name}: {value}':<30} # {docs.get(field.name, '')}".rstrip())


def _print_grid(spec: SweepSpec, trials: list[TrialSpec]) -> None:
    """The dry run's listing: the count, then the first trials, what varies first."""
    import pandas as pd

    click.echo(f"sweep '{spec.name}' ({spec.experiment}): {len(trials)} trials")
    rows = pd.DataFrame([{"trial_id": t.trial_id, **t.config} for t in trials[:DRY_RUN_ROWS]])
    first = ["trial_id", *spec.grid, "seed"]
    click.echo(rows[first + [c for c in rows if c not in first]].to_string(index=False))
    if len(trials) > DRY_RUN_ROWS:
        click.echo(f"... and {len(trials) - DRY_RUN_ROWS} more")


def _print_summary(report: LaunchReport) -> None:
    """Print where the sweep stands after a launch, and how to read the store."""
    click.echo(f"\nsweep '{report.sweep}': {report.trials} trials")
    for status in TrialStatus:
        click.echo(f"  {status.value:<11}{report.statuses.get(status, 0):>6}")
    for trial_id, status, error in report.failures[:10]:
        click.echo(f"  {status.value} {trial_id}: {error}")
    if len(report.failures) > 10:
        click.echo(f"  ... and {len(report.failures) - 10} more (sbsweep status {report.store})")
    click.echo(f"store: {report.store}   (pandas: pd.read_parquet('{report.store / 'trials'}'))")


def _plot(store: Path, sweep: str | None, out: Path | None) -> None:
    from orchestrator.figures import draw_figures  # lazy: matplotlib is slow to import

    try:
        paths = draw_figures(store, sweep, out)
    except StoreError as error:
        raise UserError(str(error)) from None
    if not paths:
        raise UserError(f"{store}: no trials{f' of sweep {sweep!r}' if sweep else ''} to plot")
    for path in paths:
        click.echo(f"figure: {path}")


def main() -> None:
    """Console-script entry point."""
    cli()
