"""Experiment 3's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import MIN_AXIS_VALUES, Claim, Verdict, judge, line_rhos, ok_trials, rank_evidence, seed_stack, verdict
from workloads.experiment import SweepData

C3A = Claim(
    "C3a", "manifold_classification", "accuracy falls with k at fixed L (Experiment 3)",
    "mean over L of rho(k, accuracy above the majority-class baseline)", "<=", -0.7, "rho(k, accuracy - baseline), by L",
    uses=("k", "L"),
    figure=("Figure 4", "figure4"),
)
C3B = Claim(
    "C3b", "manifold_classification", "accuracy rises with L at fixed k >= 150 (Experiment 3)",
    "mean over k >= 150 of rho(L, accuracy above the majority-class baseline)", ">=", 0.7, "rho(L, accuracy - baseline), by k",
    uses=("k", "L"),
    figure=("Figure 4", "figure4"),
)
CLAIMS = (C3A, C3B)

C3B_MIN_K = 150
"""C3b looks at the frequencies the paper's Figure 4 shows changing with L; at lower k every L fits."""

AT_BASELINE = 0.005
"""A cell whose seed-mean accuracy is within this of its majority-class baseline has learned
nothing beyond the class frequencies (half a point in a hundred)."""


def lift(table: pd.DataFrame) -> pd.DataFrame:
    """Experiment 3's (or a k-NN's) accuracy above each trial's majority-class baseline: the
    threshold makes the classes about 1:2 and their ratio varies with k (0.60 to 0.75 on a
    1000-point grid), so raw accuracy would fall with k by the grid's arithmetic alone."""
    return table.assign(lift=table["accuracy"] - table["baseline_accuracy"])


def check(data: SweepData) -> list[Verdict]:
    """C3: accuracy above the baseline falls with k at each L (C3a), and rises with L at each
    k >= 150 (C3b)."""
    trials = ok_trials(data.trials)
    table = data.table(data.experiment, "seed")
    if table.empty:
        return [verdict(claim, data.name, trials) for claim in CLAIMS]
    stack = seed_stack(lift(table), ["L", "k"], "lift")  # (seeds, L, k)
    Ls, ks = stack.axes
    mean = stack.mean()
    at_baseline = np.abs(mean) <= AT_BASELINE
    baseline_note = f"{int(at_baseline.sum())} of {int((~np.isnan(mean)).sum())} cells sit at their majority-class baseline (within {AT_BASELINE})"
    high = ks >= C3B_MIN_K
    lines_of = {  # claim -> (its lines from a seed mean, the axis they run over, the axis naming a line, its values)
        C3A: (lambda m: m, ks, "L", Ls),  # one line per L, running over k
        C3B: (lambda m: m[:, high].T, Ls, "k", ks[high]),  # one line per k >= 150, running over L
    }
    verdicts = []
    for claim, (lines, axis, name, labels) in lines_of.items():
        rhos = line_rhos(lines(mean), axis)
        notes = [baseline_note]
        undefined = labels[np.isnan(rhos)]
        if len(undefined):
            notes.append(f"{len(undefined)} line(s) with all-equal accuracy left out ({name} = {', '.join(str(int(v)) for v in undefined)})")
        if np.isnan(rhos).all():
            other = "k" if name == "L" else "L"
            notes.append(f"no line with at least {MIN_AXIS_VALUES} values of {other} and a defined rho")
            verdicts.append(verdict(claim, data.name, trials, notes=notes))
            continue
        series = {str(int(v)): round(float(rho), 4) for v, rho in zip(labels, rhos) if not np.isnan(rho)}
        evidence = rank_evidence(axis, lambda w, lines=lines: lines(stack.mean(w[0])), (len(stack.seeds),))
        verdicts.append(judge(claim, data.name, trials, evidence, series, notes))  # not None: some line's rho is defined
    return verdicts
