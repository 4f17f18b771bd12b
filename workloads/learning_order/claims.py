"""Experiment 1's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import Claim, Verdict, correlate, first_crossing, never_note, ok_trials
from workloads.experiment import SweepData

C1 = Claim(
    "C1", "learning_order", "lower frequencies are learned first (Experiment 1, per amplitude setting)",
    "rho(k, first step at which |F(k)|/A >= 0.5)", ">=", 0.9, "first step at 0.5, by k",
)
CLAIMS = (C1,)


def check(data: SweepData) -> list[Verdict]:
    """C1 per amplitude setting: the first step at which each k reaches half its amplitude rises with k."""
    trials = ok_trials(data.trials)
    spectra = data.table("spectra", "amplitudes")
    verdicts = []
    for setting, rows in trials.groupby("amplitudes", sort=True):
        curves = spectra[spectra["amplitudes"] == setting]
        if curves.empty:
            continue
        first, never = first_crossing(curves, "step", below=False)
        notes = never_note(never, "reached 0.5 within", float(curves["step"].max()), "steps")
        verdict = correlate(C1, data.name, rows, first, notes)
        verdict.group, verdict.never_crossed = f"amplitudes: {setting}", never
        verdicts.append(verdict)
    return verdicts
