"""Experiment 4's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import Claim, Verdict, correlate, first_crossing, never_note, ok_trials, verdict
from workloads.experiment import SweepData

C4 = Claim(
    "C4", "perturbation", "higher frequencies are destroyed by smaller perturbations (Experiment 4)",
    "rho(k, delta at which |F(k)| falls below 0.5 of its unperturbed value)", "<=", -0.8,
    "delta at half magnitude, by k",
)
CLAIMS = (C4,)


def check(data: SweepData) -> list[Verdict]:
    """C4: the delta at which each k keeps half its unperturbed magnitude falls with k."""
    trials = ok_trials(data.trials)
    rows = data.table("perturbation_spectra")
    if rows.empty:
        return [verdict(C4, data.name, trials)]
    first, never = first_crossing(rows, "delta", below=True)
    notes = never_note(never, "fell below 0.5 up to delta", float(rows["delta"].max()), "")
    result = correlate(C4, data.name, trials, first, notes)
    result.never_crossed = never
    return [result]
