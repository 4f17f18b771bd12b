"""Figure 2's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pandas as pd

from workloads.claims import Claim, Evidence, Verdict, fit_premise, judge, ok_trials, verdict
from workloads.decision_boundary.config import DecisionBoundaryConfig
from workloads.experiment import SweepData

C5A = Claim(
    "C5a", "decision_boundary", "two nets identical up to initialisation, both fitting the manifold, agree on it (Figure 2)",
    "fraction of the training points where their classes differ, mean over pairs of nets that differ in their seed alone", "<=", 0.05,
    "disagreement on the training points, by pair of seeds",
    uses=(),
    figure=("Figure 2", "figure2"),
)
C5B = Claim(
    "C5b", "decision_boundary", "two nets identical up to initialisation, both fitting the manifold, differ off it (Figure 2)",
    "fraction of the box where their classes differ, mean over pairs of nets that differ in their seed alone", ">=", 0.1,
    "disagreement over the box, by pair of seeds",
    uses=(),
    figure=("Figure 2", "figure2"),
)
CLAIMS = (C5A, C5B)
"""Thresholds: 'close to perfect accuracy' on the manifold leaves two nets at most 5% of its points
to disagree on; 'they differ significantly elsewhere' is a tenth of the box or more. Both take as
their premise that every net fits its training points (claims.FIT_ACCURACY): nets that learned
little may differ anywhere, which is not the figure's point."""

PAIR_SEEDS = 3
"""Fewest seeds an interval over pairs needs: with two there is one pair, and leaving a seed out
leaves none."""


def seed_pairs(trials: pd.DataFrame) -> list[tuple[pd.Series, pd.Series]]:
    """Every pair of ok trials whose configs differ in their seed alone (the paper's two nets), by
    their rows of the trials table, in seed order."""
    fields = [f.name for f in dataclasses.fields(DecisionBoundaryConfig) if f.name != "seed" and f.name in trials.columns]
    pairs = []
    for _, group in ok_trials(trials).groupby(fields or (lambda _: 0), sort=True, dropna=False):
        rows = [row for _, row in group.sort_values("seed").iterrows()]
        pairs += list(combinations(rows, 2))
    return pairs


def differing(maps: pd.DataFrame, region: str, first: str, second: str) -> pd.Series:
    """For each of `region`'s points, indexed by (x, y), whether the nets of trials `first` and
    `second` predict different classes there (the sign of their logits)."""
    rows = maps[maps["region"] == region]
    one = rows[rows["trial_id"] == first].set_index(["x", "y"])["logit"]
    two = rows[rows["trial_id"] == second].set_index(["x", "y"])["logit"]
    one, two = one.align(two, join="inner")
    return (one > 0) != (two > 0)


def disagreement(maps: pd.DataFrame, region: str, first: str, second: str) -> float:
    """The fraction of `region`'s points where the nets of trials `first` and `second` differ."""
    return float(differing(maps, region, first, second).mean())


def pair_mean(matrices: list[np.ndarray], weights: np.ndarray) -> float:
    """The mean of the pairs' values (matrices[g][i, j] for seeds i < j of grid point g; NaN where
    there is no such pair), each pair weighted by its two seeds' weights."""
    pair_weight = np.triu(np.outer(weights, weights), k=1)
    total = sum(float((pair_weight * ~np.isnan(m)).sum()) for m in matrices)
    return sum(float(np.nansum(pair_weight * m)) for m in matrices) / total if total > 0 else float("nan")


def check(data: SweepData) -> list[Verdict]:
    """C5a and C5b (given their premise) over every pair of nets of the sweep that differ in their
    seed alone; the interval resamples the seeds."""
    trials = ok_trials(data.trials)
    pairs = seed_pairs(data.trials)
    if not pairs:
        why = "needs two nets that differ only in their seed (two seeds), the sweep has fewer"
        return [verdict(claim, data.name, trials, notes=[why]) for claim in CLAIMS]
    maps = data.table("decision_maps")
    accuracy = data.table(data.experiment).set_index("trial_id")["accuracy"]
    seeds = sorted({int(row["seed"]) for pair in pairs for row in pair})
    names = [f"{a['seed']}-{b['seed']}" for a, b in pairs]
    if len(set(names)) < len(names):  # several grid points: tell their pairs apart by the first trial's id
        names = [f"{name} ({a['trial_id'].rsplit('-', 1)[-1][:8]})" for name, (a, _) in zip(names, pairs)]
    verdicts = []
    for claim, region in ((C5A, "manifold"), (C5B, "box")):
        matrices: dict[str, np.ndarray] = {}  # one seeds x seeds matrix per grid point (its pairs' first trial id's point)
        series = {}
        for name, (a, b) in zip(names, pairs):
            value = disagreement(maps, region, a["trial_id"], b["trial_id"])
            point = name.split(" ", 1)[1] if " " in name else ""
            matrix = matrices.setdefault(point, np.full((len(seeds), len(seeds)), np.nan))
            matrix[seeds.index(int(a["seed"])), seeds.index(int(b["seed"]))] = value
            series[name] = value
        evidence = Evidence(lambda w, m=list(matrices.values()): pair_mean(m, w[0]), (len(seeds),), min_seeds=PAIR_SEEDS, bounds=(0.0, 1.0))
        result = judge(claim, data.name, trials, evidence, series, [])
        # Both claims are about nets that fit: two nets that learned little may differ anywhere.
        verdicts.append(fit_premise(result, {int(row["seed"]): float(accuracy[row["trial_id"]]) for pair in pairs for row in pair}))
    return verdicts
