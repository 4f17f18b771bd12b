"""The label-noise experiment's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np

from workloads.claims import (
    MIN_AXIS_VALUES,
    Claim,
    Evidence,
    Verdict,
    judge,
    ok_trials,
    rank_evidence,
    seed_stack,
    spread_over,
    too_few,
    verdict,
)
from workloads.experiment import SweepData

C8A = Claim(
    "C8a", "label_noise", "the amplitude of low-frequency label noise hurts validation (ICML slides, label noise a)",
    "rho(beta, best validation loss) at the lowest noise frequency k", ">=", 0.8, "best validation loss at the lowest k, by beta",
    uses=("noise_frequency", "noise_amplitude"),
    figure=("ICML slides: label noise on real data (a-d)", "label_noise"),
)
C8B = Claim(
    "C8b", "label_noise", "the amplitude of high-frequency label noise hardly affects the best validation loss (ICML slides, b)",
    "rise of the best validation loss from the smallest to the largest beta at the highest k, over the same rise at the lowest k",
    "<=", 0.5, "rise of the best validation loss from the smallest to the largest beta, by k",
    uses=("noise_frequency", "noise_amplitude"),
    figure=("ICML slides: label noise on real data (a-d)", "label_noise"),
)
CLAIMS = (C8A, C8B)
"""Thresholds: C8a's 0.8 is one swap of neighbours from a perfect order over four amplitudes;
'hardly' (C8b) is less than half of what the same amplitude of low-frequency noise costs."""


def check(data: SweepData) -> list[Verdict]:
    """C8a and C8b from the seed-mean validation curves: each (k, beta)'s best validation loss."""
    trials = ok_trials(data.trials)
    curves = data.table("validation_curves", "noise_frequency", "noise_amplitude", "seed")
    curves = spread_over(curves, "noise_frequency", sorted(curves["noise_frequency"].dropna().unique()))  # beta = 0: the baseline at every k
    if curves.empty:
        return [verdict(claim, data.name, trials) for claim in CLAIMS]
    stack = seed_stack(curves, ["noise_frequency", "noise_amplitude", "step"], "validation_loss")  # (seeds, k, beta, steps)
    frequencies, amplitudes, _ = stack.axes
    seeds = (len(stack.seeds),)

    def best(weights: np.ndarray | None = None) -> np.ndarray:
        return np.nanmin(stack.mean(weights), axis=2)  # (k, beta)

    point = best()
    lowest = {f"{beta:g}": float(v) for beta, v in zip(amplitudes, point[0])}
    notes = [f"k = {frequencies[0]:g} (lowest) and {frequencies[-1]:g} (highest); beta from {amplitudes[0]:g} to {amplitudes[-1]:g}"]
    if len(amplitudes) < MIN_AXIS_VALUES:
        c8a = verdict(C8A, data.name, trials, series=lowest, notes=notes + [too_few("noise_amplitude", len(amplitudes))])
    else:
        evidence = rank_evidence(amplitudes, lambda w: best(w[0])[0], seeds)
        c8a = (judge(C8A, data.name, trials, evidence, lowest, notes) if evidence is not None else
               verdict(C8A, data.name, trials, series=lowest, outcome="fail", notes=notes + ["the statistic is undefined: its values are all equal"]))
    if len(frequencies) < 2 or len(amplitudes) < 2:
        return [c8a, verdict(C8B, data.name, trials, notes=["needs at least two noise frequencies and two amplitudes"])]

    def relative_rise(weights: np.ndarray) -> float:
        values = best(weights)
        low, high = values[0, -1] - values[0, 0], values[-1, -1] - values[-1, 0]
        return float(high / low) if low > 0 else float("nan")

    rises = {f"{k:g}": float(row[-1] - row[0]) for k, row in zip(frequencies, point)}
    c8b_notes = list(notes) if point[0, -1] > point[0, 0] else notes + ["low-frequency noise did not raise the best validation loss"]
    return [c8a, judge(C8B, data.name, trials, Evidence(lambda w: relative_rise(w[0]), seeds), rises, c8b_notes)]
