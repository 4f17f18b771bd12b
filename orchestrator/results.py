"""The store as the experiments declare it: ResultStore for scripts and notebooks, StoredSweep
for the figures and the claims. The one place reading meets the registry of tables."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pandas as pd

from orchestrator.store import check_store, read_table, stored_sweeps
from results_schema import TRIALS, StoreError, Table, TrialStatus
from workloads import TABLES


def declared(name: str) -> Table:
    """The declaration of table `name` (results_schema's and the experiments' tables)."""
    if name not in TABLES:
        raise StoreError(f"no table '{name}' in this store's schema (tables: {', '.join(TABLES)})")
    return TABLES[name]


class ResultStore:
    """A store, read-only, for scripts and notebooks: its tables as pandas DataFrames.

        store = ResultStore("sbsweep-store")
        store.sweeps                                  # ['manifold_cpu', ...]
        store.table("trials", sweep="manifold_cpu")   # one row per trial
        store.table("curves")                         # every sweep's learning curves

    The same rows `pd.read_parquet(STORE / table)` gives, less those of flushes that never
    committed (a launch killed while writing), and checked against this sbsweep's schema.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        """Open the store at `path` (default: $SBSWEEP_STORE, else ./sbsweep-store, as the CLI)."""
        self.path = Path(path if path is not None else os.environ.get("SBSWEEP_STORE", "sbsweep-store")).expanduser().absolute()
        check_store(self.path)

    @property
    def sweeps(self) -> list[str]:
        """The sweeps the store holds trials of."""
        return stored_sweeps(self.path)

    @property
    def tables(self) -> list[str]:
        """The tables a store can hold (results_schema)."""
        return list(TABLES)

    def table(self, name: str, sweep: str | list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
        """Table `name` (of one sweep, of several, or of all) as a DataFrame."""
        sweeps = [sweep] if isinstance(sweep, str) else sweep
        return read_table(self.path, declared(name), columns=columns, sweeps=sweeps)

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"


class StoredSweep:
    """One stored sweep as its experiment's figure and claims read it (workloads.experiment.SweepData).

    `trials` has every trial of the sweep, whatever its status, with each config field as a
    column read from config_json (ints stay ints, tuples are lists); `table` reads the rows of the
    sweep's ok trials in one table, and joins the config fields asked for.
    """

    def __init__(self, store: Path, name: str) -> None:
        self.store, self.name = store, name
        trials = read_table(store, TRIALS, sweeps=[name])
        config = pd.DataFrame([json.loads(text) for text in trials["config_json"]], index=trials.index)
        self.trials = pd.concat([trials, config.drop(columns=[c for c in config if c in trials])], axis=1)
        self.experiment = str(trials["experiment"].iloc[0]) if len(trials) else ""

    def table(self, name: str, *config: str) -> pd.DataFrame:
        """Rows of table `name` written by the sweep's ok trials, with the config fields `config`."""
        rows = read_table(self.store, declared(name), sweeps=[self.name])
        ok = self.trials[self.trials["status"] == TrialStatus.OK]
        rows = rows[rows["trial_id"].isin(ok["trial_id"])]
        wanted = [field for field in config if field not in rows]
        return rows.merge(ok[["trial_id", *wanted]], on="trial_id") if wanted else rows.reset_index(drop=True)

    def subset(self, trial_ids: pd.Series | list[str]) -> StoredSweep:
        """The same sweep with only the trials `trial_ids` (their rows alone in every table)."""
        part = copy.copy(self)
        part.trials = self.trials[self.trials["trial_id"].isin(list(trial_ids))]
        return part

    def sweeps_of(self, experiment: str) -> list[StoredSweep]:
        """The store's sweeps of `experiment` (this one included, if it is one), by name."""
        trials = read_table(self.store, TRIALS, columns=["sweep", "experiment"])
        return [StoredSweep(self.store, name) for name in sorted(set(trials.loc[trials["experiment"] == experiment, "sweep"]))]
