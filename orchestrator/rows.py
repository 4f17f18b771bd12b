"""A trial's outcome as the store's rows, and their trip from a worker to the driver. No torch.

The driver imports this (to record a crashed trial, to read a worker's payload); trial.py, which
runs the workloads and so imports torch, is imported only where trials run.
"""

from __future__ import annotations

import json
import traceback
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pyarrow as pa

from orchestrator import __version__
from orchestrator.job import TrialSpec
from orchestrator.provenance import code_version
from results_schema import TRIALS, TrialStatus, to_arrow


@cache
def torch_version() -> str | None:
    """The installed torch's version, read from its package metadata (importing torch costs a second)."""
    try:
        return version("torch")
    except PackageNotFoundError:
        return None


def trial_row(trial: TrialSpec, status: TrialStatus, error: str | None = None, **values: Any) -> dict[str, Any]:
    """The trials-table row of `trial`: identity, grid coordinates, outcome, provenance."""
    commit, dirty = code_version()
    row: dict[str, Any] = {
        "trial_id": trial.trial_id,
        "sweep": trial.sweep,
        "experiment": trial.experiment,
        "config_hash": trial.config_hash,
        "status": status.value,
        "error": error,
        "sbsweep_version": __version__,
        "code_version": commit,
        "code_dirty": dirty,
        "torch_version": torch_version(),
        "config_json": json.dumps(trial.config, sort_keys=True),
    }
    row["seed"] = trial.config.get("seed")
    row["prepared_id"] = trial.prepared_id
    row.update(values)
    return row



def one_line_error(error: BaseException | str) -> str:
    """An exception or a traceback as the one line that says what went wrong (its last line)."""
    if isinstance(error, BaseException):
        error = "".join(traceback.format_exception_only(type(error), error)).strip()
    return next((line.strip() for line in reversed(str(error).strip().splitlines()) if line.strip()), "unknown error")


def unfinished_trial(trial: TrialSpec, error: BaseException | str, status: TrialStatus = TrialStatus.CRASHED,
                     **provenance: Any) -> dict[str, pa.Table]:
    """The rows that record a trial that did not end ok: crashed (by default) or diverged, with
    where it ran when that is known (`provenance`: a worker that knows its host, device and GPU).

    Also written by the driver for a batch that died, which does not know where it ran, so no
    host is claimed.
    """
    return {TRIALS.name: to_arrow(TRIALS, [trial_row(trial, status, one_line_error(error), **provenance)])}


def concat_tables(results: list[dict[str, pa.Table]]) -> dict[str, pa.Table]:
    """Several trials' tables as one table per name (what one flush, or one report, carries)."""
    names = sorted({name for tables in results for name in tables})
    return {name: pa.concat_tables([tables[name] for tables in results if name in tables]) for name in names}


def tables_to_bytes(tables: dict[str, pa.Table]) -> dict[str, bytes]:
    """Arrow tables -> IPC stream bytes, to travel from a worker to the driver."""
    out = {}
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out[name] = sink.getvalue().to_pybytes()
    return out


def tables_from_bytes(payload: dict[str, bytes]) -> dict[str, pa.Table]:
    """The inverse of tables_to_bytes."""
    return {name: pa.ipc.open_stream(data).read_all() for name, data in payload.items()}
