"""Launch a sweep: the library behind `sbsweep launch`, for scripts and notebooks.

    from orchestrator import ResultStore, launch
    report = launch("sweeps/smoke.yaml", store="sbsweep-store", overrides=["workload.steps=100"])
    report.statuses                       # {TrialStatus.OK: 4}
    ResultStore("sbsweep-store").table("trials", sweep="smoke")

A launch expands the sweep, skips the trials the store already holds (ok, or diverged), runs the
rest as batches of Ray Tune trials (plan.py) on an embedded local Ray or the cluster at
`address`, writes their rows in flushes (writer.py), and draws the sweep's figure. Launching the
same sweep into the same store again resumes it; a second launch of a sweep that is running is
refused (lock.py).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator import __version__
from orchestrator.checkpoints import drop_checkpoints, resumable_checkpoints, tune_root
from orchestrator.job import Stage
from orchestrator.lock import sweep_lock
from orchestrator.plan import Batch, TrialSpec, Unit, expand, plan, unit_id
from orchestrator.preparation import PreparedResult, missing_jobs, settle
from orchestrator.progress import ProgressLine, SharedProgress
from orchestrator.spec import ResourceError, SweepSpec, load_spec
from orchestrator.status import read_trials, sweep_standing
from orchestrator.store import (
    Repair,
    check_store_path,
    compact,
    damaged_flushes,
    drawn_figures,
    figures_folder,
    finished_trial_ids,
    open_store,
    prepared_ids,
    remove_sweep,
    repair_store,
    save_sweep,
    spec_conflict,
    store_id,
    stored_trial_ids,
    superseded_rows,
)
from orchestrator.store.parts import committed_trials_parts
from orchestrator.writer import FitCounts, FlushPolicy, StoreWriter, os_error_line
from results_schema import MARKER_FILE, StoreError, TrialStatus
from workloads import TABLES, images
from workloads.mnist import DataError

DEFAULT_STORE = "sbsweep-store"


class SweepConflict(Exception):
    """The store holds a sweep of the same name whose trials compute something else."""


@dataclass(frozen=True)
class LaunchReport:
    """What a launch did, and where the sweep stands after it."""

    sweep: str
    experiment: str
    store: Path
    trials: int
    """trials in the sweep"""
    skipped: int
    """trials the store already held (ok, or diverged), not run again"""
    ran: int
    """trials this launch ran"""
    statuses: dict[TrialStatus, int]
    """the sweep's trials by status after the launch; NOT_STORED counts those with no row"""
    failures: list[tuple[str, TrialStatus, str]] = field(default_factory=list)
    """(trial id, status, error) of the sweep's trials that did not end ok"""
    batches: int = 0
    """Ray Tune trials the launch used (preparations included)"""
    retries: int = 0
    """batches Tune restarted after a crash"""
    duplicates: int = 0
    """trials reported a second time (by a retried batch) and dropped"""
    unstored: int = 0
    """trials whose rows could not be written to the store (a full disk): recorded crashed where a
    row could still be written, else missing; a relaunch runs them"""
    storage_error: str | None = None
    """why rows could not be written (the first such error, one line), or None"""
    ray_start_s: float = 0.0
    fit_s: float = 0.0
    figures: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every trial of the sweep is stored and ended ok."""
        return self.statuses.get(TrialStatus.OK, 0) == self.trials


def launch(
    sweep: SweepSpec | str | Path,
    store: str | Path | None = None,
    *,
    overrides: tuple[str, ...] | list[str] = (),
    address: str | None = None,
    num_cpus: int | None = None,
    checkpoint_storage: str | None = None,
    overwrite: bool = False,
    restart: bool = False,
    retry_failed: bool = False,
    plot: bool = True,
    echo: Callable[[str], None] | None = None,
) -> LaunchReport:
    """Run a sweep (a SweepSpec, or a sweep file with `overrides`) into `store` (default:
    $SBSWEEP_STORE, else ./sbsweep-store); return a report.

    Raises SpecError (a bad sweep file), StoreError (not a store, another schema version, a store
    it cannot write), SweepConflict (the store holds another sweep of that name: pass
    overwrite=True to replace it), SweepLocked (a launch of this sweep into this store is running)
    and ResourceError (no node could run a trial), each with a one-line message, before anything
    is written. KeyboardInterrupt (Ctrl-C) stops it after storing the trials already finished:
    launching again resumes. `checkpoint_storage`: where Tune keeps checkpoints (default
    STORE/_tune); on a cluster of several machines, a URI every node reaches (this store's
    checkpoints go under its id there). `restart` drops the checkpoints of unfinished trials;
    `retry_failed` also reruns diverged and collapsed trials. `echo` receives the launch's messages (default:
    standard error). `overrides` apply to a sweep file; with a SweepSpec they raise ValueError
    rather than be ignored.

    Before it runs anything, a launch repairs the store: what a crash left of any sweep it can
    lock, and the flushes of its own sweep a reader can no longer trust (set aside, their trials
    run again). When its trials are done it merges the sweep's part files (store.compact).
    """
    if isinstance(sweep, SweepSpec) and overrides:
        # Overrides edit a sweep file's text before validation; a SweepSpec is past that point.
        raise ValueError(f"overrides {list(overrides)} apply to a sweep file, not to a SweepSpec: pass spec.model_copy(update=...) instead")
    spec = sweep if isinstance(sweep, SweepSpec) else load_spec(sweep, overrides)
    [report] = launch_many([spec], store, address=address, num_cpus=num_cpus, checkpoint_storage=checkpoint_storage, overwrite=overwrite,
                           restart=restart, retry_failed=retry_failed, plot=plot, echo=echo)
    return report


class DataMissing(Exception):
    """A data set a sweep's trials need is not in the data cache (or not good): one line naming
    the sweep and the command that fetches it."""


def data_to_ship(sweeps: list[_Sweep]) -> dict[str, bytes]:
    """The data sets the sweeps' trials to run need from the data cache (Experiment.data), as the
    bytes shipped to every worker; DataMissing, before Ray starts or anything is written, where
    one is missing."""
    needed: dict[str, str] = {}
    for sweep in sweeps:
        for trial in sweep.todo:
            for name in sweep.spec.experiment_entry.data(trial.config):
                needed.setdefault(name, sweep.spec.name)
    try:
        return images.kept_payloads(set(needed))
    except DataError as error:
        sweep = next(iter(needed.values()))
        raise DataMissing(f"sweep '{sweep}' runs on {', '.join(sorted(needed))}: {error}") from None


@dataclass
class _Sweep:
    """One sweep of a launch, checked and locked, before anything is written."""

    spec: SweepSpec
    trials: list[TrialSpec]
    todo: list[TrialSpec]
    conflict: str | None
    damaged: dict[str, str]

    @property
    def skipped(self) -> int:
        return len(self.trials) - len(self.todo)


def launch_many(
    specs: list[SweepSpec],
    store: str | Path | None = None,
    *,
    name: str | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    checkpoint_storage: str | None = None,
    overwrite: bool = False,
    restart: bool = False,
    retry_failed: bool = False,
    plot: bool = True,
    echo: Callable[[str], None] | None = None,
    ray_session: ExitStack | None = None,
) -> list[LaunchReport]:
    """Run several sweeps into one store as `launch` runs one, in one Ray session and one Tune run
    of all their batches (their preparations first, in one run of their own), so the workers
    stay busy until the last trial of any sweep; return each sweep's report, in order.

    Every sweep is checked and locked before Ray starts or anything is written; `name` names the
    run on the progress line (which counts every sweep's trials) and in the checkpoints' storage.
    With `ray_session`, the Ray it connects stays connected until that stack closes (the caller's
    next launches reuse it); else it disconnects when the launch ends.
    """
    say = echo or (lambda line: print(line, file=sys.stderr))
    if len({spec.name for spec in specs}) != len(specs):
        raise ValueError(f"sweeps launched together need names of their own: {[spec.name for spec in specs]}")
    store = check_store_path(Path(store if store is not None else os.environ.get("SBSWEEP_STORE", DEFAULT_STORE)))
    with ExitStack() as held:
        # The locks come first, before Ray starts or anything is written: of two launches of one
        # sweep (first ones into a new store included), one runs and the other is refused at once.
        sweeps = [_checked(spec, store, held, overwrite, retry_failed) for spec in specs]
        working = [sweep for sweep in sweeps if sweep.todo]
        shipped = data_to_ship(working)
        for sweep in sweeps:
            say(f"sbsweep {__version__}: sweep '{sweep.spec.name}' ({sweep.spec.experiment}), {len(sweep.trials)} trials"
                f"{f', {sweep.skipped} already stored' if sweep.skipped else ''}; store {store}")
        counts, ray_start_s, fit_s = {sweep.spec.name: FitCounts() for sweep in sweeps}, 0.0, 0.0
        if working:
            from orchestrator import ray_backend  # lazy: Ray is slow to import, and a launch with nothing to run needs none

            session = held if ray_session is None else ray_session
            ray_start = time.perf_counter()
            session.enter_context(environment_kept())
            local = session.enter_context(ray_backend.ray_cluster(address, num_cpus))
            ray_start_s = time.perf_counter() - ray_start
            if local:  # a cluster may still add nodes; a local Ray has all it will ever have
                for sweep in working:
                    try:
                        ray_backend.check_resources(sweep.spec.resources)
                    except ResourceError as error:
                        raise ResourceError(error.key, error.message, sweep.spec.name if len(specs) > 1 else None) from None
            for sweep in sweeps:
                _prepare_store(store, sweep, say)
            if not local and not checkpoint_storage:
                say("note: checkpoints go to the driver's disk (STORE/_tune); on a cluster of several machines "
                    "pass --checkpoint-storage s3://bucket/prefix (or a shared mount) so every node reaches them")
            roots = [tune_root(store, store_id(store), sweep.spec.name, checkpoint_storage) for sweep in working]
            for sweep, root in zip(working, roots):
                if restart or sweep.conflict:  # --overwrite: the replaced sweep's checkpoints go with its trials
                    drop_checkpoints(root)
            run_root = roots[0] if len(working) == 1 else tune_root(store, store_id(store), name or "together", checkpoint_storage)
            label = name or working[0].spec.name
            progress = ProgressLine(label, sum(len(s.trials) for s in sweeps), skipped=sum(s.skipped for s in sweeps))
            start = time.perf_counter()
            counts.update(_run(working, store, run_root, roots, progress, label, shipped))
            fit_s = time.perf_counter() - start
        else:
            for sweep in sweeps:
                _prepare_store(store, sweep, say)
        for sweep in working:
            _compact(store, sweep.spec.name, say)
        reports = []
        for sweep in sweeps:
            standing = sweep_standing(read_trials(store, [sweep.spec.name]), sweep.spec.name, {t.trial_id for t in sweep.trials})
            done = counts[sweep.spec.name]
            reports.append(LaunchReport(
                sweep=sweep.spec.name, experiment=sweep.spec.experiment, store=store, trials=len(sweep.trials), skipped=sweep.skipped,
                ran=len(sweep.todo), statuses=standing.statuses, failures=standing.failures, batches=done.batches, retries=done.retries,
                duplicates=done.duplicates, unstored=done.unstored, storage_error=done.storage_error, ray_start_s=ray_start_s,
                fit_s=fit_s, figures=_draw(store, sweep.spec.name) if plot else [],
            ))
        return reports


def _checked(spec: SweepSpec, store: Path, held: ExitStack, overwrite: bool, retry_failed: bool) -> _Sweep:
    """Lock `spec`'s sweep in the store (held until `held` closes), check it may run there, and find
    the trials it has to run: read only, nothing written yet."""
    trials = expand(spec)
    try:
        held.enter_context(sweep_lock(store, spec.name))
    except OSError as error:
        raise StoreError(f"{store}: cannot write the store ({os_error_line(error)})") from None
    existed = (store / MARKER_FILE).exists()
    conflict = spec_conflict(store, spec.name, spec.stored_form()) if existed else None
    if conflict and not overwrite:
        raise SweepConflict(f"{store}: {conflict}; launch it under a new name (--set name=NEW) or pass --overwrite to replace it")
    if conflict:  # what --overwrite will delete is checked now, before Ray starts or anything is written
        drawn_figures(figures_folder(store), spec.name)
    done: set[str] = set()
    damaged: dict[str, str] = {}
    if existed and not conflict:
        # Read only, so far: the flushes the repair will set aside do not count as done.
        damaged = damaged_flushes(store, spec.name, TABLES, thorough=True)
        parts = committed_trials_parts(store, spec.name) if damaged else {}
        skip = {parts[flush] for flush in damaged if flush in parts}
        done = (stored_trial_ids(store, sweeps=[spec.name], skip=skip) if retry_failed
                else finished_trial_ids(store, sweeps=[spec.name], skip=skip))
    return _Sweep(spec, trials, [t for t in trials if t.trial_id not in done], conflict, damaged)


@contextmanager
def environment_kept() -> Iterator[None]:
    """Give the process's environment variables back as they were: importing Ray, ray.init and
    the launch's quiet settings (RAY_AIR_NEW_OUTPUT, RAY_AUTH_MODE, PYTHONBREAKPOINT, ...) change
    them, and a notebook that launches must go on as before."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(saved):
            del os.environ[key]
        os.environ.update(saved)


def _prepare_store(store: Path, sweep: _Sweep, say: Callable[[str], None]) -> None:
    """Create the store if needed, drop the old sweep if --overwrite replaces it, save the spec,
    and repair the store (this sweep thoroughly, with the damaged flushes already found)."""
    spec = sweep.spec
    try:
        open_store(store)
        if sweep.conflict:
            say(f"--overwrite: removed {remove_sweep(store, spec.name, TABLES)} stored trials of sweep '{spec.name}'")
        save_sweep(store, spec.name, spec.stored_form())
        repairs: list[Repair] = repair_store(store, TABLES, held=spec.name, known_damaged=sweep.damaged)
    except OSError as error:
        raise StoreError(f"{store}: cannot write the store ({os_error_line(error)})") from None
    for repair in repairs:
        for line in repair.lines(store):
            say(line)


def _compact(store: Path, sweep: str, say: Callable[[str], None]) -> None:
    """Merge the sweep's part files at the end of its launch, so a launch of any length leaves a
    few per table; a failure (a full disk) leaves the parts as they are, which is no harm."""
    try:
        before, after = compact(store, sweep, TABLES)
    except (OSError, StoreError) as error:
        say(f"note: the sweep's part files were not merged ({os_error_line(error) if isinstance(error, OSError) else error}); "
            "`sbsweep compact` merges them later")
        return
    if before != after:
        say(f"merged the sweep's {before} flushes into {after} part file(s) per table")


def _run(
    sweeps: list[_Sweep], store: Path, root: str, roots: list[str], progress: ProgressLine, label: str, shipped: dict[str, bytes]
) -> dict[str, FitCounts]:
    """Run the sweeps' trials to do on the connected Ray, in Tune's storage `root`: the prepared
    states they need first (one Tune run for all of them), then the trials (another). `roots` are
    the sweeps' own checkpoint storages, where an earlier launch of each may have left checkpoints;
    `shipped` the data sets every worker keeps before its first trial (data_to_ship)."""
    from orchestrator import ray_backend  # imported already by launch_many, which connected the Ray

    resume_from: dict[str, str] = {}
    for where in dict.fromkeys([root, *roots]):
        resume_from.update(resumable_checkpoints(where))
    counts = {sweep.spec.name: FitCounts() for sweep in sweeps}
    planned: list[Unit] = []

    def seconds(spec: SweepSpec) -> Callable[[TrialSpec], float]:
        return lambda trial: spec.experiment_entry.seconds(trial.config, trial.stage is Stage.PREPARE)

    def width(spec: SweepSpec) -> int:
        return ray_backend.slots(spec.resources, spec.execution.max_concurrent_trials)

    def fit(runs: list[tuple[_Sweep, list[Batch], dict[str, bytes]]], line: ProgressLine, stage: Stage) -> list[StoreWriter]:
        shared = None
        if len(runs) > 1:  # several sweeps on one line: each one's trials weighed by their estimated seconds, for the ETA
            to_run = [sum(len(batch.trials) for batch in batches) for _, batches, _ in runs]
            cost = [sum(seconds(sweep.spec)(t) for batch in batches for t in batch.trials) for sweep, batches, _ in runs]
            shared = SharedProgress(line, to_run, [c / max(1, n) for c, n in zip(cost, to_run)])
        writers, tune_runs = [], []
        for index, (sweep, batches, prepared) in enumerate(runs):
            stored = superseded_rows(store, sweep.spec.name, [t.trial_id for batch in batches for t in batch.trials])
            writer = StoreWriter(store, sweep.spec.name, batches, {t: part for part, ids in stored.items() for t in ids},
                                 shared.part(index) if shared else line, FlushPolicy(sweep.spec.execution.flush_every_s))
            writers.append(writer)
            tune_runs.append(ray_backend.TuneRun(sweep.spec, batches, writer, prepared, seconds(sweep.spec)))
        ray_backend.run_tune(tune_runs, root, stage, shipped)
        for (sweep, batches, _), writer in zip(runs, writers):
            counts[sweep.spec.name] += writer.counts
            planned.extend(unit for batch in batches for unit in batch.units)
        return writers

    # Shared state first (theta* of Experiment 4, Experiment 5's autoencoders), each computed once,
    # fanned out like trials.
    jobs = [(sweep, missing_jobs(sweep.spec, sweep.todo, store)) for sweep in sweeps]
    preparing = [(sweep, plan(found, seconds(sweep.spec), width(sweep.spec), batch_size=1, resume_from=resume_from), {})
                 for sweep, found in jobs if found]
    outcomes: dict[str, PreparedResult] = {}
    if preparing:
        line = ProgressLine(f"{label}: prepare", sum(len(found) for _, found in jobs))
        for writer in fit(preparing, line, Stage.PREPARE):
            outcomes.update(writer.prepared)
    running = []
    for sweep in sweeps:
        runnable, shared = settle(sweep.spec, sweep.todo, store, outcomes)
        if runnable:
            spec = sweep.spec
            batches = plan(runnable, seconds(spec), width(spec), spec.execution.pack, spec.experiment_entry.pack_fields,
                           spec.execution.batch_size, resume_from)
            running.append((sweep, batches, shared))
    if running:
        fit(running, progress, Stage.TRIAL)
    # A stored trial never resumes: keep only the checkpoints of units with a trial still to run.
    done = stored_trial_ids(store, status=None, sweeps=[sweep.spec.name for sweep in sweeps]) | prepared_ids(store)
    keep = {unit_id(unit) for unit in planned if any(t.trial_id not in done for t in unit)}
    for where in dict.fromkeys([root, *roots]):
        drop_checkpoints(where, keep_units=keep)
    return counts


def _draw(store: Path, sweep: str) -> list[Path]:
    from orchestrator.figures import draw_figures  # lazy: matplotlib is slow to import

    return draw_figures(store, sweep)
