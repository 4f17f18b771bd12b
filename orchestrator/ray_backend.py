"""Everything sbsweep does with Ray, in one place: start or join the cluster, check it can run a
trial, the Tune trainable that runs a batch on a worker, the Tuner run of a launch's batches, and
the thin tune.Callback that hands Tune's events to the driver's StoreWriter (writer.py, no Ray).

The trainable runs a batch's units one after another. Every REPORT_EVERY_S seconds, at every
training checkpoint, and at its end, it reports to the driver the rows of the trials finished
since its last report (Arrow IPC bytes), then, at most every `execution.checkpoint_min_interval_s`,
a checkpoint saying which trials it has reported and, mid-training, the running unit's state
(checkpoints.py). So a batch that Tune retries after a crash (`execution.max_failures`) skips the
trials it reported and resumes the unit that was running from its checkpoint; and reporting costs
one driver round trip per few seconds, not one per trial.

Imported only when a launch has trials to run: Ray takes seconds to import.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ray
from ray import tune
from ray.tune.progress_reporter import TrialProgressCallback

from orchestrator.checkpoints import BatchProgress, load_checkpoint, save_checkpoint
from orchestrator.job import Stage, TrialSpec
from orchestrator.plan import Batch, unit_id
from orchestrator.preparation import PreparedResult
from orchestrator.rows import concat_tables, tables_from_bytes, tables_to_bytes
from orchestrator.spec import Execution, ResourceError, Resources, SweepSpec
from orchestrator.writer import StoreWriter
from results_schema import TRIALS, TrialStatus
from workloads import images
from workloads.mnist import DataError

if TYPE_CHECKING:
    import pyarrow as pa

class DataUnavailable(Exception):
    """A worker's machine cannot keep a data set its trials need."""


ROWS_KEY = "sbsweep_rows"
"""Result key of a report's rows: {table name: Arrow IPC bytes} of the trials it finished."""
PREPARED_KEY = "sbsweep_prepared"
"""Result key of the prepared states a report carries: a list of PreparedResult.to_report()."""
REPORT_EVERY_S = 2.0
"""Seconds between a batch's reports while it runs trials: each is a round trip to the driver."""


QUIET_ENVIRONMENT = {
    # Ray Tune's default console output is pages of tables per trial; sbsweep prints its own
    # progress line instead. The old output engine honours verbose=0 (RAY_NOTES §6).
    "RAY_AIR_NEW_OUTPUT": "0",
    # Tune's JSON/CSV/TensorBoard loggers would copy every result, rows included, to disk.
    "TUNE_DISABLE_AUTO_CALLBACK_LOGGERS": "1",
    # Ctrl-C raises KeyboardInterrupt in the driver (Tune's own handler would end the run as if
    # it had finished), so a launch can store what finished and say how to resume.
    "TUNE_DISABLE_SIGINT_HANDLER": "1",
    "RAY_DEDUP_LOGS": "0",
}
QUIET_LOGGERS = ("ray", "ray.tune", "ray.train")


@contextmanager
def _quiet_ray() -> Iterator[None]:
    """Silence Ray and Tune for the length of a launch, then give back the logger levels as they
    were (the launcher gives back the environment: launcher.environment_kept)."""
    saved_levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    for key, value in QUIET_ENVIRONMENT.items():
        if key != "RAY_DEDUP_LOGS" or key not in os.environ:
            os.environ[key] = value
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)


class _SilentTrialProgress(TrialProgressCallback):
    """Takes the place of Tune's own per-trial console reporter: with the old output engine, Tune
    adds a TrialProgressCallback that prints "Trial ... completed. Last result: ..." whatever
    `verbose` says, between sbsweep's progress lines, unless one is given."""

    def _print(self, msg: str) -> None:
        pass


@contextmanager
def ray_cluster(address: str | None, num_cpus: int | None) -> Iterator[bool]:
    """Connect to `address` (or RAY_ADDRESS), else start a private local Ray; yield whether the
    cluster is local (so its nodes are all there is): one we started, or one the calling process
    had already connected when no address was given. On leaving, disconnect from what we
    connected to (a Ray we started stops with it); a Ray the caller had connected stays. Ray's
    and Tune's loggers are quiet meanwhile, and restored after."""
    address = address or os.environ.get("RAY_ADDRESS")
    started = connected = False
    with _quiet_ray():
        if not ray.is_initialized():
            common: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
            if address:
                ray.init(address=address, **common)
            else:
                # address="local" never attaches to someone else's Ray running on this machine.
                ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **common)
                started = True
            connected = True
        try:
            yield started or not address
        finally:
            if connected:
                ray.shutdown()


