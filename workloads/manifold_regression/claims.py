"""Experiment 2's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import (
    MIN_AXIS_VALUES,
    Claim,
    Verdict,
    correlate,
    judge,
    ok_trials,
    rank_evidence,
    seed_stack,
    too_few,
    verdict,
)
from workloads.experiment import SweepData

C2 = Claim(
    "C2", "manifold_regression", "the loss falls as the manifold gets more complex (Experiment 2)",
    "rho(L, final MSE)", "<=", -0.8, "final MSE, by L",
    uses=("L",),
    figure=("Figure 3", "figure3"),
)
C2B = Claim(
    "C2b", "manifold_regression", "high frequencies are learned sooner on more complex manifolds (Experiment 2, Figure 3 a-d)",
    "rho(L, mean over eval steps and over the upper half of the k of |F(k)|/A, seed mean clipped to [0, 1])", ">=", 0.8,
    "high frequencies' |F(k)|/A averaged over training, by L",
    uses=("L",),
    figure=("Figure 3", "figure3"),
)
CLAIMS = (C2, C2B)
"""Thresholds: with the paper's four L, +-0.8 is one swap of neighbouring values from a perfect
order. C2b's statistic is the share of Figure 3's heatmap, above the median frequency, that has
filled in, averaged over training: the sooner the high frequencies are learned, the larger it is."""


def check(data: SweepData) -> list[Verdict]:
    """C2: the final MSE, mean over seeds, falls as L grows; C2b: the high frequencies' normalized
    magnitude, averaged over training, rises with L."""
    trials = ok_trials(data.trials)
    return [correlate(C2, data.name, trials, seed_stack(trials, ["L"], "loss"), []), high_frequencies_sooner(data, trials)]


def high_frequencies_sooner(data: SweepData, trials: pd.DataFrame) -> Verdict:
    """C2b over the frequencies above the median of the target's."""
    spectra = data.table("spectra", "L", "seed")
    if spectra.empty:
        return verdict(C2B, data.name, trials, notes=["no spectra rows"])
    upper = spectra[spectra["k"] > spectra["k"].median()]
    stack = seed_stack(upper, ["L", "step", "k"], "normalized_magnitude")
    Ls = stack.axes[0]

    def filled(weights: np.ndarray | None = None) -> np.ndarray:
        return np.nanmean(np.clip(stack.mean(weights), 0, 1), axis=(1, 2))

    point = filled()
    series = {str(int(L)): float(v) for L, v in zip(Ls, point)}
    notes = [f"k = {', '.join(str(int(k)) for k in stack.axes[2])}, over {len(stack.axes[1])} eval steps"]
    if len(Ls) < MIN_AXIS_VALUES:
        return verdict(C2B, data.name, trials, series=series, notes=notes + [too_few("L", len(Ls))])
    evidence = rank_evidence(Ls, lambda w: filled(w[0]), (len(stack.seeds),))
    if evidence is None:
        return verdict(C2B, data.name, trials, series=series, outcome="fail", notes=notes + ["the statistic is undefined: its values are all equal"])
    return judge(C2B, data.name, trials, evidence, series, notes)
