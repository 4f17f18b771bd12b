"""The one check every path sbsweep reads, writes or deletes in a store passes: it stays inside
the store, with every link followed. A store's files and folders, and the arguments naming them,
may come from anyone (a store received from a colleague, a typo): none of them can lead sbsweep
outside the store."""

from __future__ import annotations

from pathlib import Path

from results_schema import StoreError


def inside(store: Path, path: Path) -> Path:
    """`path`, once it is certain that it stays inside `store` with every link followed; else
    StoreError. Every path sbsweep reads, writes or deletes in a store passes here (or is a
    plain child of one that did), whatever a file of the store or an argument says."""
    root = store.resolve()
    resolved = path.resolve()
    if resolved != root and root not in resolved.parents:
        raise StoreError(f"{path}: leads outside the store to {resolved} (a link or '..'); sbsweep touches nothing outside its store")
    return path


def regular_file(path: Path) -> Path:
    """`path` if it is not a link (sbsweep writes none into a store): reading or replacing a
    link would reach whatever it points to. Its folder must have passed `inside` already."""
    if path.is_symlink():
        raise StoreError(f"{path}: is a link, which sbsweep never writes into a store; remove it (it points to {path.resolve()})")
    return path
