"""Schedule a sweep's trials on Ray Tune and write each finished trial to the store.

The only module that imports Ray. Trials run anywhere in the cluster; their rows travel back to
the driver inside Tune's result (Arrow IPC bytes) and the driver alone writes the store, so no
worker ever needs the driver's disk.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from orchestrator.expand import TrialSpec
from orchestrator.progress import ProgressLine
from orchestrator.spec import Resources, SweepSpec
from orchestrator.store import write_trial
from orchestrator.trial import failed_trial, pick_device, run_trial, tables_from_bytes, tables_to_bytes
from results_schema import TRIALS

PAYLOAD_KEY = "sbsweep_tables"


@dataclass(frozen=True)
class SweepOutcome:
    """How a launch went: counts of this launch's trials, and where time went."""

    ok: int
    failed: int
    retries: int
    ray_start_s: float
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


def start_ray(address: str | None, num_cpus: int | None) -> bool:
    """Connect to `address` (or RAY_ADDRESS), else start a private local Ray. True if we started it."""
    import ray

    _quiet_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get("RAY_ADDRESS")
    common: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address:
        ray.init(address=address, **common)
        return False
    # address="local" never attaches to someone else's Ray that happens to run on this machine.
    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **common)
    return True


def make_trainable(resources: Resources) -> Callable[[dict[str, Any]], None]:
    """A fresh Tune function trainable for one resource shape.

    A new function object per call: tune.with_resources mutates the function it is given, so a
    shared one would silently take the last launch's resources (RAY_NOTES §5).
    """
    from ray import tune

    def sbsweep_trial(config: dict[str, Any]) -> None:
        import ray

        trial = TrialSpec.from_dict(config["trial"])
        tables = run_trial(
            trial,
            device=pick_device(resources.gpu),
            torch_threads=max(1, int(resources.cpu)),
            node_id=ray.get_runtime_context().get_node_id(),
        )
        status = tables[TRIALS.name].column("status")[0].as_py()
        tune.report({PAYLOAD_KEY: tables_to_bytes(tables), "status": status})

    request = {"cpu": resources.cpu, "gpu": resources.gpu, **resources.custom}
    return tune.with_resources(sbsweep_trial, request)


def _store_writer(store: Path, progress: ProgressLine) -> Any:
    from ray import tune

    class StoreWriter(tune.Callback):
        """Writes each trial's rows as its result arrives; keeps the progress line current.

        Runs in the driver process, so the driver alone writes the store.
        """

        def __init__(self) -> None:
            self.ok = self.failed = self.running = self.retries = 0

        def _draw(self) -> None:
            progress.update(self.ok, self.running, self.failed)

        def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.running += 1
            self._draw()

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            payload = result.pop(PAYLOAD_KEY, None)  # Tune allows editing the result in place
            if payload is None:
                return
            write_trial(store, tables_from_bytes(payload))
            if result.get("status") == "ok":
                self.ok += 1
            else:
                self.failed += 1
            self.running -= 1
            self._draw()

        def on_trial_recover(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self.retries += 1

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            error = trial.get_error() or "the trial's worker failed"
            write_trial(store, failed_trial(TrialSpec.from_dict(trial.config["trial"]), str(error)))
            self.failed += 1
            self.running -= 1
            self._draw()

    return StoreWriter()


def run_sweep(
    spec: SweepSpec,
    trials: list[TrialSpec],
    store: Path,
    progress: ProgressLine,
    address: str | None = None,
    num_cpus: int | None = None,
) -> SweepOutcome:
    """Run `trials` of `spec` on Ray Tune, writing each to `store` as it finishes."""
    import ray
    from ray import tune

    ray_start = time.perf_counter()
    started_ray = start_ray(address, num_cpus)
    ray_start_s = time.perf_counter() - ray_start
    writer = _store_writer(store, progress)
    fit_start = time.perf_counter()
    try:
        tuner = tune.Tuner(
            make_trainable(spec.resources),
            param_space={"trial": tune.grid_search([t.to_dict() for t in trials])},
            tune_config=tune.TuneConfig(
                max_concurrent_trials=spec.execution.max_concurrent_trials,
                reuse_actors=True,  # one worker process imports torch once, then runs trial after trial
                trial_dirname_creator=lambda t: t.config["trial"]["trial_id"],
            ),
            run_config=tune.RunConfig(
                # One Tune experiment per launch; the store, not Tune's state, says what is done.
                name=f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}",
                storage_path=str(store / "_tune"),
                failure_config=tune.FailureConfig(max_failures=spec.execution.max_failures),
                verbose=0,
                callbacks=[writer],
            ),
        )
        tuner.fit()
    finally:
        progress.close()
        if started_ray:
            ray.shutdown()
    return SweepOutcome(writer.ok, writer.failed, writer.retries, ray_start_s, time.perf_counter() - fit_start)
