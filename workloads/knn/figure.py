"""Figure 10 of a stored sweep: k-NN accuracy heatmaps per K, and the radial spectra beside the net's."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt

from workloads.experiment import SweepData
from workloads.plots import LETTERS, accuracy_heatmap, net_text, save


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 10: (a-d) training accuracy of each K's k-NN per (k, L), as Figure 4; (e) the
    radial spectrum zeta of each classifier's probability map at the spectrum point, the net's too."""
    accuracy = data.table("classifier_accuracy", "k", "L")
    knn = accuracy[accuracy["classifier"] == "knn"]
    spectra = data.table("radial_spectra")
    config = data.trials.iloc[0]  # the first trial: its config fields are columns
    all_k, all_L = sorted(data.trials["k"].unique()), sorted(data.trials["L"].unique())
    neighbors = sorted(int(n) for n in knn["neighbors"].unique())  # a float column: the net's rows leave it null
    rows_of_maps = 2 if len(neighbors) > 2 else 1  # the heatmaps in a block, the spectrum beside them
    columns = max(1, math.ceil(len(neighbors) / rows_of_maps))
    fig = plt.figure(figsize=(3.7 * columns + 5.2 * (not spectra.empty) + 1, 3.6 * rows_of_maps + 0.6), constrained_layout=True)
    grid = fig.add_gridspec(rows_of_maps, columns + 1, width_ratios=[1] * columns + [1.5 if not spectra.empty else 0.01])
    maps = [fig.add_subplot(grid[i // columns, i % columns]) for i in range(len(neighbors))]
    image = None
    for ax, count, letter in zip(maps, neighbors, LETTERS):
        table = knn[knn["neighbors"] == count].pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
        image = accuracy_heatmap(ax, table.reindex(index=all_L, columns=all_k), fontsize=5)
        ax.tick_params(axis="x", labelsize=6, labelrotation=90)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_xlabel("frequency k")
        ax.set_ylabel("L")
        ax.set_title(f"({letter}) k-NN, K = {count}: training accuracy", fontsize=8)
    if image is not None:
        fig.colorbar(image, ax=maps, label="training accuracy (mean over seeds)", shrink=0.85)
    if not spectra.empty:
        ax = fig.add_subplot(grid[:, -1])
        for (classifier, count), rows in spectra.fillna({"neighbors": 0}).groupby(["classifier", "neighbors"]):
            mean = rows[rows["frequency"] > 0].groupby("frequency")["zeta"].mean()
            net = classifier == "net"
            style = {"color": "black", "linewidth": 2, "label": "net"} if net else {"linewidth": 1, "label": f"k-NN, K = {int(count)}"}
            ax.loglog(mean.index, mean.to_numpy(), **style)
        ax.set_xlabel("radial frequency (cycles per side of the box)")
        ax.set_ylabel(r"$\zeta$ (|DFT| summed over the angle)")
        at = config["spectrum_at"]
        ax.set_title(f"({LETTERS[len(neighbors)]}) radial spectrum of P(class 1) at k = {at[0]}, L = {at[1]}", fontsize=8)
        ax.legend(fontsize=6)
    fig.suptitle(
        f"Figure 10: k-NN classifiers on Experiment 3's task, and their smoothness beside the net's   [sweep '{data.name}']\n"
        f"label = sin(2$\\pi$kz+$\\varphi$) > {config['threshold']}; net: {net_text(config)}; "
        f"box [-{config['box_half_width']}, {config['box_half_width']}]$^2$",
        fontsize=8,
    )
    return save(fig, out_dir, f"figure10_{data.name}")
