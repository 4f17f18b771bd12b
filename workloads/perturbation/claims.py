"""Experiment 4's claim as a number, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import MIN_AXIS_VALUES, Claim, Verdict, crossings, judge, never_note, ok_trials, too_few, verdict
from workloads.experiment import SweepData

C4 = Claim(
    "C4", "perturbation", "higher frequencies are destroyed by smaller perturbations (Experiment 4)",
    "share of the pairs of frequencies k < k' in which k' falls below half its unperturbed magnitude (the mean over directions "
    "of |F(k)|) at a smaller delta than k (a tie counts half; a pair neither falls in is left out)", ">=", 0.8,
    "delta at half magnitude, by k",
    uses=("delta",),
    figure=("Figure 5", "figure5"),
)
CLAIMS = (C4,)
"""The authors' reading of Figure 5 (their ICML_Robustness notebook): the magnitude of each
perturbed net's spectrum, averaged over the directions. The magnitude of the direction-averaged
spectrum (normalized_magnitude) also falls by phase cancellation; it is reported beside it.
Threshold: four pairs of frequencies in five in order, whatever the number of frequencies (a
frequency that never falls below half counts as falling after every other)."""

AUTHORS, OTHER = "normalized_mean_magnitude", "normalized_magnitude"


def check(data: SweepData) -> list[Verdict]:
    """C4: the delta at which each k keeps half its unperturbed magnitude falls with k."""
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
    shown = ", ".join(f"{k}: {'never' if int(k) in other.never else f'{v:g}'}" for k, v in other.series.items())
    notes.append(
        f"the other reading, the magnitude of the direction-mean spectrum ({OTHER}): share of pairs in order {other.evidence.value():.3f}"
        + (f" [{other_interval[0]:+.3f}, {other_interval[1]:+.3f}]" if other_interval else "")
        + f"; delta at half magnitude, by k: {shown}"
    )
    result = judge(C4, data.name, trials, authors.evidence, authors.series, notes, unresolved=authors.unresolved)
    result.never_crossed = authors.never
    return [result]
