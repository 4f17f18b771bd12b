"""A store's sweeps as a whole: the spec each was launched with (and whether a new one may join
it), the prepared states trials share, the figures drawn from a sweep, and removing a sweep."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestrator.paths import inside, regular_file
from orchestrator.spec import RESOLVED_KEY, VERSION_KEY
from orchestrator.store.files import staging_path, write_atomic
from orchestrator.store.parts import generations_dir, linked_generation, table_link
from orchestrator.store.reading import read_table
from results_schema import DAMAGED_DIR, FIGURES_DIR, PREPARED_DIR, SWEEPS_DIR, TRIALS, StoreError, Table, check_sweep_name

GROWABLE_SPEC_KEYS = ("description", "grid", "seeds", "resources", "execution", "overrides")
"""Spec keys a stored sweep may change on a later launch: they add trials or change how they run,
never what an already stored trial means. Any other change needs a new name or --overwrite."""


def store_folder(store: Path, name: str) -> Path:
    """The store's folder `name` (sweeps, figures, prepared...), checked to stay inside the store
    (a link out of it is refused, never followed)."""
    return inside(store, store / name)


def spec_path(store: Path, name: str) -> Path:
    """Where the spec of sweep `name` is kept: sweeps/<name>.json, checked."""
    return regular_file(store_folder(store, SWEEPS_DIR) / f"{check_sweep_name(name)}.json")


def saved_sweep(store: Path, name: str) -> dict[str, Any] | None:
    """The spec stored for sweep `name` by its last launch, or None."""
    path = spec_path(store, name)
    try:
        return json.loads(path.read_text()) if path.exists() else None
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: unreadable sweep spec ({error})") from None


def spec_conflict(store: Path, name: str, spec: dict[str, Any]) -> str | None:
    """Why `spec` cannot join the stored sweep of the same name (None if it can).

    A sweep may grow (more grid values, seeds) or change resources; changing what its trials
    compute (experiment, fixed workload values) would mix two experiments under one name.
    """
    stored = saved_sweep(store, name)
    if stored is None:
        return None
    stored_version, version = stored.get(VERSION_KEY, 1), spec.get(VERSION_KEY, 1)
    if stored_version != version:
        return (f"sweep '{name}' is already stored, computed by version {stored_version} of experiment '{spec.get('experiment')}', "
                f"whose code now computes version {version} (other numbers from the same config)")
    stored, spec = {k: v for k, v in stored.items() if k != VERSION_KEY}, {k: v for k, v in spec.items() if k != VERSION_KEY}
    if RESOLVED_KEY not in stored:  # saved before specs kept their resolved config: compare what both have
        spec = {k: v for k, v in spec.items() if k != RESOLVED_KEY}
    changed = sorted(k for k in set(stored) | set(spec) if k not in GROWABLE_SPEC_KEYS and stored.get(k) != spec.get(k))
    if changed != [RESOLVED_KEY]:  # a change written in the spec is the one to name
        changed = [k for k in changed if k != RESOLVED_KEY]
    if not changed:
        return None
    details = []
    for key in changed:
        old, new = stored.get(key), spec.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            details += [f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]
        else:
            details.append(f"{key}: {old!r} -> {new!r}")
    if changed == [RESOLVED_KEY]:
        return f"sweep '{name}' is already stored, and the experiment's code has changed its fields or defaults since ({'; '.join(details)})"
    return f"sweep '{name}' is already stored with a different spec ({'; '.join(details)})"


def remove_sweep(store: Path, name: str, declared: Mapping[str, Table]) -> int:
    """Delete every stored trial of sweep `name` (in every `declared` table), its figures, its
    staged and set-aside files and its spec; return the count. Only what is inside the store goes:
    every path is checked first, and a figure record names files of the figures folder alone.

    The trials folder goes first: the sweep's trials stop counting as stored before their other
    rows go, so a crash half way leaves only uncommitted parts, which no reader reads.
    """
    count = len(read_table(store, TRIALS, columns=["trial_id"], sweeps=[name]))
    for table in declared:
        linked_generation(store, table, name)  # a link anywhere but to a generation is refused before anything goes
    links = [table_link(store, table, name) for table in sorted(declared, key=lambda n: n != TRIALS.name)]
    folders = [generations_dir(store, name), staging_path(store, name), inside(store, store / DAMAGED_DIR / check_sweep_name(name))]
    figures = figures_folder(store)
    drawn = [figures / figure for figure in drawn_figures(figures, name)]
    for link in links:
        if link.is_symlink():
            link.unlink()
        elif link.is_dir():  # a store written before generations
            shutil.rmtree(link)
    for folder in folders:
        if folder.is_dir():
            shutil.rmtree(folder)
    for figure in drawn:
        figure.unlink(missing_ok=True)
    _figures_record(figures, name).unlink(missing_ok=True)
    spec_path(store, name).unlink(missing_ok=True)
    return count


def figures_folder(store: Path) -> Path:
    """The store's figures folder (checked to stay inside it)."""
    return store_folder(store, FIGURES_DIR)


