"""The kernel-spectrum figure of a stored sweep: the spectrum's evolution beside the loss curves."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from workloads import images
from workloads.claims import ok_trials
from workloads.experiment import SweepData
from workloads.plots import LETTERS, net_text, save

TITLES = {"white": "white noise U(-1, 1)", "high_frequency": "noise of high index n"}


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Per target noise: the net's |coefficients| per bin of n over the steps, as a share of the
    target's (mean over seeds, clipped to [0, 1]), above the training and clean losses; a figure
    per kernel width where the sweep has several (never a mean over kernels)."""
    trials = data.trials.assign(unit=data.trials.get("kernel_width_unit", "median_distance"))
    widths = sorted(set(zip(ok_trials(trials)["kernel_width"], ok_trials(trials)["unit"].fillna("median_distance"))))
    if len(widths) <= 1:
        return draw_one(data, out_dir, f"kernel_spectrum_{data.name}")
    paths = []
    for width, unit in widths:
        chosen = (trials["kernel_width"] == width) & (trials["unit"].fillna("median_distance") == unit)
        suffix = "px" if unit == "pixels" else ""
        paths += draw_one(data.subset(trials.loc[chosen, "trial_id"]), out_dir, f"kernel_spectrum_{data.name}_width{width:g}{suffix}")
    return paths


def draw_one(data: SweepData, out_dir: Path, stem: str) -> list[Path]:
    """The figure of trials that share one kernel width (see draw)."""
    spectra = data.table("kernel_spectra", "target_noise")
    curves = data.table("curves", "target_noise")
    clean = data.table("clean_curves", "target_noise")
    noises = [n for n in TITLES if n in set(spectra["target_noise"])]
    fig, axes = plt.subplots(2, len(noises), figsize=(5.2 * len(noises), 7), squeeze=False, constrained_layout=True)
    for column, noise in enumerate(noises):
        table = spectra[spectra["target_noise"] == noise].pivot_table(index="step", columns="bin", values="normalized_magnitude", aggfunc="mean")
        bounds = spectra.drop_duplicates("bin").set_index("bin").sort_index()
        top = axes[0][column]
        image = top.imshow(
            table.to_numpy(float).clip(0, 1), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest",
            extent=(-0.5, len(table.columns) - 0.5, table.index.min(), table.index.max()),
        )
        ticks = list(range(0, len(table.columns), max(1, len(table.columns) // 5)))
        top.set_xticks(ticks, [str(int(bounds.loc[table.columns[i], "first_index"])) for i in ticks], fontsize=7)
        top.set_xlabel("eigenvector index n (first of each bin; low n = large eigenvalue)")
        top.set_ylabel("training step")
        top.set_title(f"({LETTERS[column]}) {TITLES[noise]}: the net's spectrum / the target's", fontsize=9)
        bottom = axes[1][column]
        for rows, column_name, label, colour in ((curves, "loss", "training loss (noisy target)", "tab:orange"),
                                                 (clean, "clean_loss", "loss against the clean labels", "tab:blue")):
            mean = rows[rows["target_noise"] == noise].groupby("step")[column_name].mean()
            bottom.plot(mean.index, mean.to_numpy(), color=colour, label=label)
        bottom.set_yscale("log")
        bottom.set_xlabel("training step")
        bottom.set_ylabel("MSE (mean over seeds)")
        bottom.legend(fontsize=7)
    fig.colorbar(image, ax=axes[0].tolist(), label="mean over seeds, clipped to [0, 1]")
    config = data.trials.iloc[0]
    dataset = images.TITLES[config.get("dataset") or "digits"]
    unit = "pixel units" if config.get("kernel_width_unit") == "pixels" else "median distances"
    seeds = ok_trials(data.trials)["seed"].nunique()
    fig.suptitle(
        f"The net's function in a Gaussian kernel's eigenbasis, {dataset} {config['classes'][0]} vs {config['classes'][1]}, "
        f"{seeds} seed(s)   [sweep '{data.name}']\n{net_text(config)}, kernel width {config['kernel_width']:g} {unit}",
        fontsize=9,
    )
    return save(fig, out_dir, stem)
