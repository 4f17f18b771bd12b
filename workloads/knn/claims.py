"""Figure 10's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workloads.claims import (
    MIN_AXIS_VALUES,
    Claim,
    Evidence,
    SeedStack,
    Verdict,
    Weights,
    fit_premise,
    judge,
    line_rhos,
    mean_defined,
    ok_trials,
    rank_correlation,
    seed_stack,
    verdict,
)
from workloads.experiment import SweepData
from workloads.manifold_classification.claims import C3B_MIN_K
from workloads.orders import Contrasts, defined_positions, line_pairs, lines_rho_ranges

C7A = Claim(
    "C7a", "knn", "k-NN accuracy does not rise with L as the net's does (Figure 10, per K)",
    f"mean over k >= {C3B_MIN_K} of rho(L, the net's accuracy) - rho(L, the k-NN's accuracy), on the cells both have, "
    "over the k where both vary with L", ">=", 0.5,
    "rho(L, net accuracy) - rho(L, k-NN accuracy), by k",
    uses=("k", "L"),
    figure=("Figure 10", "figure10"),
)
C7B = Claim(
    "C7b", "knn", "the trained net's radial spectrum decays faster than every k-NN's (Figure 10e)",
    "share of zeta in the upper half of the radial frequencies, the net's / the smallest k-NN's", "<=", 1.0,
    "share of zeta in the upper half of the radial frequencies, by classifier",
    uses=("k", "L"),
    figure=("Figure 10", "figure10"),
)
CLAIMS = (C7A, C7B)
"""Thresholds: C7a holds where the net's rank correlation of accuracy with L exceeds the k-NN's by
half its range or more (a net rising with L at C3b's 0.7 against a k-NN with no trend is 0.7);
C7b holds where the net keeps less of its spectrum at high frequencies than the smoothest k-NN, and
takes as its premise that the net fits its training points (claims.FIT_ACCURACY): an untrained
net's function is smooth too, and says nothing of what training prefers."""

NET_EXPERIMENT = "manifold_classification"
"""Where C7a finds the net to compare the k-NN with: Experiment 3's sweeps in the same store."""

SAME_DATA = ("n_points", "threshold")
"""The config fields besides (k, L, seed) that make Experiment 3's points and labels the same."""


def net_accuracy(data: SweepData, knn: pd.DataFrame) -> tuple[str, pd.DataFrame] | None:
    """The store's Experiment 3 sweep sharing the most (k >= 150, L) cells with the k-NN's, on
    the same data (n_points, threshold): its name and its net's accuracy rows; None if none shares one."""
    wanted = knn[knn["k"] >= C3B_MIN_K]
    cells = set(zip(wanted["k"], wanted["L"]))
    best: tuple[int, str, pd.DataFrame] | None = None
    for sweep in data.sweeps_of(NET_EXPERIMENT):
        rows = sweep.table(NET_EXPERIMENT)
        for field in SAME_DATA:
            rows = rows[rows[field].isin(set(knn[field]))]
        shared = len(cells & set(zip(rows["k"], rows["L"])))
        if shared and (best is None or shared > best[0]):
            best = (shared, sweep.name, rows)
    return None if best is None else (best[1], best[2])


def check(data: SweepData) -> list[Verdict]:
    """C7a per K against Experiment 3's net on the same cells; C7b at the point where the spectra were read."""
    trials = ok_trials(data.trials)
    accuracy = data.table("classifier_accuracy", "k", "L", "seed", *SAME_DATA)
    knn = accuracy[accuracy["classifier"] == "knn"]
    return [*knn_against_net(data, trials, knn), spectra_decay(data, trials)]


def knn_against_net(data: SweepData, trials: pd.DataFrame, knn: pd.DataFrame) -> list[Verdict]:
    """C7a: for each K, over the k >= 150 where both the net's and the k-NN's accuracy vary with L,
    how much more the net's rises with L than the k-NN's."""
    if knn.empty:
        return [verdict(C7A, data.name, trials, notes=["no k-NN accuracy rows"])]
    found = net_accuracy(data, knn)
    if found is None:
        why = (f"no {NET_EXPERIMENT} sweep in the store on the same cells (k >= {C3B_MIN_K}, same n_points and threshold): "
               "launch Experiment 3's net on the k-NN's grid into this store (sweeps/manifold_cpu.yaml beside sweeps/knn_cpu.yaml)")
        return [verdict(C7A, data.name, trials, group=f"K = {int(n)}", notes=[why]) for n in sorted(set(knn["neighbors"]))]
    net_sweep, net = found
    cells = set(zip(net["k"], net["L"]))
    verdicts = []
    for neighbors, rows in knn.groupby("neighbors", sort=True):
        shared = {(k, L) for k, L in zip(rows["k"], rows["L"]) if k >= C3B_MIN_K} & cells
        rows = rows[np.array([cell in shared for cell in zip(rows["k"], rows["L"])], dtype=bool)]  # an empty list would pick columns
        both = net[np.array([cell in shared for cell in zip(net["k"], net["L"])], dtype=bool)]
        knn_stack, net_stack = seed_stack(rows, ["k", "L"], "accuracy"), seed_stack(both, ["k", "L"], "accuracy")  # (seeds, k, L)
        ks, Ls = knn_stack.axes
        knn_rhos, net_rhos = line_rhos(knn_stack.mean(), Ls), line_rhos(net_stack.mean(), Ls)
        notes = [f"the net: sweep {net_sweep}, {len(net_stack.seeds)} seed(s), {len(shared)} shared cells"]
        flat = ks[np.isnan(knn_rhos)]
        if len(flat):
            notes.append(f"k = {', '.join(str(int(k)) for k in flat)}: the k-NN's accuracy is the same at every L, no evidence either way")
        if np.isnan(net_rhos).any():
            notes.append(f"k = {', '.join(str(int(k)) for k in ks[np.isnan(net_rhos)])}: the net's accuracy is the same at every L, left out")
        evidence_k = ~np.isnan(knn_rhos) & ~np.isnan(net_rhos)
        if not evidence_k.any():
            notes.append("no k on which both vary with L: no evidence")
            verdicts.append(verdict(C7A, data.name, trials, group=f"K = {int(neighbors)}", notes=notes))
            continue
        series = {str(int(k)): round(float(n - c), 4) for k, n, c, e in zip(ks, net_rhos, knn_rhos, evidence_k) if e}

        # The k-NN's seed s and the net's share their points and labels: where both have the same
        # seeds, a seed is left out of both at once.
        joint = np.array_equal(knn_stack.seeds, net_stack.seeds)
        evidence = rho_gap_evidence(Ls, net_stack, knn_stack, evidence_k, joint)
        result = judge(C7A, data.name, trials, evidence, series, notes)
        result.group = f"K = {int(neighbors)}"
        result.reads = [data.name, net_sweep]  # the net's seeds count as much as the k-NN's
        verdicts.append(result)
    return verdicts


def rho_gap_evidence(Ls: np.ndarray, net: SeedStack, knn: SeedStack, lines: np.ndarray, joint: bool) -> Evidence:
    """C7a's evidence: the mean over the k in `lines` of rho(L, the net's accuracy) - rho(L, the
    k-NN's), each rho over a line's L with a defined seed-mean accuracy; its interval the projection
    of both classifiers' pairwise differences, Bonferroni over all of them (orders.rho_range)."""
    rows = np.flatnonzero(lines)
    net_positions, knn_positions = (defined_positions(stack.mean()[rows], MIN_AXIS_VALUES) for stack in (net, knn))
    counted = len(line_pairs(net.mean()[rows], net_positions))

    def gap(weights: Weights) -> float:
        net_rhos = np.array([rank_correlation(Ls[kept], line[kept]) for line, kept in zip(net.mean(weights[1])[rows], net_positions)])
        knn_rhos = np.array([rank_correlation(Ls[kept], line[kept]) for line, kept in zip(knn.mean(weights[0])[rows], knn_positions)])
        return mean_defined(net_rhos - knn_rhos)

    def contrasts(weights: Weights) -> np.ndarray:
        return np.concatenate([line_pairs(net.mean(weights[1])[rows], net_positions), line_pairs(knn.mean(weights[0])[rows], knn_positions)])

    def sign_range(signs: np.ndarray) -> tuple[float, float]:
        net_range = lines_rho_ranges(Ls, net_positions, signs[:counted])
        knn_range = lines_rho_ranges(Ls, knn_positions, signs[counted:])
        return float((net_range[:, 0] - knn_range[:, 1]).mean()), float((net_range[:, 1] - knn_range[:, 0]).mean())

    return Evidence(gap, (len(knn.seeds), len(net.seeds)), bounds=(-2.0, 2.0), joint=joint, contrasts=Contrasts(contrasts, sign_range))


def spectra_decay(data: SweepData, trials: pd.DataFrame) -> Verdict:
    """C7b: the net's share of zeta above half the highest radial frequency, over the smallest of
    the k-NNs' (each from the seed-mean spectrum)."""
    spectra = data.table("radial_spectra", "seed")
    if spectra.empty or "net" not in set(spectra["classifier"]):
        return verdict(C7B, data.name, trials, notes=["no net and k-NN spectra: the sweep never reached its spectrum_at point"])
    named = spectra.assign(name=["net" if c == "net" else f"K = {int(n)}" for c, n in zip(spectra["classifier"], spectra["neighbors"].fillna(0))])
    stack = seed_stack(named, ["name", "frequency"], "zeta")  # (seeds, classifiers, frequencies)
    names, frequencies = stack.axes
    upper = frequencies > frequencies.max() / 2
    net = list(names).index("net")

    def shares(weights: np.ndarray | None = None) -> np.ndarray:
        mean = stack.mean(weights)
        return mean[:, upper].sum(axis=1) / mean.sum(axis=1)

    def ratio(weights: np.ndarray) -> float:
        share = shares(weights)
        return float(share[net] / np.delete(share, net).min())

    point = shares()
    by_k = sorted(zip(names, point), key=lambda pair: (pair[0] == "net", int(pair[0][4:]) if pair[0] != "net" else 0))  # K = 1, 5, ..., net
    series = {str(name): float(share) for name, share in by_k}
    result = judge(C7B, data.name, trials, Evidence(lambda w: ratio(w[0]), (len(stack.seeds),)), series, [])
    nets = data.table(data.experiment, "seed").dropna(subset=["net_accuracy"])
    return fit_premise(result, {int(seed): float(accuracy) for seed, accuracy in zip(nets["seed"], nets["net_accuracy"])})
