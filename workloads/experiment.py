"""An experiment as the rest of sbsweep sees it: one declaration per experiment folder.

A folder `workloads/<name>/` holds one experiment:

    __init__.py   EXPERIMENT = Experiment(...): its config, its columns and tables, its cost
    config.py     the config dataclass: the keys a sweep file may set (torch-free)
    trial.py      what one trial computes: `problem(config, device)` for a net trained by the
                  shared loop, or `run(config, device, prepared, checkpointing)`; `prepare(config,
                  device, checkpointing)` for state several trials share (plain torch, no Ray)
    figure.py     `draw(data, out_dir)`: its figure(s), from the store alone
    claims.py     `CLAIMS` and `check(data)`: the paper's claim(s) as numbers, for `sbsweep verify`

The declaration is torch-free; trial.py (torch), figure.py (matplotlib) and claims.py are
imported on first use, so the CLI and the driver start fast.
"""

from __future__ import annotations

import dataclasses
import importlib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any, Literal, Protocol

import pyarrow as pa

from results_schema import Column, Table
from workloads.config import NET_FIELDS, parse_config, to_data, training_seconds, unused_net_fields

if typing.TYPE_CHECKING:
    import pandas as pd


class SweepData(Protocol):
    """One stored sweep, as a figure or a claim reads it (the orchestrator provides it)."""

    name: str
    """the sweep's name"""
    experiment: str
    """its experiment's name, which is also the name of the experiment's own table"""
    trials: pd.DataFrame
    """every stored trial of the sweep, whatever its status: the trials table's columns, and each
    config field as a column (from config_json)"""

    def table(self, name: str, *config: str) -> pd.DataFrame:
        """Rows of table `name` written by the sweep's ok trials, with the named config fields
        (e.g. "L", "seed") joined on as columns."""

    def sweeps_of(self, experiment: str) -> list[SweepData]:
        """The store's sweeps of `experiment`, for a claim that compares with another experiment
        on the same data (C7a: the k-NN against Experiment 3's net)."""

    def subset(self, trial_ids: pd.Series | list[str]) -> SweepData:
        """The same sweep with only the trials `trial_ids` (a figure per value of an axis)."""


def _arrow_type(hint: Any) -> pa.DataType:
    """The Arrow type of a config field's type hint (int, float, str, bool, Literal, tuples of those,
    or any of them or None: a null in the column)."""
    while typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        [hint] = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _arrow_type(hint)
    if typing.get_origin(hint) is tuple:
        return pa.list_(_arrow_type(typing.get_args(hint)[0]))
    if typing.get_origin(hint) is Literal:
        hint = type(typing.get_args(hint)[0])
    return {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}[hint]


@cache
def _defaults(config_type: type) -> dict[str, Any]:
    return to_data(config_type())


def no_constraints(config: Any) -> dict[str, str]:
    """A config every value of which, valid on its own, is valid together."""
    return {}


def as_it_is(config: dict[str, Any]) -> dict[str, Any]:
    """A config with no field whose default depends on another."""
    return config


def no_data(config: dict[str, Any]) -> set[str]:
    """A trial that needs no data set from the data cache."""
    return set()


