"""`sbsweep reproduce` and `sbsweep report`: the paper as one command and one page. Registered on
cli.py's group (cli.py imports this module last)."""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack
from pathlib import Path

import click

from orchestrator.cli import (
    UserError,
    _default_store,
    _duration_s,
    _echo_json,
    cli,
    json_option,
    launch_errors,
    one_line_errors,
    store_argument,
    store_option,
)
from orchestrator.progress import format_duration
from orchestrator.spec import SpecError, SweepSpec
from orchestrator.suite import scales


@cli.command()
@click.argument("suite_file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--scale", default=None, type=click.Choice(scales()),
              help="The suite sweeps/suites/SCALE.yaml: cpu (every claim on 2 CPU cores), paper (a GPU cluster), paper_cpu (the "
              "paper-scale sweeps that fit a CPU, with --set resources.gpu=0). Default: cpu, unless SUITE_FILE is given.")
@store_option
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a value of every sweep of the suite, e.g. resources.gpu=0 (repeatable).")
@click.option("--decide-seeds", type=click.IntRange(min=1), default=None,
              help="Then run `decide` on the suite's sweeps: at most this many seeds added to each.")
@click.option("--decide-time", default=None, metavar="DURATION", help="... or within this time (90s, 30m, 2h).")
@click.option("--address", default=None, metavar="ADDR", help="Join this Ray cluster (default: $RAY_ADDRESS, else an embedded local Ray).")
@click.option("--num-cpus", type=click.IntRange(min=1), default=None, help="CPUs of the embedded local Ray (default: all).")
@click.option("--checkpoint-storage", default=None, metavar="URI", help="As launch's: where Tune keeps checkpoints on a cluster.")
@click.option("--retry-failed", is_flag=True, help="As launch's: also rerun trials stored as diverged or collapsed.")
@click.option("--report/--no-report", "with_report", default=True, show_default=True, help="Write the report (STORE/report/) at the end.")
@json_option
@one_line_errors
def reproduce(suite_file: Path | None, scale: str | None, store_option: Path | None, overrides: tuple[str, ...], decide_seeds: int | None,
              decide_time: str | None, address: str | None, num_cpus: int | None, checkpoint_storage: str | None, retry_failed: bool,
              with_report: bool, as_json: bool) -> None:
    """Reproduce the paper: every sweep of a suite into one store, then the verdicts, then the report.

    The suite's sweeps run in one Ray session and one Tune run, their batches sharing the
    workers (costliest first, so no worker idles while one sweep finishes its tail), with one
    progress line for them all. Running it again resumes it, as a launch does. With
    --decide-seeds or --decide-time, `decide` then adds seeds to the sweeps whose verdicts are
    undecided, within that budget. Each run is recorded in STORE/suites/, for the report.

    \b
    Exit codes: as verify's (0 every verdict passed, 1 one failed, 3 inconclusive,
    4 unreplicated, 5 no data), 2 a bad suite or sweep file or store, 130 interrupted.

    \b
    Example:
        sbsweep reproduce --scale cpu --store paper-cpu
        sbsweep reproduce --scale cpu --store paper-cpu --decide-seeds 4
        sbsweep reproduce --scale paper --store ~/store --address auto
    """
    from orchestrator.decide import decide as decide_claims
    from orchestrator.launcher import launch_many
    from orchestrator.suite import SuiteRun, load_suite
    from orchestrator.suite import suite_file as scale_file
    from orchestrator.verify import counts, exit_code, report_lines, verify_store

    store = store_option or _default_store()
    if suite_file is not None and scale is not None:
        raise UserError(f"give a suite file or --scale, not both ({suite_file}, --scale {scale})")
    budget_s = _duration_s(decide_time)
    try:
        path = suite_file or scale_file(scale or "cpu")
        suite, specs = load_suite(path, overrides)
    except SpecError as error:
        raise UserError(str(error)) from None
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    run = SuiteRun(suite.name, suite.description, [spec.name for spec in specs])
    again = ["sbsweep", "reproduce", *([str(suite_file)] if suite_file else ["--scale", scale or "cpu"]), "--store", str(store),
             *[a for o in overrides for a in ("--set", o)]]
    with ExitStack() as session, launch_errors(path, store, again):
        start = time.monotonic()
        reports = launch_many(specs, store, name=f"suite-{suite.name}", address=address, num_cpus=num_cpus,
                              checkpoint_storage=checkpoint_storage, retry_failed=retry_failed, echo=say, ray_session=session)
        run.launch_s = time.monotonic() - start
        run.trials_run = sum(report.ran for report in reports)
        run.save(store)
        if decide_seeds or budget_s:
            def launch_sweep(spec: SweepSpec) -> object:  # in the suite's Ray session, connected at the first launch with work
                return launch_many([spec], store, address=address, num_cpus=num_cpus, checkpoint_storage=checkpoint_storage,
                                   echo=say, ray_session=session)[0]

            start = time.monotonic()
            decided = decide_claims(store, budget_seeds=decide_seeds, budget_s=budget_s, seeds_per_look=2, max_looks=None,
                                    sweeps=tuple(run.sweeps), launch_sweep=launch_sweep, echo=say)
            run.decide_s = time.monotonic() - start
            verdicts = decided.verdicts
        else:
            verdicts = verify_store(store, tuple(run.sweeps))
    run.wall_s, run.finished = time.monotonic() - run.began, True
    run.save(store)
    page = None
    if with_report:
        from orchestrator.report import write

        page, _, _ = write(store)
        run.wall_s = time.monotonic() - run.began
        run.save(store)
    code = exit_code(verdicts)
    if as_json:
        _echo_json({"suite": suite.name, "store": str(store), "sweeps": {r.sweep: {s.value: n for s, n in r.statuses.items()} for r in reports},
                    "exit_code": code, "counts": counts(verdicts), "report": str(page) if page else None, "wall_s": run.wall_s})
    else:
        click.echo("\n".join(report_lines(verdicts)))
        click.echo(f"\nsuite '{suite.name}': {len(specs)} sweeps, {sum(r.trials for r in reports)} trials, "
                   f"{format_duration(run.wall_s or 0)}" + (f"; report: {page}" if page else ""))
    if code:
        sys.exit(code)


