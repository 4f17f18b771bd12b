"""The paper's figures, drawn from the store alone (pandas in, PNG and PDF out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # files only: figures are drawn on headless machines and in CI
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from orchestrator.store import read_table, with_integer_columns  # noqa: E402
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


def figure4(store: Path, trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
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


def _of_trials(store: Path, table: str, trials: pd.DataFrame) -> pd.DataFrame:
    rows = read_table(store, table)
    return rows[rows["trial_id"].isin(trials.loc[trials["status"] == "ok", "trial_id"])]


def _spectrum_heatmap(fig: plt.Figure, ax: plt.Axes, spectra: pd.DataFrame, title: str) -> None:
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


def _seeds_text(trials: pd.DataFrame, by: str) -> str:
    counts = trials[trials["status"] == "ok"].groupby(by).size()
    return f"{counts.min()}" if counts.min() == counts.max() else f"{counts.min()}-{counts.max()}"


def figure3(store: Path, trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """Figure 3: spectrum evolution of f o gamma_L per L (a-d), and the MSE curves of all L (e)."""
    spectra = _of_trials(store, "spectra", trials).merge(trials[["trial_id", "L"]], on="trial_id")
    curves = _of_trials(store, "curves", trials).merge(trials[["trial_id", "L"]], on="trial_id")
    all_L = sorted(spectra["L"].unique())
    config = json.loads(trials["config_json"].iloc[0])
    fig, axes = plt.subplots(1, len(all_L) + 1, figsize=(3.2 * (len(all_L) + 1), 3.8), constrained_layout=True)
    image = None
    for ax, L, letter in zip(axes, all_L, "abcdefghij"):
        image = _spectrum_heatmap(fig, ax, spectra[spectra["L"] == L], f"({letter}) L = {L}")
    fig.colorbar(image, ax=axes[:-1], label=f"|F(k)| / A (mean over {_seeds_text(trials, 'L')} seeds), clipped to [0, 1]", shrink=0.9)
    loss_ax = axes[-1]
    for L in all_L:
        mean = curves[curves["L"] == L].groupby("step")["loss"].mean()
        loss_ax.plot(mean.index, mean.to_numpy(), label=f"L = {L}")
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("training step")
    loss_ax.xaxis.set_major_locator(MaxNLocator(4))
    loss_ax.set_ylabel("MSE (mean over seeds)")
    loss_ax.set_title(f"({'abcdefghij'[len(all_L)]}) loss", fontsize=9)
    loss_ax.legend(fontsize=7)
    fig.suptitle(
        f"Figure 3: spectrum of f$\\circ\\gamma_L$ during training, per L   [sweep '{sweep}']\n"
        f"{config['depth']}x{config['width']} ReLU net, {config['steps']} full-batch Adam steps, N={config['n_points']}",
        fontsize=9,
    )
    return _save(fig, out_dir, f"figure3_{sweep}")


def figure1(store: Path, trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """Figure 1 per amplitude setting: spectrum evolution (left) and each layer's spectral norm
    (right); also draws Figure 6 (the learned function over the target at a few steps)."""
    spectra = _of_trials(store, "spectra", trials).merge(trials[["trial_id", "amplitudes"]], on="trial_id")
    norms = _of_trials(store, "layer_norms", trials).merge(trials[["trial_id", "amplitudes"]], on="trial_id")
    settings = [s for s in ("equal", "increasing") if s in set(spectra["amplitudes"])]
    config = json.loads(trials["config_json"].iloc[0])
    fig, axes = plt.subplots(len(settings), 2, figsize=(10, 3.6 * len(settings)), squeeze=False, constrained_layout=True)
    for row, setting in zip(axes, settings):
        image = _spectrum_heatmap(fig, row[0], spectra[spectra["amplitudes"] == setting], f"{setting} amplitudes: |F(k)| / A")
        fig.colorbar(image, ax=row[0], label=f"mean over {_seeds_text(trials, 'amplitudes')} seeds, clipped to [0, 1]")
        mean = norms[norms["amplitudes"] == setting].groupby(["step", "layer"])["spectral_norm"].mean().unstack("layer")
        for layer in mean.columns:
            row[1].plot(mean.index, mean[layer].to_numpy(), label=f"layer {layer}")
        row[1].set_xlabel("training step")
        row[1].xaxis.set_major_locator(MaxNLocator(5))  # 20 000-step labels would run together
        row[1].set_ylabel("spectral norm (mean over seeds)")
        row[1].set_title(f"{setting} amplitudes: spectral norm of each weight matrix", fontsize=9)
        row[1].legend(fontsize=6, ncol=2)
    fig.suptitle(
        f"Figure 1: which frequencies are learned when   [sweep '{sweep}']\n"
        f"{config['depth']}x{config['width']} ReLU net, {config['steps']} full-batch Adam steps, N={config['n_points']}",
        fontsize=9,
    )
    return _save(fig, out_dir, f"figure1_{sweep}") + figure6(store, trials, sweep, out_dir)


def figure6(store: Path, trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """Figure 6: the learned function (colour) over the target (grey) at the stored steps, first seed."""
    functions = _of_trials(store, "functions", trials).merge(trials[["trial_id", "amplitudes", "seed"]], on="trial_id")
    functions = functions[functions["seed"] == functions["seed"].min()]
    settings = [s for s in ("equal", "increasing") if s in set(functions["amplitudes"])]
    steps = sorted(functions["step"].unique())
    fig, axes = plt.subplots(
        len(settings), len(steps), figsize=(3 * len(steps), 2.4 * len(settings)), squeeze=False, constrained_layout=True, sharey="row"
    )
    for row, setting in zip(axes, settings):
        for ax, step in zip(row, steps):
            rows = functions[(functions["amplitudes"] == setting) & (functions["step"] == step)].sort_values("z")
            ax.plot(rows["z"], rows["target"], color="lightgrey", linewidth=2, label="target")
            ax.plot(rows["z"], rows["prediction"], color="tab:blue", linewidth=1, label="network")
            ax.set_title(f"{setting}, step {step}", fontsize=8)
            ax.set_xlabel("z")
        row[0].legend(fontsize=6)
    fig.suptitle(f"Figure 6: the learned function over the target   [sweep '{sweep}', seed {functions['seed'].min()}]", fontsize=9)
    return _save(fig, out_dir, f"figure6_{sweep}")


def figure5(store: Path, trials: pd.DataFrame, sweep: str, out_dir: Path) -> list[Path]:
    """Figure 5: normalized magnitude per (delta, k) of the perturbed nets, both readings."""
    rows = _of_trials(store, "perturbation_spectra", trials)
    config = json.loads(trials["config_json"].iloc[0])
    readings = [
        ("normalized_magnitude", r"$|F_{E\theta}(k)|\,/\,|F_{\theta^*}(k)|$: magnitude of the mean spectrum"),
        ("normalized_mean_magnitude", r"$E\,|F_{\theta}(k)|\,/\,|F_{\theta^*}(k)|$: mean of the magnitudes"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    for ax, (column, title) in zip(axes, readings):
        table = rows.pivot_table(index="delta", columns="k", values=column, aggfunc="mean")
        deltas, ks = table.index.to_numpy(), table.columns.to_numpy()
        image = ax.imshow(table.to_numpy(float).clip(0, 1), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(len(ks)), [str(k) for k in ks], fontsize=7)
        ticks = range(0, len(deltas), max(1, len(deltas) // 10))
        ax.set_yticks(list(ticks), [f"{deltas[i]:g}" for i in ticks], fontsize=7)
        ax.set_xlabel("frequency k")
        ax.set_ylabel(r"perturbation size $\delta$ (length in parameter space)")
        ax.set_title(title, fontsize=8)
    fig.colorbar(image, ax=axes, label=f"mean over {_seeds_text(trials, 'delta')} seeds, clipped to [0, 1]")
    fig.suptitle(
        f"Figure 5: what is left of each frequency after perturbing the trained parameters   [sweep '{sweep}']\n"
        f"{config['depth']}x{config['width']} ReLU net trained {config['steps']} steps, {config['directions']} random directions per $\\delta$",
        fontsize=9,
    )
    return _save(fig, out_dir, f"figure5_{sweep}")


FIGURES: dict[str, Callable[[Path, pd.DataFrame, str, Path], list[Path]]] = {
    "figure5": figure5,
    "figure1": figure1,
    "figure3": figure3,
    "figure4": figure4,
}
"""Figure name (as in workloads.REGISTRY) -> drawing function."""


def draw_figures(store: Path, sweep: str | None = None, out_dir: Path | None = None) -> list[Path]:
    """Draw the figure of every sweep in the store (or of one sweep); return the files written."""
    trials = read_table(store, "trials")
    out_dir = out_dir or store / FIGURES_DIR
    sweeps = [sweep] if sweep else sorted(trials["sweep"].unique())
    paths: list[Path] = []
    for name in sweeps:
        rows = with_integer_columns(trials[trials["sweep"] == name])
        if rows.empty:
            continue
        figure = FIGURES[REGISTRY[rows["experiment"].iloc[0]].figure]
        paths += figure(store, rows, name, out_dir)
    return paths
