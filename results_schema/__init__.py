"""The result store's contract: how a table is declared, the tables every experiment shares,
the layout, the trial statuses and the schema version.

Every table of a store is a `Table` declared once: the generic ones here (trials, curves), each
experiment's own table and the tables it writes in its declaration (workloads/<name>/__init__.py,
gathered in `workloads.TABLES`). Everything that writes the store builds its Arrow tables from
these declarations; everything that reads it may rely on them. A store is a directory that pandas
reads with no sbsweep import:

    import pandas as pd
    trials = pd.read_parquet("sbsweep-store/trials")                    # one row per trial
    cls = pd.read_parquet("sbsweep-store/manifold_classification")      # Experiment 3: config and accuracy
    curves = pd.read_parquet("sbsweep-store/curves")                    # one row per (trial, eval step)

Layout: `<store>/sbsweep_store.json` (the marker, with the schema version),
`<store>/<table>/<sweep>/<flush>.parquet` (part files: each holds the rows of many trials, written
together in one flush), `<store>/sweeps/<sweep>.json` (the resolved spec of each launch),
`<store>/prepared/` (state several trials share), `<store>/decisions/` (decide's looks),
`<store>/suites/` (reproduce's runs), `<store>/report/` (the report). Files and folders whose names start with `.`
or `_` are not data (pandas skips them too): `_staging/` holds files being written, `_damaged/`
flushes set aside, `_tune/` checkpoints, `.locks/` the launch locks. A table's folders hold
nothing but committed part files and, for an instant after a crash, parts of a flush that never
committed (the next launch or compaction removes them).

A flush commits when its trials part exists: a trial is in the store exactly when its trials row
is, its rows in the other tables are in the parts of the same flush, and only trials that ended
ok have rows in the other tables.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

import pyarrow as pa

SCHEMA_VERSION = 3
"""Bumped whenever the layout changes or a column is renamed, removed or changes type; a store of
another version is refused. Version 2: part files per flush under a folder per sweep, and a
typed status (ok / diverged / crashed). Version 3: each experiment's config fields and results
in a table of its own, so that adding an experiment adds a table and changes no other."""

SWEEP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
"""Sweep names become folder and file names in the store: letters, digits, '_', '.', '-',
starting with a letter or digit, so never a path, '..', a hidden or an internal ('_') name."""

MARKER_FILE = "sbsweep_store.json"
SWEEPS_DIR = "sweeps"
FIGURES_DIR = "figures"
SUITES_DIR = "suites"
"""<store>/suites/<suite>.json: when each run of a suite (`sbsweep reproduce`) started and how long it took."""
REPORT_DIR = "report"
"""<store>/report/: `sbsweep report`'s report.html and report.json, and earlier reports' JSON (history/)."""
STAGING_DIR = "_staging"
"""Files on their way into the store (written, then renamed into place) wait here, outside every
table's folder, so no reader of a table (pandas, pyarrow, DuckDB, polars) ever sees one."""
GENERATIONS_DIR = "_generations"
"""<store>/_generations/<sweep>/<generation>/<table>/: where a sweep's part files live. Each
table's `<table>/<sweep>` is a link to one generation's folder; a change that removes or replaces
a part (a merge, a rerun trial's superseded row, a repair) writes the next generation and swaps
the links, so a reader that listed a generation can still read it (it is removed after a grace
period). The one kind of link sbsweep makes in a store."""
DAMAGED_DIR = "_damaged"
"""Flushes set aside because a part of theirs was missing, unreadable or of a foreign schema: kept
for inspection, no longer part of the store (their trials count as missing and run again)."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, Arrow type and what it means (with its unit)."""

    name: str
    type: pa.DataType
    doc: str


