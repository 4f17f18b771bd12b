"""What the experiments' figures share: saving PNG and PDF, spectrum and accuracy heatmaps, seed counts.

Figures are drawn from the store alone (pandas in, files out) on machines with no screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: figures are drawn on headless machines and in CI
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from results_schema import TrialStatus  # noqa: E402

MAX_ANNOTATED_CELLS = 150
"""Heatmaps with at most this many cells print each cell's value; larger ones would be unreadable."""

LETTERS = "abcdefghijklmnopqrstuvwxyz"
"""Panel letters, as the paper labels its sub-figures."""


def save(fig: plt.Figure, out_dir: Path, stem: str) -> list[Path]:
    """Write `fig` as `stem`.png and `stem`.pdf under `out_dir`; return both paths. A link found
    where a figure goes is replaced, never written through: a figure is a file of its own."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{stem}.png", out_dir / f"{stem}.pdf"]
    for path in paths:
        if path.is_symlink():
            path.unlink()
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
    counts = trials[trials["status"] == TrialStatus.OK].groupby(by).size()
    if counts.empty:
        return "0"
    return f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"


def net_text(config: Mapping[str, Any]) -> str:
    """The net and schedule of a trial's config, as a figure's subtitle says them: its shape, its
    activation, its input encoding when it has one, and its optimizer."""
    name = config.get("activation", "relu")
    activation = f"sine (omega {config.get('sine_omega', 30):g})" if name == "sine" else {"relu": "ReLU", "tanh": "tanh"}[name]
    encoding = (f", Fourier features ({config.get('fourier_features')} at scale {config.get('fourier_scale'):g})"
                if config.get("encoding", "none") == "fourier" else "")
    optimizer = "Adam" if config.get("optimizer", "adam") == "adam" else f"SGD (momentum {config.get('momentum', 0.9):g})"
    return f"{config['depth']}x{config['width']} {activation} net{encoding}, {config['steps']} full-batch {optimizer} steps, N={config['n_points']}"


OUTCOME_COLOURS = {"pass": "tab:green", "fail": "tab:red", "inconclusive": "tab:orange", "unreplicated": "tab:purple"}


def verdicts_by_axis(verdicts: list, out_dir: Path, stem: str, sweep: str) -> list[Path]:
    """Each claim's statistic (dot) and interval (bar, at the verdict's level) against the values of the grid axes it
    does not use, coloured by verdict, its threshold dashed: where a claim holds and where it breaks.
    A failed verdict whose statistic is undefined is an x on the threshold.
    `verdicts` are workloads.claims.Verdict objects of one sweep carrying `axes`."""
    shown = [v for v in verdicts if v.axes and (v.value is not None or v.outcome == "fail")]
    claims = list(dict.fromkeys(v.claim_id for v in shown))
    if not claims:
        return []
    fig, axes = plt.subplots(len(claims), 1, figsize=(max(6.0, 1.1 * len({_axes_label(v) for v in shown}) + 3), 2.6 * len(claims)),
                             squeeze=False, constrained_layout=True)
    for ax, claim in zip(axes[:, 0], claims):
        rows = [v for v in shown if v.claim_id == claim]
        labels = list(dict.fromkeys(_axes_label(v) for v in rows))
        inner = list(dict.fromkeys(_inner_group(v) for v in rows))
        for offset_index, group in enumerate(inner):
            offset = (offset_index - (len(inner) - 1) / 2) * 0.15
            for v in (v for v in rows if _inner_group(v) == group):
                x = labels.index(_axes_label(v)) + offset
                colour = OUTCOME_COLOURS.get(v.outcome, "grey")
                if v.value is None:  # a statistic with no value failed (e.g. every k learned at one step: no order)
                    ax.plot(x, v.threshold, "x", color=colour, markersize=7)
                    ax.annotate("undefined", (x, v.threshold), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=6, color=colour)
                    continue
                if v.interval:
                    ax.errorbar(x, v.value, yerr=[[v.value - v.interval[0]], [v.interval[1] - v.value]], color=colour, capsize=3, linewidth=1)
                ax.plot(x, v.value, "o" if offset_index == 0 else "s", color=colour, markersize=5)
            if group:
                ax.plot([], [], "o" if offset_index == 0 else "s", color="black", label=group)
        ax.axhline(rows[0].threshold, color="black", linestyle="--", linewidth=0.8, label=f"threshold {rows[0].comparison} {rows[0].threshold:g}")
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_ylabel(claim)
        ax.set_title(f"{claim}: {rows[0].statistic}", fontsize=8)
        ax.legend(fontsize=6, loc="best")
    fig.suptitle(f"Verdicts per grid value   [sweep '{sweep}']   green: pass, red: fail, orange: inconclusive, "
                 "purple: unreplicated (no interval); bars: each verdict's interval over seeds (97.5% at its first look)", fontsize=9)
    return save(fig, out_dir, stem)


def _axes_label(verdict: object) -> str:
    return "\n".join(f"{axis}: {value}" for axis, value in verdict.axes.items())  # type: ignore[attr-defined]


def _inner_group(verdict: object) -> str:
    group = verdict.group or ""  # type: ignore[attr-defined]
    return group.split("; ", 1)[1] if "; " in group else ""