def ray_request(resources: Resources) -> dict[str, float]:
    """What one Tune trial asks Ray for."""
    return {"CPU": resources.cpu, "GPU": resources.gpu, **resources.custom}


def check_resources(resources: Resources) -> None:
    """Raise ResourceError if no live node of the connected cluster has what one trial asks for.

    Checked before any trial starts: Ray would otherwise leave such trials pending forever.
    """
    nodes = [node["Resources"] for node in ray.nodes() if node["Alive"]]
    request = {key: amount for key, amount in ray_request(resources).items() if amount > 0}
    if any(all(node.get(key, 0) >= amount for key, amount in request.items()) for node in nodes):
        return
    spec_key = {"CPU": "resources.cpu", "GPU": "resources.gpu"}
    for key, amount in request.items():
        largest = max((node.get(key, 0) for node in nodes), default=0)
        if largest < amount:
            raise ResourceError(
                spec_key.get(key, f"resources.custom.{key}"),
                f"each trial asks for {amount:g} {key}, but no node of this Ray cluster has more than {largest:g}",
            )
    raise ResourceError("resources", f"no single node has all of {request} at once")


def slots(resources: Resources, max_concurrent: int | None) -> int:
    """How many trials of this shape the connected cluster runs at once now (at least 1)."""
    total = ray.cluster_resources()
    request = {key: amount for key, amount in ray_request(resources).items() if amount > 0}
    fits = min((math.floor(total.get(key, 0) / amount + 1e-9) for key, amount in request.items()), default=1)
    return max(1, min(fits, max_concurrent or fits))


def make_trainable(
    resources: list[Resources], executions: list[Execution], batches: list[Any], prepared: dict[str, bytes],
    shipped: dict[str, bytes] | None = None,
) -> Callable[[dict[str, Any]], None]:
    """A fresh Tune function trainable whose config is a batch index: batch i asks Ray for
    `resources[i]` and runs with `executions[i]` (several sweeps' batches share one Tune run).

    `batches` holds one object-store reference per batch (to its Batch.to_config()), so a worker
    fetches the batch it runs and nothing else. A new function object per call:
    tune.with_resources mutates the function it is given, so a shared one would silently take the
    last launch's resources (RAY_NOTES §5). `prepared` (state the trials share, by prepared_id)
    goes to the object store once, through tune.with_parameters, and so do `shipped`, the data sets
    (MNIST) a worker keeps in its machine's data cache before it runs a trial.
    """

    def sbsweep_batch(config: dict[str, Any], batches: list[Any], prepared: dict[str, bytes], shipped: dict[str, bytes]) -> None:
        batch = Batch.from_config(ray.get(batches[config["batch"]]))
        run_batch(batch, resources[config["batch"]], executions[config["batch"]], prepared, shipped)

    trainable = tune.with_parameters(sbsweep_batch, batches=batches, prepared=prepared, shipped=shipped or {})
    requests = [tune.PlacementGroupFactory([ray_request(r)]) for r in resources]
    return tune.with_resources(trainable, lambda config: requests[config["batch"]])


