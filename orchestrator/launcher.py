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
from orchestrator.preparation import PreparedResult, prepared_states
from orchestrator.progress import ProgressLine
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
from workloads import TABLES

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
    `retry_failed` also reruns diverged trials. `echo` receives the launch's messages (default:
    standard error). `overrides` apply to a sweep file; with a SweepSpec they raise ValueError
    rather than be ignored.

    Before it runs anything, a launch repairs the store: what a crash left of any sweep it can
    lock, and the flushes of its own sweep a reader can no longer trust (set aside, their trials
    run again). When its trials are done it merges the sweep's part files (store.compact).
    """
    if isinstance(sweep, SweepSpec) and overrides:
        # Overrides edit a sweep file's text before validation; a SweepSpec is past that point.
        raise ValueError(f"overrides {list(overrides)} apply to a sweep file, not to a SweepSpec: pass spec.model_copy(update=...) instead")
    say = echo or (lambda line: print(line, file=sys.stderr))
    spec = sweep if isinstance(sweep, SweepSpec) else load_spec(sweep, overrides)
    trials = expand(spec)
    store = check_store_path(Path(store if store is not None else os.environ.get("SBSWEEP_STORE", DEFAULT_STORE)))
    with ExitStack() as held:
        # The lock comes first, before Ray starts or anything is written: of two launches of one
        # sweep (first ones into a new store included), one runs and the other is refused at once.
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
        todo = [t for t in trials if t.trial_id not in done]
        skipped = len(trials) - len(todo)
        say(f"sbsweep {__version__}: sweep '{spec.name}' ({spec.experiment}), {len(trials)} trials"
            f"{f', {skipped} already stored' if skipped else ''}; store {store}")
        counts, ray_start_s, fit_s = FitCounts(), 0.0, 0.0
        if todo:
            held.enter_context(environment_kept())
            from orchestrator import ray_backend  # lazy: Ray is slow to import, and a launch with nothing to run needs none

            ray_start = time.perf_counter()
            with ray_backend.ray_cluster(address, num_cpus) as local:
                ray_start_s = time.perf_counter() - ray_start
                if local:  # a cluster may still add nodes; a local Ray has all it will ever have
                    try:
                        ray_backend.check_resources(spec.resources)
                    except ResourceError as error:
                        raise ResourceError(error.key, error.message) from None
                _prepare_store(store, spec, conflict, damaged, say)
                if not local and not checkpoint_storage:
                    say("note: checkpoints go to the driver's disk (STORE/_tune); on a cluster of several machines "
                        "pass --checkpoint-storage s3://bucket/prefix (or a shared mount) so every node reaches them")
                root = tune_root(store, store_id(store), spec.name, checkpoint_storage)
                if restart or conflict:  # --overwrite: the replaced sweep's checkpoints go with its trials
                    drop_checkpoints(root)
                start = time.perf_counter()
                counts = _run(spec, todo, store, root, ProgressLine(spec.name, len(trials), skipped=skipped))
                fit_s = time.perf_counter() - start
        else:
            _prepare_store(store, spec, conflict, damaged, say)
        if todo:
            _compact(store, spec.name, say)
        standing = sweep_standing(read_trials(store, [spec.name]), spec.name, {t.trial_id for t in trials})
        return LaunchReport(
            sweep=spec.name, experiment=spec.experiment, store=store, trials=len(trials), skipped=skipped, ran=len(todo),
            statuses=standing.statuses, failures=standing.failures, batches=counts.batches, retries=counts.retries,
            duplicates=counts.duplicates, unstored=counts.unstored, storage_error=counts.storage_error, ray_start_s=ray_start_s,
            fit_s=fit_s, figures=_draw(store, spec.name) if plot else [],
        )


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


def _prepare_store(store: Path, spec: SweepSpec, conflict: str | None, damaged: dict[str, str], say: Callable[[str], None]) -> None:
    """Create the store if needed, drop the old sweep if --overwrite replaces it, save the spec,
    and repair the store (this sweep thoroughly, with the `damaged` flushes already found)."""
    try:
        open_store(store)
        if conflict:
            say(f"--overwrite: removed {remove_sweep(store, spec.name, TABLES)} stored trials of sweep '{spec.name}'")
        save_sweep(store, spec.name, spec.stored_form())
        repairs: list[Repair] = repair_store(store, TABLES, held=spec.name, known_damaged=damaged)
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


def _run(spec: SweepSpec, todo: list[TrialSpec], store: Path, root: str, progress: ProgressLine) -> FitCounts:
    """Run `todo` on the connected Ray: the prepared states they need first, then the trials."""
    from orchestrator import ray_backend  # imported already by launch, which connected the Ray

    resume_from = resumable_checkpoints(root)
    width = ray_backend.slots(spec.resources, spec.execution.max_concurrent_trials)
    policy = FlushPolicy(spec.execution.flush_every_s)
    counts = FitCounts()
    planned: list[Unit] = []

    def seconds(trial: TrialSpec) -> float:
        return spec.experiment_entry.seconds(trial.config)

    def fit(batches: list[Batch], progress: ProgressLine, stage: Stage, prepared: dict[str, bytes]) -> StoreWriter:
        stored = superseded_rows(store, spec.name, [t.trial_id for batch in batches for t in batch.trials])
        writer = StoreWriter(store, spec.name, batches, {t: part for part, ids in stored.items() for t in ids}, progress, policy)
        ray_backend.run_tune(spec, batches, root, stage, writer, prepared)
        nonlocal counts
        counts += writer.counts
        planned.extend(unit for batch in batches for unit in batch.units)
        return writer

    def compute(jobs: list[TrialSpec]) -> dict[str, PreparedResult]:
        # Shared state first (theta* of Experiment 4), each computed once, fanned out like trials.
        batches = plan(jobs, seconds, width, batch_size=1, resume_from=resume_from)
        return fit(batches, ProgressLine(f"{spec.name}: prepare", len(jobs)), Stage.PREPARE, {}).prepared

    runnable, shared = prepared_states(spec, todo, store, compute)
    if runnable:
        batches = plan(runnable, seconds, width, spec.execution.pack, spec.experiment_entry.pack_fields, spec.execution.batch_size, resume_from)
        fit(batches, progress, Stage.TRIAL, shared)
    # A stored trial never resumes: keep only the checkpoints of units with a trial still to run.
    done = stored_trial_ids(store, status=None, sweeps=[spec.name]) | prepared_ids(store)
    drop_checkpoints(root, keep_units={unit_id(unit) for unit in planned if any(t.trial_id not in done for t in unit)})
    return counts


def _draw(store: Path, sweep: str) -> list[Path]:
    from orchestrator.figures import draw_figures  # lazy: matplotlib is slow to import

    return draw_figures(store, sweep)
