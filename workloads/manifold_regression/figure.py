"""Figure 3 of a stored Experiment 2 sweep."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

from workloads.experiment import SweepData
from workloads.plots import LETTERS, net_text, save, seeds_text, spectrum_heatmap


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 3: spectrum evolution of f o gamma_L per L (a-d), and the MSE curves of all L (e)."""
    spectra = data.table("spectra", "L")
    curves = data.table("curves", "L")
    all_L = sorted(spectra["L"].unique())
    config = data.trials.iloc[0]  # the first trial: its config fields are columns
    fig, axes = plt.subplots(1, len(all_L) + 1, figsize=(3.2 * (len(all_L) + 1), 3.8), constrained_layout=True)
    image = None
    for ax, L, letter in zip(axes, all_L, LETTERS):
        image = spectrum_heatmap(ax, spectra[spectra["L"] == L], f"({letter}) L = {L}")
    fig.colorbar(image, ax=axes[:-1], label=f"|F(k)| / A (mean over {seeds_text(data.trials, 'L')} seeds), clipped to [0, 1]", shrink=0.9)
    loss_ax = axes[-1]
    for L in all_L:
        mean = curves[curves["L"] == L].groupby("step")["loss"].mean()
        loss_ax.plot(mean.index, mean.to_numpy(), label=f"L = {L}")
    loss_ax.set_yscale("log")
    loss_ax.set_xlabel("training step")
    loss_ax.xaxis.set_major_locator(MaxNLocator(4))
    loss_ax.set_ylabel("MSE (mean over seeds)")
    loss_ax.set_title(f"({LETTERS[len(all_L)]}) loss", fontsize=9)
    loss_ax.legend(fontsize=7)
    fig.suptitle(f"Figure 3: spectrum of f$\\circ\\gamma_L$ during training, per L   [sweep '{data.name}']\n{net_text(config)}", fontsize=9)
    return save(fig, out_dir, f"figure3_{data.name}")