@cli.command()
@store_argument
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write report.html and report.json into this folder instead of STORE/report.")
@json_option
@one_line_errors
def report(store: Path, out: Path | None, as_json: bool) -> None:
    """Write one self-contained HTML page (and its JSON) that says whether the paper reproduces.

    At the top: how many verdicts reproduced, failed, are inconclusive, unreplicated or without
    data, at what scale and in what time, and a legend. Then each claim in the paper's order: its
    statement and figure, each verdict with its statistic, its interval at the level it was judged
    at, each seed's own value, the figures it rests on (click one for full size), its notes, how
    `decide` reached it and the pandas lines that load its data. Then what ran (each sweep's
    resolved settings, trials, minutes, devices) and where the numbers come from. No server or
    network is needed to read it: the figures are inside. An earlier report in the store is kept
    whole (report/history/) and the verdicts that changed since are listed. Figures missing from
    the store are named: `sbsweep plot STORE` draws them.

    \b
    Example:
        sbsweep report sbsweep-store
        sbsweep report sbsweep-store --out /tmp/report
    """
    from orchestrator.report import write

    started = time.perf_counter()
    page, data_path, data = write(store, out)
    if as_json:
        _echo_json({"report": str(page), "json": str(data_path), "summary": data["summary"], "changed": data["changed"]})
        return
    summary = data["summary"]
    click.echo(f"report: {page} ({page.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - started:.1f}s)")
    click.echo(", ".join(f"{summary[o]} {o}" for o in ("pass", "fail", "inconclusive", "unreplicated", "no data"))
               + f" of {summary['verdicts']} verdicts" + (f"; {len(data['changed'])} changed since the last report" if data["changed"] else ""))