@dataclass(frozen=True)
class Table:
    """One table of the store: a directory of Parquet files that share one schema."""

    name: str
    doc: str
    columns: tuple[Column, ...]

    @property
    def schema(self) -> pa.Schema:
        """The Arrow schema every file of this table is written with."""
        return pa.schema([pa.field(c.name, c.type, nullable=True) for c in self.columns])

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns, in stored order."""
        return tuple(c.name for c in self.columns)


TRIALS = Table(
    name="trials",
    doc="One row per trial, whatever its experiment: what it was, how it ended, and its provenance.",
    columns=(
        Column("trial_id", pa.string(), "stable id: '<sweep>-<config_hash>'; the same point always gets the same id"),
        Column("sweep", pa.string(), "name of the sweep the trial belongs to"),
        Column("experiment", pa.string(), "experiment name, e.g. 'manifold_classification' (Experiment 3): its own table holds the trial's "
               "config and results"),
        Column("config_hash", pa.string(), "sha256 (first 16 hex digits) of the resolved trial config"),
        Column("seed", pa.int64(), "seed of the trial's random draws"),
        Column("prepared_id", pa.string(), "the shared prepared state the trial used (Experiment 4: theta*), see prepared/; null if none"),
        Column("status", pa.string(), "'ok'; 'diverged' (the loss became NaN or inf: rerunning would repeat it); 'collapsed' (the net "
               "fitted its target, and its loss ended back at half its start or more: a training failure, judged by no claim); 'crashed' (its worker "
               "died, its code raised, or its rows could not be stored: a relaunch reruns it)"),
        Column("error", pa.string(), "why the trial did not end ok (one line); null when ok"),
        Column("loss", pa.float64(), "final training loss of the trial's net (for Experiment 4, of theta*); null if it trains none"),
        Column("parameters", pa.int64(), "trainable parameters of the trial's net (263 937 for the paper's 6x256 net on a 1-D input)"),
        Column("resumed_from_step", pa.int64(), "step the trial resumed from a checkpoint at (0: trained from scratch)"),
        Column("wall_s", pa.float64(), "seconds the trial took on its worker, start to end (compile_s included); a packed trial gets its "
               "pack's time divided by the pack size"),
        Column("compile_s", pa.float64(), "seconds of wall_s spent compiling (execution.compile: the first training step, when torch.compile "
               "builds its kernels; a pack's divided by its size); null when run eagerly"),
        Column("started_at", pa.timestamp("us", tz="UTC"), "when the trial started (UTC)"),
        Column("device", pa.string(), "torch device the trial ran on, e.g. 'cpu' or 'cuda:0'"),
        Column("hostname", pa.string(), "machine that ran the trial"),
        Column("node_id", pa.string(), "Ray node id that ran the trial; null outside Ray"),
        Column("gpu_ids", pa.string(), "GPUs Ray assigned to the trial (comma-separated ids); null when it asked for none"),
        Column("torch_threads", pa.int64(), "torch intra-op threads the trial used"),
        Column("matmul_precision", pa.string(), "torch's float32 matmul precision the trial ran at ('highest': no TF32; "
               "execution.matmul_precision)"),
        Column("gpu_name", pa.string(), "the GPU's model, e.g. 'NVIDIA A10G'; null on a CPU"),
        Column("cuda_version", pa.string(), "the CUDA version torch was built with, e.g. '12.6'; null on a CPU"),
        Column("gpu_driver", pa.string(), "the NVIDIA driver's release, e.g. '570.133.20'; null on a CPU or where the driver does not say"),
        Column("sbsweep_version", pa.string(), "package version that ran the trial"),
        Column("code_version", pa.string(), "the code the trial ran: the git commit of the checkout, else the package version"),
        Column("code_dirty", pa.bool_(), "whether the checkout's code (orchestrator, workloads, results_schema) had uncommitted changes; "
               "null outside git"),
        Column("torch_version", pa.string(), "torch version that ran the trial"),
        Column("config_json", pa.string(), "the resolved trial config as JSON: rerun the trial from it alone"),
    ),
)

CURVES = Table(
    name="curves",
    doc="One row per (trial, eval step): the learning curve, for every experiment that trains a net.",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done when the row was taken (0 = at initialisation)"),
        Column("loss", pa.float64(), "training loss at that step"),
        Column("accuracy", pa.float64(), "training accuracy at that step (classification experiments; else null)"),
    ),
)

LOOKS = Table(
    name="decisions",
    doc="One row per (decide run, look, verdict): how `sbsweep decide` reached each verdict as it added seeds; "
        "STORE/decisions/<run>.parquet, read with pd.read_parquet(STORE / 'decisions').",
    columns=(
        Column("run_id", pa.string(), "the decide run (its start time and a random suffix)"),
        Column("look", pa.int64(), "0 for the first judgement, then one more after each round of added seeds"),
        Column("claim_id", pa.string(), "the claim, e.g. 'C1'"),
        Column("sweep", pa.string(), "the sweep the verdict is about"),
        Column("grp", pa.string(), "the part of the sweep (e.g. 'amplitudes: equal'); null for the whole sweep"),
        Column("seeds", pa.int64(), "seeds the verdict rested on at this look"),
        Column("value", pa.float64(), "the statistic on the seed means"),
        Column("low", pa.float64(), "the interval's lower end (null: unreplicated)"),
        Column("high", pa.float64(), "the interval's upper end (null: unreplicated)"),
        Column("confidence", pa.float64(), "the interval's nominal coverage at every look: 1 - 0.05 / the run's largest number of looks"),
        Column("outcome", pa.string(), "pass, fail, inconclusive or unreplicated at this look"),
        Column("agreeing", pa.int64(), "seeds whose own statistic lies on the verdict's side (null where a seed alone gives none)"),
        Column("decided_at", pa.timestamp("us", tz="UTC"), "when the look was taken"),
    ),
)
DECISIONS_DIR = LOOKS.name
"""<store>/decisions/: one Parquet file of looks per decide run, and `_<run>.json`, the run's state
(hidden from readers: pandas skips names starting with '_')."""

GENERIC_TABLES = (TRIALS, CURVES)
"""The tables every store may hold whatever its experiments."""

PREPARED_DIR = "prepared"
"""<store>/prepared/<prepared_id>.pt: state several trials share (theta*), content-addressed by the
config it depends on, so any sweep that needs the same state finds it and trains nothing."""


class TrialStatus(enum.StrEnum):
    """How a trial stands. The store's `status` column holds the first three; a trial of a sweep
    with no trials row is NOT_STORED (never run, still running, or cut off)."""

    OK = "ok"
    DIVERGED = "diverged"
    """its loss became NaN or inf: deterministic, so a relaunch does not rerun it (unless asked)"""
    COLLAPSED = "collapsed"
    """its net fitted the target and lost the fit again (training.collapse): a training failure, not
    a result, left out of every claim; deterministic, so not rerun (unless asked)"""
    CRASHED = "crashed"
    """its worker died, it raised, or its rows could not be stored: a relaunch reruns it"""
    NOT_STORED = "not stored"

    @property
    def finished(self) -> bool:
        """Whether a relaunch leaves the trial alone: it ended ok, or would diverge again."""
        return self in (TrialStatus.OK, TrialStatus.DIVERGED, TrialStatus.COLLAPSED)

    @classmethod
    def storable(cls) -> tuple[TrialStatus, ...]:
        """The statuses a trials row can hold (every one but NOT_STORED)."""
        return tuple(status for status in cls if status is not cls.NOT_STORED)



class StoreError(Exception):
    """The store cannot be used as asked: not a store, another schema version, or a bad file."""


def check_sweep_name(name: object, where: str = "sweep") -> str:
    """`name` if it is a sweep name (SWEEP_NAME_PATTERN); StoreError otherwise, whoever gave it (an
    argument, a folder or a file of the store)."""
    if not isinstance(name, str) or not re.fullmatch(SWEEP_NAME_PATTERN, name):
        raise StoreError(f"{where} {name!r} is not a sweep name (letters, digits, '_', '.', '-'; no path parts)")
    return name


def to_arrow(table: Table, rows: list[dict[str, object]]) -> pa.Table:
    """Rows (dicts keyed by column name) as an Arrow table of `table`'s exact schema.

    Missing columns become nulls; a key that is not a column of the table is an error, so a
    workload cannot add an undeclared column by accident.
    """
    unknown = {key for row in rows for key in row} - set(table.column_names)
    if unknown:
        raise StoreError(f"table '{table.name}' has no column(s) {sorted(unknown)}; declare them in results_schema")
    return pa.Table.from_pylist([{name: row.get(name) for name in table.column_names} for row in rows], schema=table.schema)
