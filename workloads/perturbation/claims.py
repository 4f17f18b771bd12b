"""Experiment 4's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import MIN_AXIS_VALUES, Claim, Verdict, crossings, judge, never_note, ok_trials, too_few, verdict
from workloads.experiment import SweepData

C4 = Claim(
    "C4", "perturbation", "higher frequencies are destroyed by smaller perturbations (Experiment 4)",
    "share of the pairs of frequencies k < k' in which k' survives a smaller range of delta than k (survival: the area over "
    "delta under the seed-mean magnitude, the mean over directions of |F(k)|, relative to the unperturbed one and clipped to "
    "[0, 1]; a tie counts half; a pair neither of which falls below 0.5 is left out)", ">=", 0.8,
    "survival (area under the magnitude over delta), by k",
    uses=("delta",),
    figure=("Figure 5", "figure5"),
)
CLAIMS = (C4,)
"""The authors' reading of Figure 5 (their ICML_Robustness notebook): the magnitude of each
perturbed net's spectrum, averaged over the directions. The magnitude of the direction-averaged
spectrum (normalized_magnitude) also falls by phase cancellation; it is reported beside it.
Threshold: four pairs of frequencies in five in order, whatever the number of frequencies. A
frequency's survival is the area under its curve over delta: the delta at which it falls below
half for a curve that drops there, and smooth in the seed means where that delta is not."""

AUTHORS, OTHER = "normalized_mean_magnitude", "normalized_magnitude"


def check(data: SweepData) -> list[Verdict]:
    """C4: each k's survival (the area under its seed-mean magnitude over delta) falls with k."""
    trials = ok_trials(data.trials)
    rows = data.table("perturbation_spectra", "seed")
    if rows.empty:
        return [verdict(C4, data.name, trials)]
    last = float(rows["delta"].max())
    authors, other = (crossings(rows, "delta", reading, below=True, after_last=last + 1e-9, later=False) for reading in (AUTHORS, OTHER))
    notes = never_note(authors.never, "fell below 0.5 up to delta", last, "")
    if len(authors.ks) < MIN_AXIS_VALUES:
        return [verdict(C4, data.name, trials, series=authors.series, notes=notes + [too_few("k", len(authors.ks))])]
    other_interval, _ = other.evidence.interval()
    shown = ", ".join(f"{k}: {v:.3g}" for k, v in other.series.items())
    notes.append(
        f"the other reading, the magnitude of the direction-mean spectrum ({OTHER}): share of pairs in order {other.evidence.value():.3f}"
        + (f" [{other_interval[0]:+.3f}, {other_interval[1]:+.3f}]" if other_interval else "")
        + f"; survival, by k: {shown}"
    )
    result = judge(C4, data.name, trials, authors.evidence, authors.series, notes, unresolved=authors.unresolved)
    result.never_crossed = authors.never
    return [result]
