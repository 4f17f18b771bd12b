"""Schedule a sweep's trials on Ray Tune and write each finished trial to the store.

The only module that imports Ray. Trials run anywhere in the cluster; their rows travel back to
the driver inside Tune's result (Arrow IPC bytes) and the driver alone writes the store, so no
worker ever needs the driver's disk.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

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
    cluster is one we started (so its nodes are all there is), and shut down what we started."""
    import ray

    _quiet_ray()
    address = address or os.environ.get("RAY_ADDRESS")
    started = False
    if not ray.is_initialized():
        common: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address:
            ray.init(address=address, **common)
        else:
            # address="local" never attaches to someone else's Ray running on this machine.
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **common)
            started = True
    try:
        yield started
    finally:
        if started:
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

    return tune.with_resources(sbsweep_trial, _ray_request(resources))


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
            status = result.get("status")
            try:
                write_trial(store, tables_from_bytes(payload))
            except OSError as error:  # a full disk, a vanished mount: this trial fails, the sweep goes on
                status = "failed"
                try:
                    write_trial(store, failed_trial(TrialSpec.from_dict(trial.config["trial"]), f"could not store results: {error}"))
                except OSError:
                    pass  # nothing can be written: the trial stays missing and runs on the next launch
            if status == "ok":
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


def run_sweep(spec: SweepSpec, trials: list[TrialSpec], store: Path, progress: ProgressLine) -> SweepOutcome:
    """Run `trials` of `spec` on the connected Ray (see ray_session), writing each to `store`."""
    from ray import tune

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
    return SweepOutcome(writer.ok, writer.failed, writer.retries, time.perf_counter() - fit_start)
