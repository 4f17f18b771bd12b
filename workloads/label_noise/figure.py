"""The slides' label-noise figure (panels a-d) of a stored label-noise sweep."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from workloads import images
from workloads.claims import ok_trials, spread_over
from workloads.experiment import SweepData
from workloads.plots import LETTERS, net_text, save


def panels(frequencies: list[float], amplitudes: list[float]) -> list[tuple[str, float, str]]:
    """The slides' four panels as (the field held fixed, its value, the field the lines vary):
    the lowest and highest k with a line per beta, then beta = 0.5 (or the middle beta) and the
    largest beta with a line per k; a panel with a single line is left out."""
    middle = 0.5 if 0.5 in amplitudes else amplitudes[len(amplitudes) // 2]
    chosen = [("noise_frequency", frequencies[0], "noise_amplitude"), ("noise_frequency", frequencies[-1], "noise_amplitude"),
              ("noise_amplitude", middle, "noise_frequency"), ("noise_amplitude", amplitudes[-1], "noise_frequency")]
    unique = list(dict.fromkeys(chosen))
    return [p for p in unique if len(frequencies if p[2] == "noise_frequency" else amplitudes) > 1]


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Validation loss (log scale, mean over seeds) against the step: per noise frequency, a line
    per amplitude; per amplitude, a line per frequency."""
    curves = data.table("validation_curves", "noise_frequency", "noise_amplitude")
    curves = spread_over(curves, "noise_frequency", sorted(curves["noise_frequency"].dropna().unique()))  # beta = 0: the baseline at every k
    frequencies, amplitudes = sorted(curves["noise_frequency"].unique()), sorted(curves["noise_amplitude"].unique())
    chosen = panels(frequencies, amplitudes) or [("noise_frequency", frequencies[0], "noise_amplitude")]
    columns = min(2, len(chosen))  # the slides' 2 x 2
    rows_of_panels = -(-len(chosen) // columns)
    fig, axes = plt.subplots(rows_of_panels, columns, figsize=(5.2 * columns, 4 * rows_of_panels), squeeze=False, constrained_layout=True)
    names = {"noise_frequency": "k", "noise_amplitude": r"$\beta$"}
    for letter, ax, (fixed, value, varied) in zip(LETTERS, axes.flat, chosen):
        rows = curves[np.isclose(curves[fixed], value)]
        mean = rows.pivot_table(index="step", columns=varied, values="validation_loss", aggfunc="mean")
        colours = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(mean.columns)))
        for colour, line in zip(colours, mean.columns):
            ax.plot(mean.index, mean[line].to_numpy(), color=colour, linewidth=1, label=f"{names[varied]} = {line:g}")
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("validation loss (MSE to clean labels)")
        ax.set_title(f"({letter}) {names[fixed]} = {value:g}", fontsize=9)
        ax.legend(fontsize=7)
    config = data.trials.iloc[0]
    seeds = ok_trials(data.trials)["seed"].nunique()
    dataset = images.TITLES[config.get("dataset") or "digits"]
    fig.suptitle(
        f"Label noise {names['noise_amplitude']} sin(2$\\pi$ k ||x||) on {dataset} {config['classes'][0]} vs {config['classes'][1]}: "
        f"validation loss, mean over {seeds} seed(s)   [sweep '{data.name}']\n"
        f"{net_text(config)}, {_train_count(config)} training images, k in periods per unit of ||x||",
        fontsize=9,
    )
    return save(fig, out_dir, f"label_noise_{data.name}")


def _train_count(config: pd.Series) -> int:
    return int(config["validation_split"] * config["n_points"])
