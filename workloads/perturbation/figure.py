"""Figure 5 of a stored Experiment 4 sweep."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

from workloads.experiment import SweepData
from workloads.plots import net_text, save, seeds_text


def draw(data: SweepData, out_dir: Path) -> list[Path]:
    """Figure 5: normalized magnitude per (delta, k) of the perturbed nets, both readings, the
    authors' (the mean over directions of each perturbed net's magnitude) on the left."""
    rows = data.table("perturbation_spectra")
    config = data.trials.iloc[0]  # the first trial: its config fields are columns
    readings = [  # the authors' reading (their notebook; verify's C4) first
        ("normalized_mean_magnitude", r"$E\,|F_{\theta}(k)|\,/\,|F_{\theta^*}(k)|$: mean of the magnitudes (the authors', C4)"),
        ("normalized_magnitude", r"$|F_{E\theta}(k)|\,/\,|F_{\theta^*}(k)|$: magnitude of the mean spectrum"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    for ax, (column, title) in zip(axes, readings):
        table = rows.pivot_table(index="delta", columns="k", values=column, aggfunc="mean")
        deltas, ks = table.index.to_numpy(), table.columns.to_numpy()
        image = ax.imshow(table.to_numpy(float).clip(0, 1), origin="lower", aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_xticks(range(len(ks)), [str(k) for k in ks], fontsize=7)
        ticks = range(0, len(deltas), max(1, len(deltas) // 10))
        ax.set_yticks(list(ticks), [f"{deltas[i]:.3g}" for i in ticks], fontsize=7)
        ax.set_xlabel("frequency k")
        ax.set_ylabel(r"perturbation size $\delta$ (length in parameter space)")
        ax.set_title(title, fontsize=8)
    fig.colorbar(image, ax=axes, label=f"mean over {seeds_text(data.trials, 'delta')} seeds, clipped to [0, 1]")
    fig.suptitle(
        f"Figure 5: what is left of each frequency after perturbing the trained parameters   [sweep '{data.name}']\n"
        f"{net_text(config)}; {config['directions']} random directions per $\\delta$",
        fontsize=9,
    )
    return save(fig, out_dir, f"figure5_{data.name}")
