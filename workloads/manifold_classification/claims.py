"""Experiment 3's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

from workloads.claims import MIN_AXIS_VALUES, Claim, Verdict, judge, ok_trials, rho_by_line, verdict
from workloads.experiment import SweepData

C3A = Claim(
    "C3a", "manifold_classification", "accuracy falls with k at fixed L (Experiment 3)",
    "mean over L of rho(k, accuracy)", "<=", -0.7, "rho(k, accuracy), by L",
)
C3B = Claim(
    "C3b", "manifold_classification", "accuracy rises with L at fixed k >= 150 (Experiment 3)",
    "mean over k >= 150 of rho(L, accuracy)", ">=", 0.7, "rho(L, accuracy), by k",
)
CLAIMS = (C3A, C3B)

C3B_MIN_K = 150
"""C3b looks at the frequencies the paper's Figure 4 shows changing with L; at lower k every L fits."""


def check(data: SweepData) -> list[Verdict]:
    """C3: accuracy falls with k at each L (C3a), and rises with L at each k >= 150 (C3b)."""
    trials = ok_trials(data.trials)
    accuracy = data.table(data.experiment).pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
    verdicts = []
    for claim, lines, axis in (
        (C3A, accuracy, "k"),  # one line per L, running over k
        (C3B, accuracy.loc[:, accuracy.columns >= C3B_MIN_K].T, "L"),  # one line per k, over L
    ):
        rhos = rho_by_line(lines)
        rhos.index.name = "L" if axis == "k" else "k"
        undefined = rhos[rhos.isna()]
        notes = []
        if len(undefined):
            notes.append(f"{len(undefined)} line(s) with all-equal accuracy left out ({rhos.index.name} = {', '.join(map(str, undefined.index))})")
        defined = rhos.dropna()
        if defined.empty:
            why = f"no line with at least {MIN_AXIS_VALUES} values of {axis} and a defined rho"
            verdicts.append(verdict(claim, data.name, trials, notes=notes + [why]))
            continue
        verdicts.append(judge(claim, data.name, trials, float(defined.mean()), {str(k): round(float(v), 4) for k, v in defined.items()}, notes))
    return verdicts
