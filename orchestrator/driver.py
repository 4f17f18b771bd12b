"""Schedule a sweep's trials on Ray Tune and write each finished trial to the store.

The only module that imports Ray. Trials run anywhere in the cluster; their rows travel back to
the driver inside Tune's result (Arrow IPC bytes) and the driver alone writes the store, so no
worker ever needs the driver's disk.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pyarrow as pa
import pyarrow.fs as pafs

from orchestrator.expand import TrialSpec
from orchestrator.progress import ProgressLine
from orchestrator.spec import Resources, SweepSpec
from orchestrator.expand import pack_id, packs, preparations
from orchestrator.store import prepared_ids, read_prepared, write_prepared, write_trial
from orchestrator.rows import failed_trial, tables_from_bytes, tables_to_bytes
from results_schema import DIVERGED_PREFIX, TRIALS

if TYPE_CHECKING:
    from workloads.training import Checkpointing

PAYLOAD_KEY = "sbsweep_tables"
PREPARED_KEY = "sbsweep_prepared"
TUNE_DIR = "_tune"
"""Tune's own state, by default inside the store: _tune/<sweep>/launch-<time>/<trial_id>/checkpoint_*."""
CHECKPOINT_STATE = "state.pt"
CHECKPOINT_STEP = "step.txt"


def tune_root(checkpoint_storage: str, sweep: str) -> str:
    """Where Tune keeps the experiments (and so the checkpoints) of every launch of `sweep`.

    `checkpoint_storage` is a local path or a URI pyarrow understands (s3://bucket/prefix, gs://).
    """
    return f"{checkpoint_storage.rstrip('/')}/{sweep}"


def default_checkpoint_storage(store: Path) -> str:
    """Tune's storage when none is given: inside the store, which only a single machine can share."""
    return str(store / TUNE_DIR)


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, ValueError):  # a plain local path
        return pafs.LocalFileSystem(), str(Path(uri).absolute())


def _checkpoint_dirs(root: str, trial_pattern: str = "*") -> list[tuple[pafs.FileSystem, str, str]]:
    """(filesystem, trial_id, checkpoint path) of every checkpoint under a sweep's Tune root."""
    fs, base = _filesystem(root)
    if fs.get_file_info(base).type != pafs.FileType.Directory:
        return []
    found = []
    for info in fs.get_file_info(pafs.FileSelector(base, recursive=True)):
        parts = info.path[len(base) :].strip("/").split("/")
        # launch-<time>/<trial_id>/checkpoint_<n>
        if info.type == pafs.FileType.Directory and len(parts) == 3 and parts[2].startswith("checkpoint_"):
            if fnmatch.fnmatch(parts[1], trial_pattern):
                found.append((fs, parts[1], info.path))
    return found


def resumable_checkpoints(root: str) -> dict[str, str]:
    """trial_id -> the checkpoint with the most steps that an earlier launch persisted under `root`.

    A launch killed mid-trial leaves its trial's last checkpoint in Tune's storage; the next
    launch hands that path to the same trial, which resumes from it instead of from step 0.
    """
    best: dict[str, tuple[int, str]] = {}
    for fs, trial_id, path in _checkpoint_dirs(root):
        try:
            with fs.open_input_stream(f"{path}/{CHECKPOINT_STEP}") as stream:
                step = int(stream.read().decode())
        except (OSError, ValueError):
            continue  # a checkpoint cut off while it was copied: an older one, or step 0, will do
        if step > best.get(trial_id, (-1, ""))[0]:
            uri = path if isinstance(fs, pafs.LocalFileSystem) else f"{fs.type_name}://{path}"
            best[trial_id] = (step, uri)
    return {trial_id: uri for trial_id, (_, uri) in best.items()}


