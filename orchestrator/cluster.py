"""The Ray cluster a launch runs on: join one or start a private local one, quietly, check that it
can ever run a trial of the sweep, and count how many it runs at once."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from orchestrator.spec import Resources


def _quiet_ray() -> None:
    # Ray Tune's default console output is pages of tables per trial; sbsweep prints its own
    # progress line instead. The old output engine honours verbose=0 (RAY_NOTES §6).
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"
    # Tune's JSON/CSV/TensorBoard loggers would copy every result, rows included, to disk.
    os.environ["TUNE_DISABLE_AUTO_CALLBACK_LOGGERS"] = "1"
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    for name in ("ray", "ray.tune", "ray.train"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def silent_trial_progress() -> Any:
    """A Tune callback that takes the place of Tune's own per-trial console reporter: with the old
    output engine, Tune adds a TrialProgressCallback that prints "Trial ... completed. Last
    result: ..." whatever `verbose` says, between sbsweep's progress lines, unless one is given."""
    from ray.tune.progress_reporter import TrialProgressCallback

    class SilentTrialProgress(TrialProgressCallback):
        def _print(self, msg: str) -> None:
            pass

    return SilentTrialProgress()


class ResourceError(Exception):
    """No node of the Ray cluster could ever run a trial: names the spec key and the shortfall."""

    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


@contextmanager
def ray_cluster(address: str | None, num_cpus: int | None) -> Iterator[bool]:
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


def ray_request(resources: Resources) -> dict[str, float]:
    """What one Tune trial asks Ray for."""
    return {"CPU": resources.cpu, "GPU": resources.gpu, **resources.custom}


def check_resources(resources: Resources) -> None:
    """Raise ResourceError if no live node of the connected cluster has what one trial asks for.

    Checked before any trial starts: Ray would otherwise leave such trials pending forever.
    """
    import ray

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
    import ray

    total = ray.cluster_resources()
    request = {key: amount for key, amount in ray_request(resources).items() if amount > 0}
    fits = min((math.floor(total.get(key, 0) / amount + 1e-9) for key, amount in request.items()), default=1)
    return max(1, min(fits, max_concurrent or fits))
