"""The paper's figures, drawn from the store alone (pandas in, PNG and PDF out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # files only: figures are drawn on headless machines and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from orchestrator.store import read_table  # noqa: E402
from results_schema import FIGURES_DIR  # noqa: E402
from workloads import REGISTRY  # noqa: E402

MAX_ANNOTATED_CELLS = 150
"""Heatmaps with at most this many cells print each cell's value; larger ones would be unreadable."""


def _save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def figure4(trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """Figure 4: final training accuracy per (k, L), mean over seeds, with the majority baseline.

    x: frequency k, y: L; one cell per grid point. Cells with no successful trial are grey.
    """
    ok = trials[trials["status"] == "ok"]
    accuracy = ok.pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
    all_k = sorted(trials["k"].unique())
    all_L = sorted(trials["L"].unique())
    accuracy = accuracy.reindex(index=all_L, columns=all_k)
    seeds_per_cell = ok.groupby(["k", "L"]).size()
    baseline = float(ok["baseline_accuracy"].mean()) if len(ok) else float("nan")
    config = json.loads(trials["config_json"].iloc[0])

    fig, ax = plt.subplots(figsize=(max(6.5, 1.5 + 0.75 * len(all_k)), max(4.5, 1.6 + 0.42 * len(all_L))))
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(accuracy.to_numpy(float)), origin="lower", aspect="auto", cmap=cmap, vmin=0.5, vmax=1.0)
    ax.set_xticks(range(len(all_k)), [str(k) for k in all_k])
    ax.set_yticks(range(len(all_L)), [str(L) for L in all_L])
    ax.set_xlabel("frequency k of the target sine (periods over the latent z)")
    ax.set_ylabel(r"L (petals of the manifold $\gamma_L$)")
    if accuracy.size <= MAX_ANNOTATED_CELLS:
        for (row, col), value in np.ndenumerate(accuracy.to_numpy(float)):
            if np.isfinite(value):
                ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=7, color="white" if value < 0.8 else "black")
    colorbar = fig.colorbar(image, ax=ax)
    n_seeds = f"{seeds_per_cell.min()}" if len(seeds_per_cell) and seeds_per_cell.min() == seeds_per_cell.max() else (
        f"{seeds_per_cell.min()}-{seeds_per_cell.max()}" if len(seeds_per_cell) else "0"
    )
    colorbar.set_label(f"final training accuracy (mean over {n_seeds} seed{'s' * (n_seeds != '1')})")
    if np.isfinite(baseline):
        colorbar.ax.axhline(baseline, color="red", linewidth=2)
        ax.annotate(
            f"Red line on the colour bar: majority-class baseline, {baseline:.2f} "
            f"(threshold {config['threshold']} makes the classes about 1:2). Grey: no successful trial.",
            xy=(0, 0), xycoords="axes fraction", xytext=(0, -42), textcoords="offset points",
            va="top", fontsize=7, color="dimgray",
        )
    ax.set_title(
        f"Figure 4: final training accuracy per (k, L)   [sweep '{sweep}']\n"
        f"{config['depth']}x{config['width']} ReLU net, {config['steps']} full-batch Adam steps, "
        f"N={config['n_points']}, label = sin(2$\\pi$kz+$\\varphi$) > {config['threshold']}",
        fontsize=9,
    )
    return _save(fig, out_dir, f"figure4_{sweep}")


FIGURES: dict[str, Callable[[pd.DataFrame, str, Path], list[Path]]] = {"figure4": figure4}
"""Figure name (as in workloads.REGISTRY) -> drawing function."""


def draw_figures(store: Path, sweep: str | None = None, out_dir: Path | None = None) -> list[Path]:
    """Draw the figure of every sweep in the store (or of one sweep); return the files written."""
    trials = read_table(store, "trials")
    out_dir = out_dir or store / FIGURES_DIR
    sweeps = [sweep] if sweep else sorted(trials["sweep"].unique())
    paths: list[Path] = []
    for name in sweeps:
        rows = trials[trials["sweep"] == name]
        if rows.empty:
            continue
        figure = FIGURES[REGISTRY[rows["experiment"].iloc[0]].figure]
        paths += figure(rows, name, out_dir)
    return paths
