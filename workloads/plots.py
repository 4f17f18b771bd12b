"""What the experiments' figures share: saving PNG and PDF, spectrum and accuracy heatmaps, seed counts.

Figures are drawn from the store alone (pandas in, files out) on machines with no screen.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: figures are drawn on headless machines and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

MAX_ANNOTATED_CELLS = 150
"""Heatmaps with at most this many cells print each cell's value; larger ones would be unreadable."""

LETTERS = "abcdefghijklmnopqrstuvwxyz"
"""Panel letters, as the paper labels its sub-figures."""


def save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write `fig` as `stem`.png and `stem`.pdf under `out_dir`; return both paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    for path in paths:
        fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return paths


def spectrum_heatmap(ax: plt.Axes, spectra: pd.DataFrame, title: str) -> matplotlib.image.AxesImage:
    """Normalized magnitude per (step, k), mean over the trials given, colour clipped to [0, 1]."""
    table = spectra.pivot_table(index="step", columns="k", values="normalized_magnitude", aggfunc="mean")
    steps, ks = table.index.to_numpy(), table.columns.to_numpy()
    image = ax.imshow(
        table.to_numpy(float).clip(0, 1), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1,
        extent=(-0.5, len(ks) - 0.5, steps.min(), steps.max()), interpolation="nearest",
    )
    ax.set_xticks(range(len(ks)), [str(k) for k in ks], fontsize=7)
    ax.set_xlabel("frequency k")
    ax.set_ylabel("training step")
    ax.set_title(title, fontsize=9)
    return image


def accuracy_heatmap(ax: plt.Axes, accuracy: pd.DataFrame, fontsize: float = 7) -> matplotlib.image.AxesImage:
    """Accuracy per (k, L), a frame indexed by L with a column per k (Figures 4 and 10): the colour
    spans [0.5, 1] (a classifier's floor is about its majority class), a cell with no value is grey,
    and small grids print each cell's value."""
    values = accuracy.to_numpy(float)
    cmap = plt.get_cmap("viridis").with_extremes(bad="lightgrey")
    image = ax.imshow(np.ma.masked_invalid(values), origin="lower", aspect="auto", cmap=cmap, vmin=0.5, vmax=1.0)
    ax.set_xticks(range(len(accuracy.columns)), [str(k) for k in accuracy.columns])
    ax.set_yticks(range(len(accuracy.index)), [str(L) for L in accuracy.index])
    if values.size <= MAX_ANNOTATED_CELLS:
        for (row, col), value in np.ndenumerate(values):
            if np.isfinite(value):
                ax.text(col, row, f"{value:.2f}", ha="center", va="center", fontsize=fontsize, color="white" if value < 0.8 else "black")
    return image


def seeds_text(trials: pd.DataFrame, by: str) -> str:
    """How many seeds each value of `by` was averaged over: '3', or '2-3' where they differ."""
    counts = trials[trials["status"] == "ok"].groupby(by).size()
    if counts.empty:
        return "0"
    return f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"


def net_text(config: dict) -> str:
    """The net and schedule of a trial's config, as a figure's subtitle says them."""
    return f"{config['depth']}x{config['width']} ReLU net, {config['steps']} full-batch Adam steps, N={config['n_points']}"
