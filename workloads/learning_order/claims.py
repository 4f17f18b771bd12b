"""Experiment 1's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import (
    MIN_AXIS_VALUES,
    RHO_BOUNDS,
    Claim,
    Evidence,
    Verdict,
    crossings,
    judge,
    never_note,
    ok_trials,
    rank_correlation,
    seed_stack,
    too_few,
    verdict,
)
from workloads.experiment import SweepData

C1 = Claim(
    "C1", "learning_order", "lower frequencies are learned first (Experiment 1, per amplitude setting)",
    "rho(k, first step at which |F(k)|/A >= 0.5)", ">=", 0.9, "first step at 0.5, by k",
    uses=("amplitudes",),
)
C1B = Claim(
    "C1b", "learning_order", "the layers' spectral norms grow as the net fits its frequencies (Figure 1, right; per amplitude setting)",
    "rho over the eval steps of (product of the layers' spectral norms, mean over k of |F(k)|/A clipped to [0, 1])", ">=", 0.8,
    "product of the layers' spectral norms, by step",
    uses=("amplitudes",),
)
CLAIMS = (C1, C1B)
"""Thresholds: C1's 0.9 allows one swap of neighbouring frequencies among ten; C1b's 0.8 asks the
Lipschitz bound of Figure 1's right panel to rise with the fit of the spectrum on its left over
the whole run, leaving room for full-batch Adam's brief loss spikes."""


def check(data: SweepData) -> list[Verdict]:
    """C1 and C1b per amplitude setting."""
    trials = ok_trials(data.trials)
    spectra = data.table("spectra", "amplitudes", "seed")
    norms = data.table("layer_norms", "amplitudes", "seed")
    verdicts = []
    for setting, rows in trials.groupby("amplitudes", sort=True):
        curves = spectra[spectra["amplitudes"] == setting]
        if curves.empty:
            continue
        for result in (learned_in_order(data.name, rows, curves), norms_grow(data.name, rows, curves, norms[norms["amplitudes"] == setting])):
            result.group = f"amplitudes: {setting}"
            verdicts.append(result)
    return verdicts  # verify orders them by claim


def learned_in_order(sweep: str, trials: pd.DataFrame, curves: pd.DataFrame) -> Verdict:
    """C1: the first step at which each k reaches half its amplitude (seed mean) rises with k."""
    last = float(curves["step"].max())
    found = crossings(curves, "step", "normalized_magnitude", below=False, after_last=last + 1.0)
    notes = never_note(found.never, "reached 0.5 within", last, "steps")
    if len(found.ks) < MIN_AXIS_VALUES:
        return verdict(C1, sweep, trials, series=found.series, notes=notes + [too_few("k", len(found.ks))])
    result = judge(C1, sweep, trials, found.evidence, found.series, notes)
    result.never_crossed = found.never
    return result


def norms_grow(sweep: str, trials: pd.DataFrame, curves: pd.DataFrame, norms: pd.DataFrame) -> Verdict:
    """C1b: over the eval steps, the product of the layers' spectral norms (seed mean of its log)
    rises with the mean normalized magnitude (seed mean, clipped to [0, 1], over every k)."""
    if norms.empty:
        return verdict(C1B, sweep, trials, notes=["no layer_norms rows"])
    bound = norms.assign(log_norm=np.log(norms["spectral_norm"])).groupby(["seed", "step"], as_index=False)["log_norm"].sum()
    fit = curves.assign(fit=curves["normalized_magnitude"].clip(0, 1)).groupby(["seed", "step"], as_index=False)["fit"].mean()
    both = bound.merge(fit, on=["seed", "step"])
    log_bound, fitted = seed_stack(both, ["step"], "log_norm"), seed_stack(both, ["step"], "fit")
    steps = log_bound.axes[0]
    shown = sorted({int(i) for i in np.linspace(0, len(steps) - 1, 5)})
    series = {str(int(steps[i])): float(np.exp(log_bound.mean()[i])) for i in shown}
    evidence = Evidence(lambda w: rank_correlation(log_bound.mean(w[0]), fitted.mean(w[0])), (len(log_bound.seeds),), bounds=RHO_BOUNDS)
    fit_mean = fitted.mean()
    notes = [f"mean |F(k)|/A {fit_mean[0]:.3f} at step {int(steps[0])}, {fit_mean[-1]:.3f} at step {int(steps[-1])}"]
    return judge(C1B, sweep, trials, evidence, series, notes)
