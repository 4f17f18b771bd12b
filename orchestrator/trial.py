"""Run one trial (or a pack of them) and turn what it computed into the store's rows. No Ray here.

The Ray trainable (ray_backend.py) runs batches of units through `run_unit`; tests and a serial run
call `run_trial` directly. A trial is a function of its TrialSpec alone: same spec, same rows (up to the
provenance columns: times, host, device).
"""

from __future__ import annotations

import os
import socket
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import torch

from orchestrator.plan import TrialSpec
from orchestrator.preparation import PreparedResult
from orchestrator.rows import one_line_error, trial_row, unfinished_trial
from results_schema import TRIALS, TrialStatus, to_arrow
from workloads import REGISTRY, TABLES
from workloads.training import Checkpointing, DivergedError, WorkloadResult, solve_packed


class DeviceUnavailable(RuntimeError):
    """A trial asked for a GPU and its worker has none that torch can use. str() is one line that
    names the cause; the trial fails at once, before it trains, rather than run on the CPU."""


class FatalDeviceError(RuntimeError):
    """The GPU failed in a way that leaves its CUDA context unusable (an illegal memory access, a
    device-side assert, ...): every later trial in this worker process would fail too, so the
    worker must end and Tune restart its batch in a fresh one, from its checkpoint."""


def pick_device(gpus: float) -> torch.device:
    """The device a trial should use: the GPU its scheduler gave it, or the CPU if it asked for none.

    Ray narrows CUDA_VISIBLE_DEVICES to the GPUs it assigned, so `cuda` here is the assigned GPU,
    never a hard-coded one. A trial that asked for no GPU stays on the CPU even on a GPU node. A
    trial that asked for one and cannot have it raises DeviceUnavailable, naming why: a CPU-only
    torch build, or a CUDA build that sees no device (a driver too old for the build, or no GPU
    visible to the process).
    """
    if gpus <= 0:
        return torch.device("cpu")
    if torch.version.cuda is None:
        raise DeviceUnavailable(f"resources.gpu={gpus:g} asks for a GPU, but this worker's torch {torch.__version__} is built without "
                                "CUDA: install a CUDA build of torch on the GPU nodes")
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        raise DeviceUnavailable(f"resources.gpu={gpus:g} asks for a GPU, but torch {torch.__version__} (CUDA {torch.version.cuda}) sees no "
                                f"device (CUDA_VISIBLE_DEVICES={visible!r}): check the driver supports CUDA {torch.version.cuda} (nvidia-smi)")
    return torch.device("cuda", torch.cuda.current_device())


def prepare_device(device: torch.device, gpus: float, matmul_precision: str) -> None:
    """Pin what a trial computes on `device`: float32 matmuls at `matmul_precision` ('highest' turns
    TF32 off, whatever the image's environment says), and, for a trial that shares its GPU
    (0 < gpus < 1), cap its memory at that share so trials packed on one GPU cannot starve each other."""
    torch.set_float32_matmul_precision(matmul_precision)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = matmul_precision != "highest"
        if 0 < gpus < 1:
            torch.cuda.set_per_process_memory_fraction(gpus, device)


FATAL_CUDA_ERRORS = ("illegal memory access", "device-side assert", "unspecified launch failure", "misaligned address",
                     "illegal instruction", "uncorrectable ecc", "device not ready", "launch timed out", "cuda error: unknown error")
"""Words of CUDA errors after which the process's CUDA context is lost (CUDA's sticky errors)."""


def device_failure(error: BaseException) -> str | None:
    """'oom' for a GPU out-of-memory error (the trial fails, its worker goes on once the cache is
    freed), 'fatal' for an error that leaves the CUDA context unusable (the worker must end),
    None for any other error."""
    if isinstance(error, torch.cuda.OutOfMemoryError):
        return "oom"
    text = str(error).lower()
    if isinstance(error, torch.AcceleratorError) or "cuda error" in text:
        return "fatal" if any(words in text for words in FATAL_CUDA_ERRORS) else None
    return None


def device_description(device: torch.device) -> dict[str, Any]:
    """The GPU a trial ran on, for its trials row: model, CUDA version, driver (nulls on a CPU)."""
    if device.type != "cuda":
        return {"gpu_name": None, "cuda_version": None, "gpu_driver": None}
    return {"gpu_name": torch.cuda.get_device_name(device), "cuda_version": torch.version.cuda, "gpu_driver": _driver_version()}


