"""Shared fixtures: tiny sweep files and stores on tmp paths. Everything here is real: real
YAML, real Ray, real Parquet."""

from __future__ import annotations

import getpass
import os
import tempfile
import textwrap
from pathlib import Path

import pandas as pd
import pytest

# Inductor's compiled kernels and precompiled headers depend on ATEN_CPU_CAPABILITY: a cache a run
# under another capability filled fails to compile ('at::vec' has not been declared), so the tests
# (and the launches they start) keep one cache per capability.
os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR", str(Path(tempfile.gettempdir()) / (
    f"sbsweep-tests-inductor-{getpass.getuser()}-{os.environ.get('ATEN_CPU_CAPABILITY', 'auto')}")))
# Inductor compiles in this process, not in a pool of compile workers it would start first (~5 s of
# CPU on 2 cores, for a test's two tiny graphs).
os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")

TINY_SWEEP = """\
name: tiny
experiment: manifold_classification
grid:
  k: [3, 20]
  L: [0, 6]
seeds: [0]
workload:
  width: 8
  depth: 2
  n_points: 64
  steps: 40
  eval_every_steps: 10
resources:
  cpu: 1
"""


SHARED_RAY_CPUS = 1
"""CPUs of the Ray that in-process launches share: one, so a launch starts one Tune worker (whose
imports cost ~4 s of CPU) while the other test process has the machine's other core. Tests of
concurrency run launches with Rays of their own (subprocesses with --num-cpus 2, a Cluster)."""


@pytest.fixture
def local_ray():
    """A real local Ray for a test's in-process launches, shared with every other test of this test
    process that asks for one: starting a Ray costs ~5 s of CPU, so each launch starting its own
    would cost the suite minutes. A launch finds it connected and leaves it so (ray_cluster)."""
    import logging

    import ray

    if not ray.is_initialized():
        ray.init(address="local", num_cpus=SHARED_RAY_CPUS, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield


@pytest.fixture
def own_ray():
    """For a test that starts a Ray of its own (a Cluster, a runtime_env, a fake GPU): the shared
    one is disconnected first, and this one after the test (the next `local_ray` reconnects)."""
    import ray

    if ray.is_initialized():
        ray.shutdown()
    yield
    if ray.is_initialized():
        ray.shutdown()


@pytest.fixture(scope="session", autouse=True)
def _shared_ray_stops_with_the_session():
    yield
    import sys

    if "ray" in sys.modules:
        import ray

        if ray.is_initialized():
            ray.shutdown()


@pytest.fixture
def write_sweep(tmp_path: Path):
    """Write a sweep file (default: a 4-trial toy sweep) and return its path."""

    def write(text: str = TINY_SWEEP, name: str = "sweep.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write


def snapshot(directory: Path) -> dict[str, bytes]:
    """Every file under `directory` with its bytes, to prove a command changed nothing."""
    if not directory.exists():
        return {}
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def with_results(store: Path, experiment: str = "manifold_classification") -> pd.DataFrame:
    """The trials table with an experiment's own table (its config and results) joined on, as a
    pandas user would read them: a trial that did not end ok has no results, so NaN there."""
    trials = pd.read_parquet(store / "trials")
    results = pd.read_parquet(store / experiment)
    return trials.merge(results.drop(columns=[c for c in results if c in trials and c != "trial_id"]), on="trial_id", how="left")


def stored_sweep(tmp_path: Path, sweep_text: str, write_sweep) -> tuple[Path, str]:
    """Run a tiny sweep's trials in this process (no Ray), store them and the sweep's spec, as a
    launch leaves them, and return (store, sweep name)."""
    from orchestrator.plan import expand
    from orchestrator.spec import load_spec
    from orchestrator.store import open_store, save_sweep, write_trial
    from orchestrator.trial import run_trial
    from workloads import TABLES

    spec = load_spec(write_sweep(sweep_text))
    store = open_store(tmp_path / "store")
    for trial in expand(spec):
        write_trial(store, run_trial(trial), TABLES)
    save_sweep(store, spec.name, spec.stored_form())
    return store, spec.name


def verdicts_of(store: Path, *claim_ids: str) -> dict:
    """`verify`'s verdicts on the store of the claims named, by (claim, group)."""
    from orchestrator.verify import verify_store

    return {(v.claim_id, v.group): v for v in verify_store(store) if v.claim_id in claim_ids}
