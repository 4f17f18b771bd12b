"""The paper's figures, drawn from the store alone: each stored sweep by its experiment's figure.py,
and its verdicts per grid value where its claims leave axes unused."""

from __future__ import annotations

from pathlib import Path

from orchestrator.results import StoredSweep
from orchestrator.store import check_store, figures_folder, record_figures, stored_sweeps
from results_schema import check_sweep_name
from workloads import REGISTRY


def draw_figures(store: Path, sweep: str | None = None, out_dir: Path | None = None) -> list[Path]:
    """Draw the figure(s) of every sweep in the store (or of one sweep) into the store's figures
    folder (or `out_dir`, a folder the user names); return the files written."""
    check_store(store)
    out_dir = out_dir or figures_folder(store)
    paths: list[Path] = []
    for name in [check_sweep_name(sweep)] if sweep else stored_sweeps(store):
        data = StoredSweep(store, name)
        if data.trials.empty or data.experiment not in REGISTRY:
            continue
        drawn = REGISTRY[data.experiment].draw(data, out_dir) + verdict_figure(data, out_dir)
        if drawn:
            record_figures(store, out_dir, name, drawn)
        paths += drawn
    return paths


def verdict_figure(data: StoredSweep, out_dir: Path) -> list[Path]:
    """For a sweep over axes its claims do not use (an encoding's scale, the activation, ...):
    each claim's verdict against their values. None for a sweep whose claims use every axis."""
    from orchestrator.looks import judge_looks
    from orchestrator.store import read_table
    from orchestrator.verify import CLAIMS, check_sweep, splits
    from results_schema import TRIALS
    from workloads.plots import verdicts_by_axis

    experiment = REGISTRY[data.experiment]
    if not splits(experiment, data):  # every launch draws its figures: check the claims only when there is something to draw
        return []
    # Each verdict at the level verify gives it (its look in the store's record), without recording a look.
    trials = read_table(data.store, TRIALS, columns=["trial_id", "sweep", "status"])
    verdicts = judge_looks(data.store, check_sweep(experiment, data), trials, {c.claim_id: c for c in CLAIMS}, record=False)
    return verdicts_by_axis(verdicts, out_dir, f"verdicts_{data.name}", data.name)
