"""Figure 10's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import pandas as pd

from workloads.claims import MIN_AXIS_VALUES, Claim, Verdict, judge, ok_trials, rho_by_line, verdict
from workloads.experiment import SweepData
from workloads.manifold_classification.claims import C3B, C3B_MIN_K

C7A = Claim(
    "C7a", "knn", "k-NN accuracy does not rise with L as the net's does (Figure 10, per K)",
    f"mean over k >= {C3B_MIN_K} of rho(L, k-NN accuracy), 0 where it is the same at every L: C3b's statistic, for the k-NN", "<=", C3B.threshold,
    "rho(L, accuracy), by k",
)
C7B = Claim(
    "C7b", "knn", "the net's radial spectrum decays faster than every k-NN's (Figure 10e)",
    "share of zeta in the upper half of the radial frequencies, the net's / the smallest k-NN's", "<=", 1.0,
    "share of zeta in the upper half of the radial frequencies, by classifier",
)
CLAIMS = (C7A, C7B)
"""Thresholds: C7a holds where the k-NN falls short of C3b's 0.7, the mark of a classifier whose
accuracy rises with L; C7b holds where the net keeps less of its spectrum at high frequencies than
the smoothest k-NN."""


def high_frequency_share(spectrum: pd.DataFrame) -> float:
    """The part of zeta at radial frequencies above half the highest: how much of a map's
    variation is in fine detail."""
    top = spectrum["frequency"].max()
    return float(spectrum.loc[spectrum["frequency"] > top / 2, "zeta"].sum() / spectrum["zeta"].sum())


def check(data: SweepData) -> list[Verdict]:
    """C7a per K over the sweep's k x L grid; C7b at the point where the spectra were read."""
    trials = ok_trials(data.trials)
    accuracy = data.table("classifier_accuracy", "k", "L")
    knn = accuracy[accuracy["classifier"] == "knn"]
    verdicts = []
    for neighbors, rows in knn.groupby("neighbors", sort=True):
        lines = rows.pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
        rhos = rho_by_line(lines.loc[:, lines.columns >= C3B_MIN_K].T)  # one line per k, over L
        # A k whose accuracy is the same at every L did not rise with L: its rho is undefined, and
        # counts as 0 (1-NN's training accuracy is 1 everywhere; a large K's sits at the baseline).
        flat = rhos.isna()
        rhos = rhos.fillna(0.0)
        notes = [f"k = {', '.join(map(str, rhos.index[flat]))}: accuracy the same at every L, counted as rho 0"] if flat.any() else []
        if rhos.empty:
            result = verdict(C7A, data.name, trials, notes=[f"no k >= {C3B_MIN_K} with at least {MIN_AXIS_VALUES} values of L"])
        else:
            by_k = {str(k): round(float(v), 4) for k, v in rhos.items()}
            result = judge(C7A, data.name, trials, float(rhos.mean()), by_k, notes)
        result.group = f"K = {int(neighbors)}"  # a float column: the net's rows leave it null
        verdicts.append(result)
    spectra = data.table("radial_spectra")
    if spectra.empty or "net" not in set(spectra["classifier"]):
        return verdicts + [verdict(C7B, data.name, trials, notes=["no net and k-NN spectra: the sweep never reached its spectrum_at point"])]
    shares = {("net" if c == "net" else f"K = {int(n)}"): high_frequency_share(rows)
              for (c, n), rows in spectra.fillna({"neighbors": 0}).groupby(["classifier", "neighbors"])}
    smallest = min(share for name, share in shares.items() if name != "net")
    return verdicts + [judge(C7B, data.name, trials, shares["net"] / smallest, shares, [])]
