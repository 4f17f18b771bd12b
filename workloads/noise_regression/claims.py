"""Experiment 5's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np

from workloads.claims import Claim, Evidence, Verdict, Weights, judge, ok_trials, seed_stack, verdict
from workloads.experiment import SweepData
from workloads.orders import Contrasts, share, share_range

C6 = Claim(
    "C6", "noise_regression", "white noise is fitted faster on a real data manifold than on a flat one of its dimension (Experiment 5)",
    "fraction of eval steps after 0 at which the seed-mean loss on the manifold is below the flat one's", ">=", 0.9,
    "seed-mean loss at the last step, by inputs",
    uses=("inputs",),
    figure=("Figure 7", "figure7"),
)
CLAIMS = (C6,)
"""Threshold: 'at equal steps' the manifold's curve is below, allowing a tenth of the steps for
curves that touch early on (both start from the same targets and, at step 0, near the same loss)."""


def check(data: SweepData) -> list[Verdict]:
    """C6: compare the seed-mean loss curves of the two kinds of inputs, step by step; the
    interval resamples the seeds (each seed's two curves regress the same targets)."""
    trials = ok_trials(data.trials)
    curves = data.table("curves", "inputs", "seed")
    if not {"manifold", "flat"} <= set(curves.get("inputs", [])):
        return [verdict(C6, data.name, trials, notes=["needs trials of both inputs, 'manifold' and 'flat'"])]
    curves = curves[curves["step"] > 0]
    stack = seed_stack(curves, ["step", "inputs"], "loss")  # (seeds, steps, inputs)
    manifold, flat = (list(stack.axes[1]).index(kind) for kind in ("manifold", "flat"))

    def gaps(weights: Weights) -> np.ndarray:
        """How far the flat inputs' seed-mean loss lies above the manifold's, at each eval step."""
        mean = stack.mean(weights[0])
        return mean[:, flat] - mean[:, manifold]

    mean = stack.mean()
    last = {"manifold": float(mean[-1, manifold]), "flat": float(mean[-1, flat])}
    # A step where the two curves are equal counts as not below. The interval projects the steps'
    # simultaneous intervals: a step the seeds do not resolve may fall either way.
    evidence = Evidence(lambda w: share(gaps(w), ties=0.0), (len(stack.seeds),), bounds=(0.0, 1.0), contrasts=Contrasts(gaps, share_range))
    return [judge(C6, data.name, trials, evidence, last, [f"{len(stack.axes[0])} eval steps compared"])]
