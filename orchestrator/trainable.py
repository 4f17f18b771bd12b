"""The Ray Tune trainable: one batch of trials (see plan.Batch), run on a Ray worker.

The batch runs its units one after another. Every REPORT_EVERY_S seconds, at every training
checkpoint, and at its end, it reports to the driver the rows of the trials finished since its
last report (Arrow IPC bytes), then, at most every `execution.checkpoint_min_interval_s`, a
checkpoint saying which trials it has reported and, mid-training, the running unit's state
(checkpoints.py). So a batch that Tune retries after
a crash (`execution.max_failures`) skips the trials it reported and resumes the unit that was
running from its checkpoint; and reporting costs one driver round trip per few seconds, not one
per trial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from orchestrator.checkpoints import BatchProgress, load_checkpoint, save_checkpoint
from orchestrator.cluster import ray_request
from orchestrator.plan import Batch, unit_id
from orchestrator.rows import concat_tables, tables_to_bytes
from orchestrator.spec import Execution, Resources

if TYPE_CHECKING:
    import pyarrow as pa

ROWS_KEY = "sbsweep_rows"
"""Result key of a report's rows: {table name: Arrow IPC bytes} of the trials it finished."""
PREPARED_KEY = "sbsweep_prepared"
"""Result key of the prepared states a report carries: {prepared id: {"data": bytes} or
{"status": "diverged" or "crashed", "error": why}}."""
REPORT_EVERY_S = 2.0
"""Seconds between a batch's reports while it runs trials: each is a round trip to the driver."""


def make_trainable(resources: Resources, execution: Execution, batches: list[Any], prepared: dict[str, bytes]) -> Callable[[dict[str, Any]], None]:
    """A fresh Tune function trainable for one resource shape, whose config is a batch index.

    `batches` holds one object-store reference per batch (to its Batch.to_config()), so a worker
    fetches the batch it runs and nothing else. A new function object per call:
    tune.with_resources mutates the function it is given, so a shared one would silently take the
    last launch's resources (RAY_NOTES §5). `prepared` (state the trials share, by prepared_id)
    goes to the object store once, through tune.with_parameters.
    """
    from ray import tune

    def sbsweep_batch(config: dict[str, Any], batches: list[Any], prepared: dict[str, bytes]) -> None:
        import ray

        batch = Batch.from_config(ray.get(batches[config["batch"]]))
        run_batch(batch, resources, execution, prepared)

    trainable = tune.with_parameters(sbsweep_batch, batches=batches, prepared=prepared)
    return tune.with_resources(trainable, ray_request(resources))


def run_batch(batch: Batch, resources: Resources, execution: Execution, prepared: dict[str, bytes]) -> None:
    """Run `batch` inside a Tune trial, reporting as described in the module docstring."""
    import ray
    from ray import tune

    # Imported here, on the worker: they bring torch, which the driver never needs.
    from orchestrator.trial import pick_device, prepare_unit, run_unit
    from workloads.training import Checkpointing

    context = ray.get_runtime_context()
    device = pick_device(resources.gpu)
    where = {
        # Ray narrowed CUDA_VISIBLE_DEVICES to these, so torch's cuda:0 is the first of them.
        "device": device, "torch_threads": max(1, int(resources.cpu)), "node_id": context.get_node_id(),
        "gpu_ids": ",".join(context.get_accelerator_ids().get("GPU", [])) or None, "compile_mode": execution.compile,
    }
    progress = BatchProgress()
    checkpoint = tune.get_checkpoint()
    if checkpoint is not None:  # Tune retries this batch after a crash
        with checkpoint.as_directory() as directory:
            progress = load_checkpoint(directory, device)
    finished: list[dict[str, pa.Table]] = []
    states: dict[str, dict[str, Any]] = {}
    last_report = last_checkpoint = time.monotonic()

    def report(state: dict[str, Any] | None = None, unit: str | None = None, last: bool = False) -> None:
        nonlocal last_report, last_checkpoint
        metrics: dict[str, Any] = {}
        if finished:
            tables = concat_tables(finished)
            metrics[ROWS_KEY] = tables_to_bytes(tables)
            progress.reported |= set(tables["trials"].column("trial_id").to_pylist())
            finished.clear()
        if states:
            metrics[PREPARED_KEY] = dict(states)
            progress.reported |= set(states)
            states.clear()
        if metrics:
            # Apart from the checkpoint: Tune keeps a checkpoint's metrics for as long as the
            # checkpoint, and writes them into its experiment state every few seconds.
            tune.report(metrics)
        progress.unit, progress.state = unit, state
        last_report = time.monotonic()
        # A finished batch is never retried, so its last report needs no checkpoint.
        if not last and last_report - last_checkpoint >= execution.checkpoint_min_interval_s:
            save_checkpoint(progress, lambda directory: tune.report({}, checkpoint=tune.Checkpoint.from_directory(directory)))
            last_checkpoint = time.monotonic()

    for unit in batch.units:
        if all(trial.trial_id in progress.reported for trial in unit):
            continue
        uid = unit_id(unit)
        saved = progress.state if progress.unit == uid else _load_resume(batch.resume_from.get(uid), device)
        checkpointing = Checkpointing(every_steps=execution.checkpoint_every_steps, save=lambda state, uid=uid: report(state, uid), saved=saved)
        if unit[0].stage == "prepare":
            states.update(prepare_unit(unit, checkpointing, where["device"], where["torch_threads"]))
            report()  # a prepared state is big and a whole training's worth: hand it over at once
            continue
        finished.extend(run_unit(unit, checkpointing, prepared, **where))
        if time.monotonic() - last_report >= REPORT_EVERY_S:
            report()
    if finished or states:
        report(last=True)


def _load_resume(uri: str | None, device: Any) -> dict[str, Any] | None:
    """The training state an earlier launch checkpointed for a unit (None: start from step 0)."""
    from ray import tune

    if uri is None:
        return None
    with tune.Checkpoint(uri).as_directory() as directory:
        return load_checkpoint(directory, device).state
