"""sbsweep's orchestrator: read a sweep file, expand its grid, schedule trials on Ray, write the store.

The Python API, for scripts and notebooks (imported on first use, so `import orchestrator` and
the CLI stay fast):

    from orchestrator import ResultStore, launch
    report = launch("sweeps/smoke.yaml", store="sbsweep-store")   # a LaunchReport
    store = ResultStore("sbsweep-store")
    store.table("curves", sweep="smoke")                           # a pandas DataFrame
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:
    __version__ = version("sbsweep")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

_API = {
    "launch": "orchestrator.launcher",
    "LaunchReport": "orchestrator.launcher",
    "SweepConflict": "orchestrator.launcher",
    "load_spec": "orchestrator.spec",
    "SweepSpec": "orchestrator.spec",
    "SpecError": "orchestrator.spec",
    "ResultStore": "orchestrator.results",
    "SweepLocked": "orchestrator.lock",
    "ResourceError": "orchestrator.spec",
    "TrialStatus": "results_schema",
    "StoreError": "results_schema",
}
__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(_API[name]), name)
    raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