def drop_checkpoints(root: str, trial_id: str = "*") -> None:
    """Delete the checkpoints of one trial (or of all) under a sweep's Tune root."""
    for fs, _, path in _checkpoint_dirs(root, trial_id):
        try:
            fs.delete_dir(path)
        except OSError:
            pass  # best effort: a checkpoint left behind costs disk, not correctness


def _tune_checkpointing(every_steps: int, resume_from: str | None, device: Any) -> Checkpointing:
    """Checkpointing for a workload, backed by Tune: saved through tune.report, so Tune's storage
    holds them; resumed from this trial's own latest checkpoint after a retry, else from the path
    an earlier launch left (resume_from)."""
    import torch
    from ray import tune

    from workloads.training import Checkpointing

    checkpoint = tune.get_checkpoint() or (tune.Checkpoint(resume_from) if resume_from else None)
    saved = None
    if checkpoint is not None:
        with checkpoint.as_directory() as directory:
            saved = torch.load(os.path.join(directory, CHECKPOINT_STATE), map_location=device, weights_only=True)

    def save(state: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory() as directory:
            torch.save(state, os.path.join(directory, CHECKPOINT_STATE))
            Path(directory, CHECKPOINT_STEP).write_text(str(state["step"]))
            tune.report({"checkpoint_step": state["step"]}, checkpoint=tune.Checkpoint.from_directory(directory))

    return Checkpointing(every_steps=every_steps, save=save, saved=saved)


@dataclass(frozen=True)
class SweepOutcome:
    """How a launch went: counts of this launch's trials, and where time went."""

    ok: int
    failed: int
    retries: int
    fit_s: float


def _quiet_ray() -> None:
    # Ray Tune's default console output is pages of tables per trial; sbsweep prints its own
    # progress line instead. The old output engine honours verbose=0 (RAY_NOTES §6).
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    # Tune's JSON/CSV/TensorBoard loggers would copy every result, rows included, to disk.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in ("ray", "ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


class ResourceError(Exception):
    """No node of the Ray cluster could ever run a trial: names the spec key and the shortfall."""

    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


@contextmanager
def ray_session(address: str | None, num_cpus: int | None) -> Iterator[bool]:
    """Connect to `address` (or RAY_ADDRESS), else start a private local Ray; yield whether the
    cluster is local (so its nodes are all there is): one we started, or one the calling process
    had already connected when no address was given. On leaving, disconnect from what we
    connected to (a Ray we started stops with it); a Ray the caller had connected stays."""
    import ray

    _quiet_ray()
    address = address or os.environ.get("RAY_ADDRESS")
    started = connected = False
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


def _ray_request(resources: Resources) -> dict[str, float]:
    return {"CPU": resources.cpu, "GPU": resources.gpu, **resources.custom}


def check_resources(resources: Resources) -> None:
    """Raise ResourceError if no live node of the connected cluster has what one trial asks for.

    Checked before any trial starts: Ray would otherwise leave such trials pending forever.
    """
    import ray

    nodes = [node["Resources"] for node in ray.nodes() if node["Alive"]]
    request = {key: amount for key, amount in _ray_request(resources).items() if amount > 0}
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


def make_trainable(
    resources: Resources, checkpoint_every_steps: int, prepared: dict[str, bytes] | None = None, compile_mode: str | None = None
) -> Callable[[dict[str, Any]], None]:
    """A fresh Tune function trainable for one resource shape.

    A new function object per call: tune.with_resources mutates the function it is given, so a
    shared one would silently take the last launch's resources (RAY_NOTES §5). `prepared` (state
    the trials share, by prepared_id) goes to the object store once, through tune.with_parameters.
    """
    from ray import tune

    def sbsweep_trial(config: dict[str, Any], prepared: dict[str, bytes] | None = None) -> None:
        import ray

        # Imported here, on the worker: they bring torch, which the driver never needs.
        from orchestrator.trial import pick_device, run_pack, run_preparation, run_trial
        from workloads.training import DivergedError

        point = config["point"]
        members = [TrialSpec.from_dict(t) for t in point["trials"]]
        trial = members[0]
        context = ray.get_runtime_context()
        # Ray narrowed CUDA_VISIBLE_DEVICES to these, so torch's cuda:0 is the first of them.
        gpu_ids = context.get_accelerator_ids().get("GPU", [])
        device = pick_device(resources.gpu)
        checkpointing = _tune_checkpointing(checkpoint_every_steps, point["resume_from"], device)
        threads = max(1, int(resources.cpu))
        if trial.stage == "prepare":
            try:
                data = run_preparation(trial, device, threads, checkpointing)
            except DivergedError as error:
                tune.report({"status": "failed", "error": f"{DIVERGED_PREFIX}{error}"})
                return
            tune.report({PREPARED_KEY: data, "status": "ok"})
            return
        where = {
            "device": device, "torch_threads": threads, "node_id": context.get_node_id(), "gpu_ids": ",".join(gpu_ids) or None,
            "compile_mode": compile_mode,
        }
        if len(members) == 1:
            shared = (prepared or {}).get(trial.prepared_id) if trial.prepared_id else None
            results = [run_trial(trial, checkpointing=checkpointing, prepared=shared, **where)]
        else:
            results = run_pack(members, checkpointing=checkpointing, **where)
        statuses = {tables[TRIALS.name].column("status")[0].as_py() for tables in results}
        tune.report({PAYLOAD_KEY: [tables_to_bytes(tables) for tables in results], "status": "ok" if statuses == {"ok"} else "failed"})

    trainable = tune.with_parameters(sbsweep_trial, prepared=prepared) if prepared else sbsweep_trial
    return tune.with_resources(trainable, _ray_request(resources))


def _members_of(tune_trial: Any) -> list[TrialSpec]:
    """The sbsweep trials a Tune trial runs: one, or a pack (see expand.packs)."""
    return [TrialSpec.from_dict(t) for t in tune_trial.config["point"]["trials"]]


def _store_writer(store: Path, checkpoint_root: str, progress: ProgressLine) -> Any:
    from ray import tune

    class StoreWriter(tune.Callback):
        """Writes each trial's rows as its result arrives; keeps the progress line current.

        Runs in the driver process, so the driver alone writes the store.
        """

        def __init__(self) -> None:
            self.ok = self.failed = self.running = self.retries = 0
            self.preparation_errors: dict[str, str] = {}

        def _draw(self) -> None:
            progress.update(self.ok, self.running, self.failed)

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.running += len(_members_of(trial))
            self._draw()

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            members = _members_of(trial)
            spec = members[0]
            if spec.stage == "prepare" and "status" in result:
                data = result.pop(PREPARED_KEY, None)  # Tune allows editing the result in place
                if data is not None:
                    write_prepared(store, spec.trial_id, data)
                    self.ok += 1
                else:
                    self.preparation_errors[spec.trial_id] = result.get("error", "failed")
                    self.failed += 1
                self.running -= 1
                self._draw()
                return
            payload = result.pop(PAYLOAD_KEY, None)
            if payload is None:
                return
            stored_ok = 0
            for member, data in zip(members, payload):
                tables = tables_from_bytes(data)
                status = tables[TRIALS.name].column("status")[0].as_py()
                try:
                    write_trial(store, tables)
                except OSError as error:  # a full disk, a vanished mount: this trial fails, the sweep goes on
                    status = "failed"
                    try:
                        write_trial(store, failed_trial(member, f"could not store results: {error}"))
                    except OSError:
                        pass  # nothing can be written: the trial stays missing and runs on the next launch
                stored_ok += status == "ok"
            self.ok += stored_ok
            self.failed += len(members) - stored_ok
            if stored_ok == len(members):
                # Stored trials never resume: their checkpoints are dead weight (1.6 MB at 6x256).
                drop_checkpoints(checkpoint_root, trial.config["point"]["pack_id"])
            self.running -= len(members)
            self._draw()

        def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.retries += 1

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            error = trial.get_error() or "the trial's worker failed"
            members = _members_of(trial)
            if members[0].stage == "prepare":
                self.preparation_errors[members[0].trial_id] = str(error).strip().splitlines()[-1]
            else:
                for member in members:
                    write_trial(store, failed_trial(member, str(error)))
            self.failed += len(members)
            self.running -= len(members)
            self._draw()

    return StoreWriter()


def run_sweep(
    spec: SweepSpec,
    trials: list[TrialSpec],
    store: Path,
    progress: ProgressLine,
    checkpoint_storage: str | None = None,
) -> SweepOutcome:
    """Run `trials` of `spec` on the connected Ray (see ray_session), writing each to `store`.

    Tune keeps its state and the trials' checkpoints under `checkpoint_storage` (default: inside
    the store); on a cluster of several machines it must be storage every node reaches. A trial
    that an earlier, interrupted launch checkpointed resumes from its latest checkpoint.
    """
    root = tune_root(checkpoint_storage or default_checkpoint_storage(store), spec.name)
    fit_start = time.perf_counter()
    # Shared state first (theta* of Experiment 4), each computed once, fanned out like trials.
    jobs = [job for job in preparations(spec, trials) if job.trial_id not in prepared_ids(store)]
    errors: dict[str, str] = {}
    if jobs:
        errors = _fit(spec, [[job] for job in jobs], store, root, ProgressLine(f"{spec.name}: prepare", len(jobs)), {}).preparation_errors
    ready = prepared_ids(store)
    blocked = [t for t in trials if t.prepared_id and t.prepared_id not in ready]
    for trial in blocked:
        reason = errors.get(trial.prepared_id, "it was not computed")
        write_trial(store, failed_trial(trial, f"its prepared state {trial.prepared_id} failed: {reason}"))
    runnable = [t for t in trials if t not in blocked]
    shared = {pid: read_prepared(store, pid) for pid in {t.prepared_id for t in runnable if t.prepared_id}}
    groups = packs(runnable, spec.execution.pack, spec.workload_entry.pack_fields)
    writer = _fit(spec, groups, store, root, progress, shared) if runnable else None
    ok, failed, retries = (writer.ok, writer.failed, writer.retries) if writer else (0, 0, 0)
    return SweepOutcome(ok, failed + len(blocked), retries, time.perf_counter() - fit_start)


def _fit(
    spec: SweepSpec, groups: list[list[TrialSpec]], store: Path, root: str, progress: ProgressLine, prepared: dict[str, bytes]
) -> Any:
    """One Tune run, one Tune trial per group of trials (see expand.packs); returns the callback
    that stored them (with its counts)."""
    from ray import tune

    writer = _store_writer(store, root, progress)
    resume_from = resumable_checkpoints(root)
    points = [
        {"trials": [t.to_dict() for t in members], "pack_id": pack_id(members), "resume_from": resume_from.get(pack_id(members))}
        for members in groups
    ]
    try:
        tuner = tune.Tuner(
            make_trainable(spec.resources, spec.execution.checkpoint_every_steps, prepared, spec.execution.compile),
            param_space={"point": tune.grid_search(points)},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=spec.execution.max_concurrent_trials,
                reuse_actors=True,  # one worker process imports torch once, then runs trial after trial
                trial_dirname_creator=lambda t: t.config["point"]["pack_id"],
            ),
            run_config=tune.RunConfig(
                # One Tune experiment per launch; the store, not Tune's state, says what is done.
                name=f"launch-{time.strftime('%Y%m%d-%H%M%S')}",
                storage_path=root,
                failure_config=tune.FailureConfig(max_failures=spec.execution.max_failures),
                checkpoint_config=tune.CheckpointConfig(num_to_keep=1),
                verbose=0,
                callbacks=[writer],
            ),
        )
        tuner.fit()
    finally:
        progress.close()
    return writer
