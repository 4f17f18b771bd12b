"""Experiment 5's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import Claim, Verdict, judge, ok_trials, verdict
from workloads.experiment import SweepData

C6 = Claim(
    "C6", "noise_regression", "white noise is fitted faster on a real data manifold than on a flat one of its dimension (Experiment 5)",
    "fraction of eval steps after 0 at which the seed-mean loss on the manifold is below the flat one's", ">=", 0.9,
    "seed-mean loss at the last step, by inputs",
)
CLAIMS = (C6,)
"""Threshold: 'at equal steps' the manifold's curve is below, allowing a tenth of the steps for
curves that touch early on (both start from the same targets and, at step 0, near the same loss)."""


def check(data: SweepData) -> list[Verdict]:
    """C6: compare the seed-mean loss curves of the two kinds of inputs, step by step."""
    trials = ok_trials(data.trials)
    curves = data.table("curves", "inputs")
    mean = curves.pivot_table(index="step", columns="inputs", values="loss", aggfunc="mean")
    if not {"manifold", "flat"} <= set(mean.columns):
        return [verdict(C6, data.name, trials, notes=["needs trials of both inputs, 'manifold' and 'flat'"])]
    mean = mean[mean.index > 0].dropna()
    below = float((mean["manifold"] < mean["flat"]).mean())
    last = {kind: float(mean[kind].iloc[-1]) for kind in ("manifold", "flat")}
    return [judge(C6, data.name, trials, below, last, [f"{len(mean)} eval steps compared"])]
