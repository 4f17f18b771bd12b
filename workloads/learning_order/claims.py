"""Experiment 1's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import (
    HALF_MAGNITUDE,
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
    "share of the pairs of frequencies k < k' in which k' takes longer to learn than k (learning time: the area, in steps, "
    "above the seed-mean |F(k)|/A clipped to [0, 1]; a tie counts half; a pair neither of which reaches 0.5 is left out)",
    ">=", 0.9, "learning time (steps), by k",
    uses=("amplitudes",),
    figure=("Figure 1", "figure1"),
)
C1B = Claim(
    "C1b", "learning_order", "the layers' spectral norms grow as the net fits its higher frequencies (Figure 1, right; per amplitude setting)",
    "rho over the eval steps of (product of the layers' spectral norms, mean over the upper half of the k of |F(k)|/A clipped to [0, 1]); "
    "premise: that mean reaches 0.5", ">=", 0.8,
    "product of the layers' spectral norms, by step",
    uses=("amplitudes",),
    figure=("Figure 1", "figure1"),
)
CLAIMS = (C1, C1B)
"""Thresholds: C1's 0.9 is nine pairs of frequencies in ten learned lower first, whatever the
number of frequencies (over ten frequencies, four swaps of neighbours leave 41 of 45 pairs in
order). A frequency's learning time is the area above its curve: the step at which it reaches
half its amplitude for a curve that jumps there, and smooth in the seed means where that first
step is not (docs/verify.md, "Each claim's estimand"). C1b's 0.8 is Spearman's
rho over the eval steps (a hundred or more): the Lipschitz bound of Figure 1's right panel must
rise with the fit of the higher half of the spectrum, not merely with time while low frequencies
are fitted; a run that never fits its higher frequencies at all fails on that premise."""


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
    """C1: each k's learning time (the area above its seed-mean curve) rises with k."""
    last = float(curves["step"].max())
    found = crossings(curves, "step", "normalized_magnitude", below=False, after_last=last + 1.0)
    notes = never_note(found.never, "reached 0.5 within", last, "steps")
    if len(found.ks) < MIN_AXIS_VALUES:
        return verdict(C1, sweep, trials, series=found.series, notes=notes + [too_few("k", len(found.ks))])
    result = judge(C1, sweep, trials, found.evidence, found.series, notes, unresolved=found.unresolved)
    result.never_crossed = found.never
    return result


def norms_grow(sweep: str, trials: pd.DataFrame, curves: pd.DataFrame, norms: pd.DataFrame) -> Verdict:
    """C1b: over the eval steps, the product of the layers' spectral norms (seed mean of its log)
    rises with the fit of the higher frequencies (seed mean of the mean over the k above the median
    k of the normalized magnitude, clipped to [0, 1]); premise: that fit reaches HALF_MAGNITUDE.

    Over every k, the fit rises with time whatever the net does, and so do the norms: almost any
    net that trains would pass. Figure 1's point is that the norms grow as the higher frequencies
    are learned, so the statistic reads those alone, and a run that never learns them has no
    evidence for the claim."""
    if norms.empty:
        return verdict(C1B, sweep, trials, notes=["no layer_norms rows"])
    bound = norms.assign(log_norm=np.log(norms["spectral_norm"])).groupby(["seed", "step"], as_index=False)["log_norm"].sum()
    upper = curves[curves["k"] > np.median(np.unique(curves["k"]))]
    fit = upper.assign(fit=upper["normalized_magnitude"].clip(0, 1)).groupby(["seed", "step"], as_index=False)["fit"].mean()
    both = bound.merge(fit, on=["seed", "step"])
    log_bound, fitted = seed_stack(both, ["step"], "log_norm"), seed_stack(both, ["step"], "fit")
    steps = log_bound.axes[0]
    shown = sorted({int(i) for i in np.linspace(0, len(steps) - 1, 5)})
    series = {str(int(steps[i])): float(np.exp(log_bound.mean()[i])) for i in shown}
    evidence = Evidence(lambda w: rank_correlation(log_bound.mean(w[0]), fitted.mean(w[0])), (len(log_bound.seeds),), bounds=RHO_BOUNDS)
    fit_mean = fitted.mean()
    ks = ", ".join(str(int(k)) for k in np.unique(upper["k"]))
    notes = [f"k = {ks} (the upper half): mean |F(k)|/A {fit_mean[0]:.3f} at step {int(steps[0])}, {np.nanmax(fit_mean):.3f} at most, "
             f"{fit_mean[-1]:.3f} at step {int(steps[-1])}"]
    result = judge(C1B, sweep, trials, evidence, series, notes)
    if not np.nanmax(fit_mean) >= HALF_MAGNITUDE:
        result.premise_failed = f"the higher frequencies are never fitted (their mean |F(k)|/A reaches {np.nanmax(fit_mean):.3f} < {HALF_MAGNITUDE})"
        result.outcome = "fail"
        result.notes.append(f"premise failed: {result.premise_failed}")
    return result