def _driver_version() -> str | None:
    try:  # Linux's NVIDIA kernel module says its release: "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.03  ..."
        first = Path("/proc/driver/nvidia/version").read_text().splitlines()[0]
        release = next((word for word in first.split() if word.count(".") >= 1 and word.replace(".", "").isdigit()), None)
        if release:
            return release
    except (OSError, IndexError):
        pass
    return None


def run_trial(
    trial: TrialSpec,
    device: torch.device | None = None,
    torch_threads: int = 1,
    node_id: str | None = None,
    checkpointing: Checkpointing | None = None,
    gpu_ids: str | None = None,
    prepared: bytes | None = None,
    compile_mode: str | None = None,
) -> dict[str, pa.Table]:
    """Run `trial` and return its rows as Arrow tables, one per store table it writes.

    A trial whose loss diverges (or whose net collapses: training.collapse) is an outcome, not a
    crash: it comes back as a 'diverged' (or 'collapsed') row with the reason, and is not retried.
    Any other exception propagates (the scheduler may retry it).
    `checkpointing` is handed to the workload as is: where its state goes is the caller's business.
    `prepared` is the shared state of `trial.prepared_id` (see run_preparation), for workloads
    that need one. `compile_mode` torch.compiles the net (workloads that train one, see Problem).
    """
    device = device or torch.device("cpu")
    torch.set_num_threads(torch_threads)
    where = provenance(device, torch_threads, node_id, gpu_ids)
    start = time.perf_counter()
    experiment = REGISTRY[trial.experiment]
    try:
        outcome: WorkloadResult | DivergedError = experiment.compute(experiment.parse(trial.config), device, checkpointing, prepared, compile_mode)
    except DivergedError as error:
        outcome = error
    return _tables(trial, outcome, {**where, "wall_s": time.perf_counter() - start})


def run_pack(
    trials: list[TrialSpec],
    device: torch.device | None = None,
    torch_threads: int = 1,
    node_id: str | None = None,
    checkpointing: Checkpointing | None = None,
    gpu_ids: str | None = None,
    compile_mode: str | None = None,
    prepared: dict[str, bytes] | None = None,
) -> list[dict[str, pa.Table]]:
    """Run several trials of one experiment as one stacked model; return each trial's tables.

    Each trial's rows are what it would write alone (up to float rounding of the batched
    matmuls), except `wall_s`, which is the pack's time divided by its size: the trial's share.
    A trial that runs alone goes through run_trial instead (the driver picks).
    """
    device = device or torch.device("cpu")
    torch.set_num_threads(torch_threads)
    where = provenance(device, torch_threads, node_id, gpu_ids)
    start = time.perf_counter()
    experiment = REGISTRY[trials[0].experiment]
    assert experiment.trains_one_net, f"{experiment.name} cannot be packed"
    problems = [experiment.problem(experiment.parse(t.config), device, (prepared or {}).get(t.prepared_id)) for t in trials]
    outcomes = solve_packed(problems, checkpointing, compile_mode)
    where["wall_s"] = (time.perf_counter() - start) / len(trials)
    return [_tables(trial, outcome, where) for trial, outcome in zip(trials, outcomes)]


def provenance(device: torch.device, torch_threads: int, node_id: str | None, gpu_ids: str | None) -> dict[str, Any]:
    """Where, when and how a trial (or a pack) started: the provenance columns of its trials row."""
    return {
        "started_at": datetime.now(UTC),
        "device": str(device),
        "hostname": socket.gethostname(),
        "node_id": node_id,
        "gpu_ids": gpu_ids,
        "torch_threads": torch_threads,
        "matmul_precision": torch.get_float32_matmul_precision(),
        **device_description(device),
    }