def _figures_record(figures: Path, sweep: str) -> Path:
    return figures / f".{check_sweep_name(sweep)}.figures.json"


def record_figures(store: Path, figures: Path, sweep: str, paths: list[Path]) -> None:
    """Note which files in the folder `figures` were drawn from `sweep` (so --overwrite removes
    them with it): file names alone, since a sweep's figures are named by experiment, not sweep.
    Kept only for the store's own figures folder: figures drawn elsewhere are not the store's."""
    if figures.resolve() != figures_folder(store).resolve():
        return
    names = sorted(set(drawn_figures(figures, sweep)) | {p.name for p in paths})
    write_atomic(store, _figures_record(figures, sweep), json.dumps(names).encode(), sweep)


def _figure_name(name: object) -> bool:
    """Whether a record's entry is a plain file name of the figures folder: no path, not hidden."""
    return isinstance(name, str) and name not in ("", ".", "..") and Path(name).name == name and "\\" not in name and not name.startswith(".")


def drawn_figures(figures: Path, sweep: str) -> list[str]:
    """The names of the files in `figures` drawn from `sweep` (record_figures). A record is a file
    of the store, so anyone may have written it: an entry that is not a plain file name of that
    folder (a path, '..', a hidden name) is refused, the whole record with it."""
    record = _figures_record(figures, sweep)
    try:
        names = json.loads(regular_file(record).read_text())
    except (OSError, ValueError):
        return []
    if not isinstance(names, list) or not all(_figure_name(n) for n in names):
        raise StoreError(f"{record}: a figure record names something other than files of {figures}; sbsweep touches nothing outside its store")
    return list(names)


def _prepared_path(store: Path, prepared_id: str) -> Path:
    return regular_file(store_folder(store, PREPARED_DIR) / f"{check_sweep_name(prepared_id, 'prepared state')}.pt")


def write_prepared(store: Path, prepared_id: str, data: bytes, info: dict[str, Any] | None = None) -> None:
    """Keep a prepared state (e.g. theta*) under its content-addressed id, atomically, and `info`
    on how it was computed (wall_s, device) beside it, for the report."""
    store_folder(store, PREPARED_DIR).mkdir(exist_ok=True)
    if info is not None:
        write_atomic(store, _prepared_path(store, prepared_id).with_suffix(".json"), json.dumps(info).encode())
    write_atomic(store, _prepared_path(store, prepared_id), data)


def prepared_info(store: Path, prepared_id: str) -> dict[str, Any]:
    """How a prepared state was computed ({'wall_s': seconds, 'device': ...}); empty where the
    store does not say (an earlier sbsweep), or says it in a form sbsweep did not write."""
    path = regular_file(_prepared_path(store, prepared_id).with_suffix(".json"))
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(info, dict) or not isinstance(info.get("wall_s") or 0, int | float) or isinstance(info.get("wall_s"), bool):
        return {}
    return {"wall_s": info.get("wall_s"), "device": info.get("device") if isinstance(info.get("device"), str) else None}


def prepared_ids(store: Path) -> set[str]:
    """Ids of the prepared states the store holds."""
    return {p.stem for p in store_folder(store, PREPARED_DIR).glob("*.pt") if not p.name.startswith(".") and not p.is_symlink()}


def read_prepared(store: Path, prepared_id: str) -> bytes:
    """The bytes of a stored prepared state."""
    return _prepared_path(store, prepared_id).read_bytes()


def save_sweep(store: Path, name: str, spec: dict[str, Any]) -> None:
    """Keep the resolved spec of a launch beside its results (sweeps/<name>.json)."""
    store_folder(store, SWEEPS_DIR).mkdir(exist_ok=True)
    write_atomic(store, spec_path(store, name), json.dumps(spec, indent=2, sort_keys=True).encode(), name)


