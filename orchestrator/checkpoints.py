"""Where Tune keeps a sweep's checkpoints, what one holds, and how they are found again.

Tune's storage (by default `STORE/_tune`, on a cluster any URI every node reaches; a storage
named by the user holds each store's checkpoints under the store's id, so stores sharing one
storage never read or delete each other's):

    STORE/_tune/<sweep>/launch-<time>/batch-<index>/checkpoint_<n>/
    <checkpoint storage>/<store id>/<sweep>/launch-<time>/batch-<index>/checkpoint_<n>/
        batch.json    {"unit": unit id or null, "step": n or null, "reported": [trial ids]}
        state.pt      the unit's training state at `step` (weights, Adam's moments, rows so far)

Each batch keeps its latest checkpoint only. It says which of the batch's trials were already
reported to the driver, so a batch that Tune retries after a crash skips them, and it holds the
training state of the unit that was running, so that unit resumes where it was. A later launch
finds the newest checkpoint of every unit by its id, whichever batch and launch left it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from orchestrator.paths import inside
from results_schema import check_sweep_name

TUNE_DIR = "_tune"
BATCH_FILE = "batch.json"
STATE_FILE = "state.pt"


def tune_root(store: Path, store_id: str, sweep: str, checkpoint_storage: str | None = None) -> str:
    """Where Tune keeps the experiments (and so the checkpoints) of every launch of `sweep` into
    `store`: STORE/_tune/<sweep> (checked to stay inside the store), or
    <checkpoint_storage>/<store_id>/<sweep> in a storage the user names: a local path or a URI
    pyarrow understands (s3://bucket/prefix, gs://)."""
    check_sweep_name(sweep)
    if not checkpoint_storage:
        return str(inside(store, store / TUNE_DIR / sweep))
    if "://" not in checkpoint_storage:
        checkpoint_storage = str(Path(checkpoint_storage).expanduser().absolute())  # Tune needs absolute paths
    return f"{checkpoint_storage.rstrip('/')}/{store_id}/{sweep}"


def _filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    try:
        return pafs.FileSystem.from_uri(uri)
    except (pa.ArrowInvalid, ValueError):  # a plain local path
        return pafs.LocalFileSystem(), str(Path(uri).absolute())


def _checkpoint_dirs(root: str) -> list[tuple[pafs.FileSystem, str]]:
    """(filesystem, path) of every checkpoint folder under a sweep's Tune root: on a local disk,
    only real folders that stay under the root (a link is never followed out of it)."""
    fs, base = _filesystem(root)
    if fs.get_file_info(base).type != pafs.FileType.Directory:
        return []
    local = isinstance(fs, pafs.LocalFileSystem)
    found = []
    for launch in fs.get_file_info(pafs.FileSelector(base)):
        if not _real_dir(fs, launch, base, local) or not launch.base_name.startswith("launch-"):
            continue
        for batch in fs.get_file_info(pafs.FileSelector(launch.path)):
            if not _real_dir(fs, batch, base, local):
                continue
            for checkpoint in fs.get_file_info(pafs.FileSelector(batch.path)):
                if checkpoint.base_name.startswith("checkpoint_") and _real_dir(fs, checkpoint, base, local):
                    found.append((fs, checkpoint.path))
    return found


def _real_dir(fs: pafs.FileSystem, info: pafs.FileInfo, base: str, local: bool) -> bool:
    """Whether `info` is a folder sbsweep may enter and delete: on a local disk, not a link and
    inside `base` once resolved."""
    if info.type != pafs.FileType.Directory:
        return False
    if not local:
        return True
    path = Path(info.path)
    return not path.is_symlink() and path.resolve().is_relative_to(Path(base).resolve())


def _uri(fs: pafs.FileSystem, path: str) -> str:
    return path if isinstance(fs, pafs.LocalFileSystem) else f"{fs.type_name}://{path}"


def resumable_checkpoints(root: str) -> dict[str, str]:
    """unit id -> the checkpoint with the most steps of that unit that earlier launches left."""
    best: dict[str, tuple[int, str]] = {}
    for fs, path in _checkpoint_dirs(root):
        try:
            with fs.open_input_stream(f"{path}/{BATCH_FILE}") as stream:
                meta = json.loads(stream.read().decode())
        except (OSError, ValueError):
            continue  # a checkpoint cut off while it was copied: an older one, or step 0, will do
        unit, step = meta.get("unit"), meta.get("step")
        if unit and step and step > best.get(unit, (-1, ""))[0]:
            best[unit] = (step, _uri(fs, path))
    return {unit: uri for unit, (_, uri) in best.items()}


def drop_checkpoints(root: str, keep_units: set[str] | None = None) -> None:
    """Delete a sweep's checkpoints, all of them or all but those of `keep_units`, and the launch
    folders left empty of checkpoints."""
    fs, base = _filesystem(root)
    for fs, path in _checkpoint_dirs(root):
        if keep_units and _unit_of(fs, path) in keep_units:
            continue
        with contextlib.suppress(OSError):  # best effort: a checkpoint left behind costs disk, not correctness
            fs.delete_dir(path)
    if fs.get_file_info(base).type != pafs.FileType.Directory:
        return
    kept = {path.split("/")[-3] for _, path in _checkpoint_dirs(root)}
    local = isinstance(fs, pafs.LocalFileSystem)
    for info in fs.get_file_info(pafs.FileSelector(base)):
        if _real_dir(fs, info, base, local) and info.base_name.startswith("launch-") and info.base_name not in kept:
            with contextlib.suppress(OSError):
                fs.delete_dir(info.path)


def _unit_of(fs: pafs.FileSystem, path: str) -> str | None:
    """The unit a checkpoint folder holds the state of (None: none, or unreadable)."""
    try:
        with fs.open_input_stream(f"{path}/{BATCH_FILE}") as stream:
            return json.loads(stream.read().decode()).get("unit")
    except (OSError, ValueError):
        return None


@dataclass
class BatchProgress:
    """What a batch's latest checkpoint says: the trials it reported, and the running unit's state."""

    reported: set[str] = field(default_factory=set)
    unit: str | None = None
    state: dict[str, Any] | None = None


def load_checkpoint(directory: str, device: Any) -> BatchProgress:
    """Read a checkpoint folder written by `save_checkpoint` (on the worker: imports torch).

    Tune copies a checkpoint into place without a temporary name, so a crash mid-copy can leave it
    torn. Only what is complete is used: an unreadable batch.json is no checkpoint at all; a
    training state that is missing or does not load (truncated) is dropped, so its unit starts
    from step 0 (its rows say resumed_from_step 0) while the trials already reported stay known.
    """
    import torch

    try:
        meta = json.loads(Path(directory, BATCH_FILE).read_text())
    except (OSError, ValueError):
        print(f"sbsweep: checkpoint {directory} has no readable {BATCH_FILE}: the batch starts over", file=sys.stderr)
        return BatchProgress()
    state = None
    if meta.get("step") is not None:
        try:
            state = torch.load(Path(directory, STATE_FILE), map_location=device, weights_only=True)
        except Exception as error:  # torch raises RuntimeError, EOFError, pickle errors... on a torn file
            print(f"sbsweep: checkpoint {directory}: {STATE_FILE} does not load ({error}); unit {meta.get('unit')} starts from step 0",
                  file=sys.stderr)
    return BatchProgress(set(meta.get("reported", [])), meta.get("unit") if state is not None else None, state)


def save_checkpoint(progress: BatchProgress, report: Callable[[str], None]) -> None:
    """Write `progress` to a temporary folder and hand it to `report` (which copies it to Tune's
    storage before it returns, so the folder can go)."""
    with tempfile.TemporaryDirectory() as directory:
        step = progress.state["step"] if progress.state else None
        meta = {"unit": progress.unit if progress.state else None, "step": step, "reported": sorted(progress.reported)}
        Path(directory, BATCH_FILE).write_text(json.dumps(meta))
        if progress.state is not None:
            import torch

            torch.save(progress.state, os.path.join(directory, STATE_FILE))
        report(directory)
