"""Figure 7 of a stored Experiment 5 sweep: the loss curves on the two kinds of inputs."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from workloads.experiment import SweepData
from workloads.images import PIXELS, TITLES
from workloads.plots import net_text, save, seeds_text

STYLE = {"manifold": ("tab:blue", "image reconstructions (a real data manifold)"), "flat": ("tab:green", "a flat subspace")}


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 7: the mean loss over seeds per step for each kind of inputs, the seeds' range shaded."""
    curves = data.table("curves", "inputs")
    config = data.trials.iloc[0]  # the first trial: its config fields are columns
    fig, ax = plt.subplots(figsize=(7, 4.4), constrained_layout=True)
    for inputs, (colour, label) in STYLE.items():
        rows = curves[curves["inputs"] == inputs]
        if rows.empty:
            continue
        by_step = rows.groupby("step")["loss"]
        mean, low, high = by_step.mean(), by_step.min(), by_step.max()
        ax.plot(mean.index, mean.to_numpy(), color=colour, label=f"{label} (mean over {seeds_text(data.trials, 'inputs')} seeds)")
        ax.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=colour, alpha=0.2, linewidth=0)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("MSE to white-noise targets (shaded: the seeds' range)")
    ax.legend(fontsize=8)
    dataset = config.get("dataset") or "digits"
    ax.set_title(
        f"Figure 7: regressing white noise on two manifolds of dimension {config['code_dim']}   [sweep '{data.name}']\n"
        f"{net_text(config)} of {PIXELS[dataset]} dimensions ({TITLES[dataset]}), learning rate {config['learning_rate']:g}",
        fontsize=9,
    )
    return save(fig, out_dir, f"figure7_{data.name}")