def run_batch(
    batch: Batch, resources: Resources, execution: Execution, prepared: dict[str, bytes], shipped: dict[str, bytes] | None = None
) -> None:
    """Run `batch` inside a Tune trial, reporting as described in the module docstring. A worker
    whose machine cannot keep the `shipped` data sets fails the batch's trials at once, naming
    the machine."""
    # Imported here, on the worker: they bring torch, which the driver never needs.
    from orchestrator.trial import DeviceUnavailable, pick_device, prepare_device, prepare_unit, run_unit
    from workloads.training import Checkpointing

    context = ray.get_runtime_context()
    node_id, gpu_ids = context.get_node_id(), ",".join(context.get_accelerator_ids().get("GPU", [])) or None
    try:
        device = pick_device(resources.gpu)
    except DeviceUnavailable as error:
        _report_unavailable(batch, error, node_id, gpu_ids)
        return
    try:
        images.install_payloads(shipped or {})
    except (DataError, OSError) as error:
        _report_unavailable(batch, DataUnavailable(
            f"node {node_id} ({socket.gethostname()}) cannot keep {', '.join(sorted(shipped or {}))} in its data cache: {error}"), node_id, gpu_ids)
        return
    prepare_device(device, resources.gpu, execution.matmul_precision)
    where = {
        # Ray narrowed CUDA_VISIBLE_DEVICES to these, so torch's cuda:0 is the first of them.
        "device": device, "torch_threads": max(1, int(resources.cpu)), "node_id": node_id, "gpu_ids": gpu_ids,
        "compile_mode": execution.compile,
    }
    progress = BatchProgress()
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:  # Tune retries this batch after a crash
        with checkpoint.as_directory() as directory:
            progress = load_checkpoint(directory, device)
    finished: list[dict[str, pa.Table]] = []
    states: list[PreparedResult] = []
    last_report = last_checkpoint = time.monotonic()

    def report(state: dict[str, Any] | None = None, unit: str | None = None, last: bool = False, keep: bool = False) -> None:
        nonlocal last_report, last_checkpoint
        metrics: dict[str, Any] = {}
        if finished:
            tables = concat_tables(finished)
            metrics[ROWS_KEY] = tables_to_bytes(tables)
            progress.reported |= set(tables[TRIALS.name].column("trial_id").to_pylist())
            finished.clear()
        if states:
            metrics[PREPARED_KEY] = [state.to_report() for state in states]
            progress.reported |= {state.prepared_id for state in states}
            states.clear()
        if metrics:
            # Apart from the checkpoint: Tune keeps a checkpoint's metrics for as long as the
            # checkpoint, and writes them into its experiment state every few seconds.
            tune.report(metrics)
        if not keep:  # about to fail: the running unit's last training state stays, for the retry to resume
            progress.unit, progress.state = unit, state
        last_report = time.monotonic()
        # A finished batch is never retried, so its last report needs no checkpoint; one about to
        # fail (`keep`) checkpoints what it reported, so its retry skips those trials.
        if keep or (not last and last_report - last_checkpoint >= execution.checkpoint_min_interval_s):
            save_checkpoint(progress, lambda directory: tune.report({}, checkpoint=tune.Checkpoint.from_directory(directory)))
            last_checkpoint = time.monotonic()

    for unit in batch.units:
        if all(trial.trial_id in progress.reported for trial in unit):
            continue
        uid = unit_id(unit)
        saved = progress.state if progress.unit == uid else _load_resume(batch.resume_from.get(uid), device)
        checkpointing = Checkpointing(every_steps=execution.checkpoint_every_steps, save=lambda state, uid=uid: report(state, uid), saved=saved)
        try:
            if unit[0].stage is Stage.PREPARE:
                states.append(prepare_unit(unit, checkpointing, where["device"], where["torch_threads"]))
                report()  # a prepared state is big and a whole training's worth: hand it over at once
                continue
            finished.extend(run_unit(unit, checkpointing, prepared, **where))
        except Exception:
            # A lost CUDA context (trial.FatalDeviceError), or any failure outside a trial's own code:
            # what finished is handed over and checkpointed first; then the error ends this worker,
            # and Tune retries the batch in a fresh one from that checkpoint (execution.max_failures).
            report(keep=True)
            raise
        if time.monotonic() - last_report >= REPORT_EVERY_S:
            report()
    if finished or states:
        report(last=True)


def _report_unavailable(batch: Batch, error: Exception, node_id: str | None, gpu_ids: str | None) -> None:
    """Report every job of `batch` failed at once, before any training, because its worker has no
    GPU it can use (trial.DeviceUnavailable): a trial never falls back to the CPU in silence."""
    from orchestrator.rows import unfinished_trial

    where = {"node_id": node_id, "gpu_ids": gpu_ids, "hostname": socket.gethostname()}
    jobs = [unit[0] for unit in batch.units if unit[0].stage is Stage.PREPARE]
    trials = [trial for unit in batch.units if unit[0].stage is not Stage.PREPARE for trial in unit]
    metrics: dict[str, Any] = {}
    if trials:
        metrics[ROWS_KEY] = tables_to_bytes(concat_tables([unfinished_trial(trial, str(error), **where) for trial in trials]))
    if jobs:
        metrics[PREPARED_KEY] = [PreparedResult(job.trial_id, status=TrialStatus.CRASHED, error=str(error)).to_report() for job in jobs]
    tune.report(metrics)


def _load_resume(uri: str | None, device: Any) -> dict[str, Any] | None:
    """The training state an earlier launch checkpointed for a unit (None: start from step 0)."""
    if uri is None:
        return None
    with tune.Checkpoint(uri).as_directory() as directory:
        return load_checkpoint(directory, device).state


@dataclass(frozen=True)
class TuneRun:
    """One sweep's part of a Tune run: its batches, the writer that stores what they report, the
    prepared states its trials need, and the estimate of a job's seconds its batches were planned by."""

    spec: SweepSpec
    batches: list[Batch]
    writer: StoreWriter
    prepared: dict[str, bytes]
    seconds: Callable[[TrialSpec], float]


