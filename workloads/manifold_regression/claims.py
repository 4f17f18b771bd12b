"""Experiment 2's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import Claim, Verdict, correlate, ok_trials
from workloads.experiment import SweepData

C2 = Claim(
    "C2", "manifold_regression", "the loss falls as the manifold gets more complex (Experiment 2)",
    "rho(L, final MSE)", "<=", -0.8, "final MSE, by L",
)
CLAIMS = (C2,)


def check(data: SweepData) -> list[Verdict]:
    """C2: the final MSE, mean over seeds, falls as L grows."""
    trials = ok_trials(data.trials)
    return [correlate(C2, data.name, trials, trials.groupby("L")["loss"].mean(), [])]
