"""The paper's figures, drawn from the store alone: each stored sweep by its experiment's figure.py."""

from __future__ import annotations

from pathlib import Path

from orchestrator.store import StoredSweep, check_store, stored_sweeps
from results_schema import FIGURES_DIR
from workloads import REGISTRY


def draw_figures(store: Path, sweep: str | None = None, out_dir: Path | None = None) -> list[Path]:
    """Draw the figure(s) of every sweep in the store (or of one sweep); return the files written."""
    check_store(store)
    out_dir = out_dir or store / FIGURES_DIR
    paths: list[Path] = []
    for name in [sweep] if sweep else stored_sweeps(store):
        data = StoredSweep(store, name)
        if data.trials.empty or data.experiment not in REGISTRY:
            continue
        paths += REGISTRY[data.experiment].draw(data, out_dir)
    return paths
