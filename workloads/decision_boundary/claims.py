"""Figure 2's claims as numbers, for `sbsweep verify`."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import pandas as pd

from workloads.claims import Claim, Verdict, judge, ok_trials, verdict
from workloads.decision_boundary.config import DecisionBoundaryConfig
from workloads.experiment import SweepData

C5A = Claim(
    "C5a", "decision_boundary", "two nets identical up to initialisation agree on the manifold (Figure 2)",
    "fraction of the training points where their classes differ, mean over pairs of nets that differ in their seed alone", "<=", 0.05,
    "disagreement on the training points, by pair of seeds",
)
C5B = Claim(
    "C5b", "decision_boundary", "two nets identical up to initialisation differ off the manifold (Figure 2)",
    "fraction of the box where their classes differ, mean over pairs of nets that differ in their seed alone", ">=", 0.1,
    "disagreement over the box, by pair of seeds",
)
CLAIMS = (C5A, C5B)
"""Thresholds: 'close to perfect accuracy' on the manifold leaves two nets at most 5% of its points
to disagree on; 'they differ significantly elsewhere' is a tenth of the box or more."""


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


def check(data: SweepData) -> list[Verdict]:
    """C5a and C5b over every pair of nets of the sweep that differ in their seed alone."""
    trials = ok_trials(data.trials)
    pairs = seed_pairs(data.trials)
    if not pairs:
        why = "needs two nets that differ only in their seed (two seeds), the sweep has fewer"
        return [verdict(claim, data.name, trials, notes=[why]) for claim in CLAIMS]
    maps = data.table("decision_maps")
    verdicts = []
    for claim, region in ((C5A, "manifold"), (C5B, "box")):
        names = [f"{a['seed']}-{b['seed']}" for a, b in pairs]
        if len(set(names)) < len(names):  # several grid points: tell their pairs apart by the first trial's id
            names = [f"{name} ({a['trial_id'].rsplit('-', 1)[-1][:8]})" for name, (a, _) in zip(names, pairs)]
        series = {name: disagreement(maps, region, a["trial_id"], b["trial_id"]) for name, (a, b) in zip(names, pairs)}
        verdicts.append(judge(claim, data.name, trials, sum(series.values()) / len(series), series, []))
    return verdicts