def run_tune(runs: list[TuneRun], root: str, stage: Stage, shipped: dict[str, bytes] | None = None) -> None:
    """One Tune run of every batch of `runs` (one sweep, or several sharing the workers), one Tune
    trial per batch, each reporting to its sweep's writer; every writer flushed at its end.

    Several sweeps' batches run costliest first (by their trials' estimated seconds), so the
    cluster is not left with one sweep's long tail while the others are done. `shipped`: the data
    sets every worker keeps before its first trial (launcher.data_to_ship)."""
    entries = [(run, index, batch) for run in runs for index, batch in enumerate(run.batches)]
    if len(runs) > 1:
        entries.sort(key=lambda entry: -sum(map(entry[0].seconds, entry[2].trials)))
    # Tune's grid search deep-copies the whole search space for every trial it makes, so the
    # space is the batch indices alone; each batch's trials go to the object store on their own.
    refs = [ray.put(batch.to_config()) for _, _, batch in entries]
    prepared = {pid: data for run in runs for pid, data in run.prepared.items()}
    owners = [(run.writer, index) for run, index, _ in entries]
    capped = [run.spec.execution.max_concurrent_trials for run in runs if run.spec.execution.max_concurrent_trials]
    try:
        tuner = tune.Tuner(
            make_trainable([run.spec.resources for run, _, _ in entries], [run.spec.execution for run, _, _ in entries], refs, prepared, shipped),
            param_space={"batch": tune.grid_search(list(range(len(entries))))},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=min(capped) if capped else None,
                reuse_actors=True,  # one worker process imports torch once, then runs batch after batch
                trial_dirname_creator=lambda trial: f"batch-{trial.config['batch']:05d}",
            ),
            run_config=tune.RunConfig(
                # One Tune experiment per launch; the store, not Tune's state, says what is done.
                name=f"launch-{time.strftime('%Y%m%d-%H%M%S')}-{stage.value}",
                storage_path=root,
                # The most retries any sweep allows; each batch is held to its own sweep's (_WriterCallback).
                failure_config=tune.FailureConfig(max_failures=max(run.spec.execution.max_failures for run in runs)),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                verbose=0,
                callbacks=[_WriterCallback(owners, [run.spec.execution.max_failures for run, _, _ in entries]), _SilentTrialProgress()],
            ),
        )
        tuner.fit()
    finally:
        # Also when Ctrl-C stops the run: the trials that finished are stored before it ends.
        for run in runs:
            run.writer.progress.close()
            run.writer.flush()


class _WriterCallback(tune.Callback):
    """Tune's events, handed to the StoreWriter of each batch's sweep as plain calls. Runs in the
    driver process, so the driver alone writes the store. `owners[i]` is batch i's (writer, index
    among its sweep's batches), `max_failures[i]` the retries its sweep allows."""

    def __init__(self, owners: list[tuple[StoreWriter, int]], max_failures: list[int]) -> None:
        self.owners, self.max_failures = owners, max_failures
        self.writers = list({id(writer): writer for writer, _ in owners}.values())

    def _writer(self, trial: Any) -> StoreWriter:
        return self.owners[trial.config["batch"]][0]

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        # Sweeps launched together share one Tune run, whose FailureConfig is the largest of their
        # execution.max_failures: Tune decides a retry by the trial's own max_failures (Trial.should_recover),
        # so each batch gets its sweep's, and a sweep that allows none is not retried for another's sake.
        trial.max_failures = self.max_failures[trial.config["batch"]]
        self._writer(trial).batch_started()

    def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
        # Popped: Tune keeps each trial's last result, and rows are the store's, not Tune's.
        prepared = result.pop(PREPARED_KEY, None)
        if prepared:
            self._writer(trial).take_prepared([PreparedResult.from_report(report) for report in prepared])
        rows = result.pop(ROWS_KEY, None)
        if rows:
            self._writer(trial).take_rows(tables_from_bytes(rows))

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._writer(trial).batch_ended()

    def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self._writer(trial).batch_retried()

    def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        writer, index = self.owners[trial.config["batch"]]
        writer.batch_ended()
        writer.batch_failed(index, str(trial.get_error() or "the batch's worker failed"))

    def on_step_end(self, iteration: int, trials: list, **info: Any) -> None:
        for writer in self.writers:
            writer.tick()

    def on_experiment_end(self, trials: list, **info: Any) -> None:
        for writer in self.writers:
            writer.flush()