@dataclass(frozen=True)
class Experiment:
    """One experiment: what a sweep file names, what its trials write, where its code is."""

    name: str
    """the name a sweep file gives as `experiment:`, and the folder workloads/<name>/"""
    summary: str
    """one line: which experiment of the paper, what a trial computes"""
    config: type
    """the config dataclass (config.py): every field is a key of a sweep file and a column"""
    columns: tuple[Column, ...] = ()
    """per-trial results beside the config's fields in the experiment's own table (e.g. accuracy);
    the final `loss` and `parameters` of a trained net go to the trials table"""
    tables: tuple[Table, ...] = ()
    """the other tables its trials write rows to (curves, spectra, ...)"""
    constraints: Callable[[Any], dict[str, str]] = no_constraints
    """cross-field checks of a config: {field: why} for each field that makes it impossible"""
    unused: Callable[[dict[str, Any]], set[str]] = unused_net_fields
    """the fields of a trial's config (as data) that have no effect on what it computes (a Fourier
    scale without a Fourier encoding, ...): they are stored as null and left out of its id, so
    grid points that differ only in them are one trial (plan.expand)"""
    input_dim: int | Callable[[dict[str, Any]], int] | None = None
    """a trained net's input dimension (or a function of the config giving it), for the work
    estimate; None: the experiment declares `seconds`"""
    resolve: Callable[[dict[str, Any]], dict[str, Any]] = as_it_is
    """fills the fields a config leaves null whose value depends on other fields (a data set's own
    settings: workloads/images.py); every trial's config passes through it before it is checked,
    stored and hashed, so its stored config holds the values it ran with"""
    data: Callable[[dict[str, Any]], set[str]] = no_data
    """the data sets a trial's config needs in the data cache (images.NEEDS_FETCH): a launch checks
    they are there before it runs or stores anything, and ships them to every node"""
    seconds_estimate: Callable[[dict[str, Any]], float] | None = None
    """an estimate of one trial's seconds on a CPU core from its config (sizes batches only)"""
    preparation_seconds_estimate: Callable[[dict[str, Any]], float] | None = None
    """the same for one preparation (its config holds the prepared fields, the rest their
    defaults); None: a net trained on the preparation's config (training_seconds)"""
    trains_one_net: bool = True
    """whether trial.py has `problem`: one net trained by the shared loop per trial, so trials can
    be packed into one stacked model and compiled (else it has `run`)"""
    prepared_fields: tuple[str, ...] = ()
    """the config fields the experiment's prepared state depends on (non-empty iff trial.py has
    `prepare`): trials equal on these share one, computed once before them and handed to their
    `problem(config, device, prepared)` or `run(config, device, prepared)`"""
    figures: tuple[str, ...] = field(default=())
    """the figures of the paper figure.py draws, e.g. ('Figure 4',), for `sbsweep experiments`"""
    version: int = 4
    """what a trial computes from its config, as a number: raised whenever the code computes other
    numbers from the same config (no field changed, so nothing else would tell), or a trial's id
    changes. It enters every trial id and prepared id, and a stored sweep of another version is
    refused, never mixed with new trials. Version 2: each purpose draws from its own random stream
    (workloads/randomness.py). Version 3: a net that fits its target and loses it is recorded
    `collapsed`, not ok (training.collapse); Experiment 5's autoencoder noise is drawn on the CPU.
    Version 4: a field with no effect on a trial (`unused`) is null in its rows and not in its id."""

    @property
    def pack_fields(self) -> tuple[str, ...]:
        """Config fields trials must share to be packed: the net's shape, the data's, the schedule."""
        return NET_FIELDS

    @property
    def table(self) -> Table:
        """The experiment's own table: one row per ok trial, every config field, then `columns`."""
        hints = typing.get_type_hints(self.config, include_extras=True)
        fields = [Column(f.name, _arrow_type(hints[f.name]), f"config: {f.name}") for f in dataclasses.fields(self.config)]
        return Table(
            self.name,
            f"One row per trial of {self.name} that ended ok: its config, field by field, and its results.",
            (Column("trial_id", pa.string(), "the trial (see trials.trial_id)"), Column("sweep", pa.string(), "the trial's sweep"),
             *fields, *self.columns),
        )

    def seconds(self, config: dict[str, Any], preparation: bool = False) -> float:
        """An estimate of one job's seconds on one CPU core: a trial's (seconds_estimate), or with
        `preparation` a preparation's (preparation_seconds_estimate), whose config holds only the
        prepared fields. Either way the fields it lacks or leaves null take their defaults."""
        config = self.resolve({**_defaults(self.config), **{k: v for k, v in config.items() if v is not None}})
        estimate = self.preparation_seconds_estimate if preparation else self.seconds_estimate
        if estimate is not None:
            return estimate(config)
        inputs = self.input_dim(config) if callable(self.input_dim) else self.input_dim
        return training_seconds(inputs or 1, config)

    def applicable(self, config: dict[str, Any]) -> dict[str, Any]:
        """A trial's config (as data) with every field that has no effect on it (`unused`) null."""
        unused = self.unused(config)
        return {field: None if field in unused else value for field, value in config.items()}

    def parse(self, config: dict[str, Any]) -> Any:
        """A trial's config dict (JSON-like) as the experiment's config object, validated. A field
        the trial leaves unused (null) takes its default: it changes nothing the trial computes."""
        defaults = _defaults(self.config)
        unused = self.unused({**defaults, **config})
        given = {k: defaults[k] if v is None and k in unused else v for k, v in config.items()}
        return parse_config(self.config, self.resolve({**defaults, **given}))

    def _module(self, part: str) -> ModuleType:
        return importlib.import_module(f"workloads.{self.name}.{part}")

    @property
    def trial(self) -> ModuleType:
        """trial.py: what a trial computes (imports torch)."""
        return self._module("trial")

    @property
    def figure(self) -> ModuleType:
        """figure.py: `draw(data, out_dir) -> [paths]` (imports matplotlib)."""
        return self._module("figure")

    @property
    def claims(self) -> ModuleType:
        """claims.py: `CLAIMS` and `check(data) -> [Verdict]`."""
        return self._module("claims")

    def compute(self, config: Any, device: Any, checkpointing: Any = None, prepared: bytes | None = None, compile_mode: str | None = None) -> Any:
        """Run one trial of this experiment on `device`: train its problem with the shared loop,
        or call its `run`; returns a training.WorkloadResult. Raises training.DivergedError."""
        if self.trains_one_net:
            from workloads.training import solve

            return solve(self.problem(config, device, prepared), checkpointing, compile_mode)
        return self.trial.run(config, device, prepared, checkpointing)

    def problem(self, config: Any, device: Any, prepared: bytes | None = None) -> Any:
        """The training.Problem of one trial (an experiment that trains one net per trial); the
        prepared state goes to `problem` where the experiment has one."""
        if self.prepared_fields:
            return self.trial.problem(config, device, prepared)
        return self.trial.problem(config, device)

    def draw(self, data: SweepData, out_dir: Path) -> list[Path]:
        """Draw this experiment's figure(s) of one stored sweep; return the files written."""
        return self.figure.draw(data, out_dir)
