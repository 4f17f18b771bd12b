"""Figure 2 of a stored sweep: two nets' decision functions, and where they disagree."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from workloads.claims import ok_trials
from workloads.decision_boundary.claims import differing, disagreement, seed_pairs
from workloads.experiment import SweepData
from workloads.plots import net_text, save

CLASS_COLOURS = ListedColormap(["#4477aa", "#cc3311"])  # class 0 blue, class 1 red, as the paper's


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 2: for the sweep's first two nets that differ in their seed alone, each net's
    predicted class (shaded) and confidence |logit| (contours) over the box, the training points on
    top; then where they differ. A sweep of several grid points draws its first."""
    pairs = seed_pairs(data.trials)
    nets = list(pairs[0]) if pairs else [row for _, row in ok_trials(data.trials).sort_values("seed").head(1).iterrows()]
    maps = data.table("decision_maps")
    accuracy = data.table(data.experiment).set_index("trial_id")["accuracy"]
    config = nets[0] if nets else data.trials.iloc[0]
    side, half = config["box_points"], config["box_half_width"]
    axis = np.linspace(-half, half, side)
    extent = (-half, half, -half, half)
    fig, axes = plt.subplots(1, len(nets) + (len(nets) == 2), figsize=(4.6 * (len(nets) + 1), 4.6), squeeze=False, constrained_layout=True)
    classes = []
    for ax, net in zip(axes[0], nets):
        rows = maps[maps["trial_id"] == net["trial_id"]]
        grid = rows[rows["region"] == "box"].sort_values(["y", "x"])["logit"].to_numpy().reshape(side, side)
        classes.append(grid > 0)
        ax.imshow(grid > 0, origin="lower", extent=extent, cmap=CLASS_COLOURS, alpha=0.45, vmin=0, vmax=1)
        levels = np.unique(np.quantile(np.abs(grid), [0.5, 0.9]))  # |logit| spans decades: contour where it is middling and high
        contours = ax.contour(axis, axis, np.abs(grid), levels=levels, colors="black", linewidths=0.4, alpha=0.7)
        ax.clabel(contours, fontsize=5)
        points = rows[rows["region"] == "manifold"]
        ax.scatter(points["x"], points["y"], c=points["label"], cmap=CLASS_COLOURS, s=4, vmin=0, vmax=1, edgecolors="none", zorder=3)
        ax.set_title(f"net of seed {net['seed']}: training accuracy {accuracy.get(net['trial_id'], float('nan')):.2f}", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    if len(nets) == 2:
        ax = axes[0][-1]
        ax.imshow(classes[0] != classes[1], origin="lower", extent=extent, cmap="Greys", vmin=0, vmax=1.5)
        ids = [net["trial_id"] for net in nets]
        differ = differing(maps, "manifold", *ids)
        for mask, style in ((~differ, {"color": "tab:blue", "s": 0.3}), (differ, {"color": "tab:orange", "s": 2.5})):
            points = differ[mask].index.to_frame()
            ax.scatter(points["x"], points["y"], **style)
        on, off = float(differ.mean()), disagreement(maps, "box", *ids)
        title = f"where their classes differ: {100 * off:.0f}% of the box (grey),\n{100 * on:.1f}% of the training points (orange; blue: agree)"
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x")
    fig.suptitle(
        f"Figure 2: two nets identical up to initialisation   [sweep '{data.name}']\n"
        f"shaded: predicted class (red 1, blue 0); contours: |logit| at its median and 90th percentile over the box; dots: training points by label. "
        f"k = {config['k']}, L = {config['L']}, {net_text(config)}",
        fontsize=9,
    )
    return save(fig, out_dir, f"figure2_{data.name}")
