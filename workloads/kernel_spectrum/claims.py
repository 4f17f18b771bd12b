"""The kernel-spectrum experiment's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import MIN_AXIS_VALUES, Claim, Evidence, Verdict, crossings, judge, never_note, ok_trials, seed_stack, too_few, verdict
from workloads.experiment import SweepData

LAG = 0.1
"""How much longer (a fraction of the earlier bin's learning time) a higher bin must take to count
as fitted after it: one eval step in ten, at the end of the run, is not "well before"."""

C9A = Claim(
    "C9a", "kernel_spectrum", "the net fits the kernel's low-index eigenvectors well before the high-index ones (ICML, kernel eigenbasis; "
    "per target noise)",
    f"share of the pairs of bins of n (n < n') in which n' takes more than {100 * LAG:.0f}% longer to learn than n (learning time: "
    "the area, in steps, above the seed-mean fraction of the target's |coefficients| clipped to [0, 1]; a pair neither of which "
    "reaches 0.5 is left out)", ">=", 0.75,
    "learning time (steps), by bin of n",
    uses=("target_noise",),
    figure=("ICML: the spectrum in a kernel's eigenbasis on real data", "kernel_spectrum"),
)
C9B = Claim(
    "C9b", "kernel_spectrum", "with noise of high index only, the best clean loss is lower than with white noise (ICML, kernel eigenbasis)",
    "best (over the eval steps) seed-mean loss against the clean labels: high-frequency noise's / white noise's", "<=", 1.0,
    "best clean loss, by target noise",
    uses=("target_noise",),
    figure=("ICML: the spectrum in a kernel's eigenbasis on real data", "kernel_spectrum"),
)
CLAIMS = (C9A, C9B)
"""Thresholds: C9a asks for a lag, not just an order: three pairs of bins in four must be fitted
more than a tenth apart in time, lower index first (bins that all cross within a few eval steps of
each other, in whatever order, fail it); C9b's 'lower' is a ratio below 1."""


def check(data: SweepData) -> list[Verdict]:
    """C9a per target noise; C9b across the two."""
    trials = ok_trials(data.trials)
    spectra = data.table("kernel_spectra", "target_noise", "seed")
    verdicts = []
    for noise, rows in trials.groupby("target_noise", sort=True):
        curves = spectra[spectra["target_noise"] == noise]
        if curves.empty:
            continue
        last = float(curves["step"].max())
        found = crossings(curves, "step", "normalized_magnitude", below=False, after_last=last + 1.0, over="bin", lag=LAG)
        notes = never_note(found.never, "reached 0.5 within", last, "steps", label="bin")
        if len(found.ks) < MIN_AXIS_VALUES:
            result = verdict(C9A, data.name, rows, series=found.series, notes=notes + [too_few("bin", len(found.ks))])
        else:
            result = judge(C9A, data.name, rows, found.evidence, found.series, notes, unresolved=found.unresolved)
            result.never_crossed = found.never
        result.group = f"target_noise: {noise}"
        verdicts.append(result)
    return verdicts + [cleaner_with_high_frequency_noise(data, trials)]


def cleaner_with_high_frequency_noise(data: SweepData, trials: pd.DataFrame) -> Verdict:
    """C9b: the best seed-mean clean loss with high-frequency noise over that with white noise
    (each seed's two runs share their net's initial weights)."""
    curves = data.table("clean_curves", "target_noise", "seed")
    if not {"white", "high_frequency"} <= set(curves.get("target_noise", [])):
        return verdict(C9B, data.name, trials, notes=["needs trials of both target noises, 'white' and 'high_frequency'"])
    stack = seed_stack(curves, ["target_noise", "step"], "clean_loss")  # (seeds, noises, steps)
    high, white = (list(stack.axes[0]).index(kind) for kind in ("high_frequency", "white"))

    def best(weights: np.ndarray | None = None) -> np.ndarray:
        return np.nanmin(stack.mean(weights), axis=1)

    point = best()
    series = {"high_frequency": float(point[high]), "white": float(point[white])}
    evidence = Evidence(lambda w: float(best(w[0])[high] / best(w[0])[white]), (len(stack.seeds),))
    return judge(C9B, data.name, trials, evidence, series, [])
