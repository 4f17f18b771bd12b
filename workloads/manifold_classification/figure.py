"""Figure 4 of a stored Experiment 3 sweep."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from workloads.experiment import SweepData
from workloads.plots import accuracy_heatmap, net_text, save


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 4: final training accuracy per (k, L), mean over seeds, with the majority baseline.

    x: frequency k, y: L; one cell per grid point. Cells with no successful trial are grey. Under
    each k, the majority-class baseline of its labels: it varies with k (how the grid meets the
    threshold), and a cell is only as good as its distance above it.
    """
    rows = data.table(data.experiment)
    accuracy = rows.pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
    all_k, all_L = sorted(data.trials["k"].unique()), sorted(data.trials["L"].unique())
    accuracy = accuracy.reindex(index=all_L, columns=all_k)
    baseline_by_k = rows.groupby("k")["baseline_accuracy"].mean().reindex(all_k)
    seeds_per_cell = rows.groupby(["k", "L"]).size()
    baseline = float(rows["baseline_accuracy"].mean()) if len(rows) else float("nan")
    config = data.trials.iloc[0]  # the first trial: its config fields are columns

    fig, ax = plt.subplots(figsize=(max(6.5, 1.5 + 0.75 * len(all_k)), max(4.5, 1.6 + 0.42 * len(all_L))))
    image = accuracy_heatmap(ax, accuracy)
    ax.set_xticks(range(len(all_k)), [f"{k}\n{b:.2f}" if np.isfinite(b) else f"{k}\n-" for k, b in baseline_by_k.items()])
    ax.set_xlabel("frequency k of the target sine (periods over the latent z); under it, its majority-class baseline")
    ax.set_ylabel(r"L (petals of the manifold $\gamma_L$)")
    colorbar = fig.colorbar(image, ax=ax)
    counts = sorted(set(seeds_per_cell)) or [0]
    n_seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    colorbar.set_label(f"final training accuracy (mean over {n_seeds} seed{'s' * (n_seeds != '1')})")
    if np.isfinite(baseline):
        colorbar.ax.axhline(baseline, color="red", linewidth=2)
        ax.annotate(
            f"Red line on the colour bar: the mean majority-class baseline, {baseline:.2f} "
            f"(threshold {config['threshold']} makes the classes about 1:2). Grey: no successful trial.",
            xy=(0, 0), xycoords="axes fraction", xytext=(0, -58), textcoords="offset points",
            va="top", fontsize=7, color="dimgray",
        )
    ax.set_title(
        f"Figure 4: final training accuracy per (k, L)   [sweep '{data.name}']\n"
        f"{net_text(config)}, label = sin(2$\\pi$kz+$\\varphi$) > {config['threshold']}",
        fontsize=9,
    )
    return save(fig, out_dir, f"figure4_{data.name}")
