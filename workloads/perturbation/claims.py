"""Experiment 4's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import (
    MIN_AXIS_VALUES,
    Claim,
    Evidence,
    Verdict,
    first_crossing,
    judge,
    never_note,
    ok_trials,
    rank_correlation,
    seed_stack,
    too_few,
    verdict,
)
from workloads.experiment import SweepData

C4 = Claim(
    "C4", "perturbation", "higher frequencies are destroyed by smaller perturbations (Experiment 4)",
    "rho(k, delta at which the mean over directions of |F(k)| falls below 0.5 of its unperturbed value)", "<=", -0.8,
    "delta at half magnitude, by k",
)
CLAIMS = (C4,)
"""The authors' reading of Figure 5 (their ICML_Robustness notebook): the magnitude of each
perturbed net's spectrum, averaged over the directions. The magnitude of the direction-averaged
spectrum (normalized_magnitude) also falls by phase cancellation; it is reported beside it."""

AUTHORS, OTHER = "normalized_mean_magnitude", "normalized_magnitude"


def half_life(rows: pd.DataFrame, reading: str) -> tuple[np.ndarray, Evidence, np.ndarray, np.ndarray]:
    """Per k, the first delta at which the seed mean of `reading` falls below 0.5 (just after the
    last delta if never); the evidence for rho(k, that delta); the k; which k never fell."""
    stack = seed_stack(rows, ["delta", "k"], reading)
    deltas, ks = stack.axes
    after_last = float(deltas.max()) + 1e-9

    def first(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return first_crossing(stack.mean(weights), deltas, below=True, after_last=after_last)

    crossing, never = first(np.full(len(stack.seeds), 1 / len(stack.seeds)))
    return crossing, Evidence(lambda w: rank_correlation(ks, first(w[0])[0]), (len(stack.seeds),)), ks, never


def check(data: SweepData) -> list[Verdict]:
    """C4: the delta at which each k keeps half its unperturbed magnitude falls with k."""
    trials = ok_trials(data.trials)
    rows = data.table("perturbation_spectra", "seed")
    if rows.empty:
        return [verdict(C4, data.name, trials)]
    crossing, evidence, ks, never_mask = half_life(rows, AUTHORS)
    never = [int(k) for k in ks[never_mask]]
    series = {str(int(k)): float(v) for k, v in zip(ks, crossing)}
    notes = never_note(never, "fell below 0.5 up to delta", float(rows["delta"].max()), "")
    if len(ks) < MIN_AXIS_VALUES:
        return [verdict(C4, data.name, trials, series=series, notes=notes + [too_few("k", len(ks))])]
    other, other_evidence, _, other_never = half_life(rows, OTHER)
    other_interval, _ = other_evidence.interval()
    shown = ", ".join(f"{int(k)}: {'never' if n else f'{v:g}'}" for k, v, n in zip(ks, other, other_never))
    notes.append(
        f"the other reading, the magnitude of the direction-mean spectrum ({OTHER}): rho = {other_evidence.value():+.3f}"
        + (f" [{other_interval[0]:+.3f}, {other_interval[1]:+.3f}]" if other_interval else "")
        + f"; delta at half magnitude, by k: {shown}"
    )
    result = judge(C4, data.name, trials, evidence, series, notes)
    result.never_crossed = never
    return [result]