def run_unit(
    unit: tuple[TrialSpec, ...],
    checkpointing: Checkpointing | None = None,
    prepared: dict[str, bytes] | None = None,
    **where: Any,
) -> list[dict[str, pa.Table]]:
    """Run one unit of a batch (plan.units): a trial alone, or a pack as one stacked model; return
    each trial's tables. `where` is run_trial's device and provenance arguments.

    A trial that raises (other than by diverging) comes back as a crashed row with the error, so
    it fails alone and the batch goes on; a relaunch runs it again. Out of GPU memory, the row
    says so and the cache the trial left is freed for the next. A GPU fault that leaves the CUDA
    context unusable raises FatalDeviceError instead: the worker must end (device_failure).
    """
    try:
        if len(unit) == 1:
            shared = (prepared or {}).get(unit[0].prepared_id) if unit[0].prepared_id else None
            return [run_trial(unit[0], checkpointing=checkpointing, prepared=shared, **where)]
        return run_pack(list(unit), checkpointing=checkpointing, prepared=prepared, **where)
    except Exception as error:  # noqa: BLE001 - any failure of a trial's own code is that trial's, not the batch's
        return [unfinished_trial(trial, failure_line(error)) for trial in unit]


def failure_line(error: Exception) -> str:
    """What a failed unit's rows say, after dealing with a device failure: raises FatalDeviceError
    for a lost CUDA context; frees the GPU's cache after running out of its memory."""
    kind = device_failure(error)
    if kind == "fatal":
        raise FatalDeviceError(f"the GPU failed, so this worker cannot run another trial: {one_line_error(error)}") from error
    if kind == "oom":
        torch.cuda.empty_cache()  # what the failed trial allocated goes back to the device, for the trials after it
        return f"out of GPU memory (resources.gpu caps a trial at its share of the device): {one_line_error(error)}"
    return one_line_error(error)


def prepare_unit(
    unit: tuple[TrialSpec, ...], checkpointing: Checkpointing | None, device: torch.device, torch_threads: int
) -> PreparedResult:
    """Compute the prepared state of a preparation job (a unit of one): its bytes, or why it failed."""
    job = unit[0]
    started = time.monotonic()
    try:
        data = run_preparation(job, device, torch_threads, checkpointing)
        return PreparedResult(job.trial_id, data, wall_s=time.monotonic() - started, device=device.type)
    except DivergedError as error:  # a collapsed theta* too: its trials fail with its reason
        return PreparedResult(job.trial_id, status=TrialStatus(error.status), error=str(error))
    except Exception as error:  # noqa: BLE001 - a preparation's failure fails its trials, not the batch
        return PreparedResult(job.trial_id, status=TrialStatus.CRASHED, error=failure_line(error))


def run_preparation(
    job: TrialSpec,
    device: torch.device | None = None,
    torch_threads: int = 1,
    checkpointing: Checkpointing | None = None,
) -> bytes:
    """Compute the shared state a preparation job stands for (e.g. train theta*); return its bytes.

    The job's config holds only the fields the state depends on; the rest take their defaults.
    """
    torch.set_num_threads(torch_threads)
    experiment = REGISTRY[job.experiment]
    assert experiment.prepared_fields, f"{experiment.name} has no preparation"
    return experiment.trial.prepare(experiment.parse(job.config), device or torch.device("cpu"), checkpointing)


def _tables(trial: TrialSpec, outcome: WorkloadResult | DivergedError, where: dict[str, Any]) -> dict[str, pa.Table]:
    """A trial's outcome as its Arrow tables: one trials row if it diverged or collapsed; else its trials row, a
    row of its experiment's own table (its config and results) and its rows of the other tables.

    The summary's keys that are trials columns (loss, steps, parameters) go to the trials row, the
    rest to the experiment's table, whose declaration must name them.
    """
    if isinstance(outcome, DivergedError):
        row = trial_row(trial, TrialStatus(outcome.status), str(outcome), parameters=outcome.parameters, **where)
        return {TRIALS.name: to_arrow(TRIALS, [row])}
    experiment = REGISTRY[trial.experiment]
    generic = {key: value for key, value in outcome.summary.items() if key in TRIALS.column_names}
    own = {key: value for key, value in outcome.summary.items() if key not in generic}
    row = trial_row(trial, TrialStatus.OK, resumed_from_step=outcome.resumed_from_step, compile_s=outcome.compile_s, **generic, **where)
    tables = {
        TRIALS.name: to_arrow(TRIALS, [row]),
        experiment.name: to_arrow(TABLES[experiment.name], [{"trial_id": trial.trial_id, "sweep": trial.sweep, **trial.config, **own}]),
    }
    for name, rows in outcome.tables.items():
        tables[name] = to_arrow(TABLES[name], [{"trial_id": trial.trial_id, **r} for r in rows])
    return tables
