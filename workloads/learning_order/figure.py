"""Figures 1 and 6 of a stored Experiment 1 sweep."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from workloads.claims import applied, varying_fields
from workloads.experiment import SweepData
from workloads.learning_order.config import LearningOrderConfig
from workloads.learning_order.trial import AMPLITUDE_SETTINGS
from workloads.plots import net_text, save, seeds_text, spectrum_heatmap


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 1 per amplitude setting: spectrum evolution (left) and each layer's spectral norm
    (right); and Figure 6, the learned function over the target at a few steps."""
    spectra = data.table("spectra", "amplitudes")
    norms = data.table("layer_norms", "amplitudes")
    settings = [s for s in AMPLITUDE_SETTINGS if s in set(spectra["amplitudes"])]
    config = data.trials.iloc[0]  # the first trial: its config fields are columns
    fig, axes = plt.subplots(len(settings), 2, figsize=(10, 3.6 * len(settings)), squeeze=False, constrained_layout=True)
    for row, setting in zip(axes, settings):
        image = spectrum_heatmap(row[0], spectra[spectra["amplitudes"] == setting], f"{setting} amplitudes: |F(k)| / A")
        fig.colorbar(image, ax=row[0], label=f"mean over {seeds_text(data.trials, 'amplitudes')} seeds, clipped to [0, 1]")
        mean = norms[norms["amplitudes"] == setting].groupby(["step", "layer"])["spectral_norm"].mean().unstack("layer")
        for layer in mean.columns:
            row[1].plot(mean.index, mean[layer].to_numpy(), label=f"layer {layer}")
        row[1].set_xlabel("training step")
        row[1].xaxis.set_major_locator(MaxNLocator(5))  # 20 000-step labels would run together
        row[1].set_ylabel("spectral norm (mean over seeds)")
        row[1].set_title(f"{setting} amplitudes: spectral norm of each weight matrix", fontsize=9)
        row[1].legend(fontsize=6, ncol=2)
    fig.suptitle(f"Figure 1: which frequencies are learned when   [sweep '{data.name}']\n{net_text(config)}", fontsize=9)
    return save(fig, out_dir, f"figure1_{data.name}") + figure6(data, out_dir) + figure1_by_axis(data, out_dir)


MAX_PANELS = 16
"""Figure 1's heatmaps side by side for at most this many values of a sweep's other axes."""


def figure1_by_axis(data: SweepData, out_dir: Path) -> list[Path]:
    """For a sweep over more than the amplitude setting (an encoding's scale, the activation, the
    optimizer, the net's size): Figure 1's heatmap side by side for each value, first setting only."""
    fields = [f.name for f in dataclasses.fields(LearningOrderConfig) if f.name not in ("seed", "amplitudes")]
    axes = varying_fields(data.trials, fields)
    if not axes:
        return []
    spectra = data.table("spectra", "amplitudes", *axes)
    setting = next(s for s in AMPLITUDE_SETTINGS if s in set(spectra["amplitudes"]))
    spectra = spectra[spectra["amplitudes"] == setting]
    groups = list(spectra.groupby(axes, sort=True, dropna=False))[:MAX_PANELS]
    columns = min(4, len(groups))
    rows_of_panels = -(-len(groups) // columns)
    fig, panels = plt.subplots(rows_of_panels, columns, figsize=(3.4 * columns, 3.4 * rows_of_panels), squeeze=False, constrained_layout=True)
    for ax in panels.flat[len(groups):]:
        ax.set_visible(False)
    for ax, (values, rows) in zip(panels.flat, groups):
        values = values if isinstance(values, tuple) else (values,)
        label = "\n".join(f"{axis}: {value:g}" if isinstance(value, float) else f"{axis}: {value}" for axis, value in applied(axes, values).items())
        image = spectrum_heatmap(ax, rows, label)
    fig.colorbar(image, ax=panels.flat[: len(groups)].tolist(), label="|F(k)| / A, mean over seeds, clipped to [0, 1]")
    fig.suptitle(f"Figure 1 ({setting} amplitudes) by {', '.join(axes)}   [sweep '{data.name}']", fontsize=9)
    return save(fig, out_dir, f"figure1_{data.name}_by_axis")


def figure6(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 6: the learned function (colour) over the target (grey) at the stored steps, first seed."""
    functions = data.table("functions", "amplitudes", "seed")
    functions = functions[functions["seed"] == functions["seed"].min()]
    settings = [s for s in AMPLITUDE_SETTINGS if s in set(functions["amplitudes"])]
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
    fig.suptitle(f"Figure 6: the learned function over the target   [sweep '{data.name}', seed {functions['seed'].min()}]", fontsize=9)
    return save(fig, out_dir, f"figure6_{data.name}")
