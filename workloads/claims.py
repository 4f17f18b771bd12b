"""What a claim of the paper is as a number, and the statistics the experiments' claims share.

Each claim is a Spearman rank correlation between a grid axis and a quantity the store holds (or
another number with a threshold), checked per sweep: two sweeps of one experiment at different
sizes are two pieces of evidence, not one pooled sample. Like the paper's figures, quantities
are averaged over seeds before they are ranked. Spearman's rho is the Pearson correlation of the
ranks, ties sharing their mean rank, computed from pandas' `rank` (no scipy needed).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

import pandas as pd

HALF_MAGNITUDE = 0.5
"""Normalized magnitude at which a frequency counts as learned (C1) or as half destroyed (C4)."""

MIN_AXIS_VALUES = 3
"""Fewest distinct axis values a correlation is computed over: with two, rho is always +-1."""

RHO_ROUNDING = 1e-9
"""Spearman's rho over n values is a ratio of small integers, but computed in floats it lands a
few ulps off (one swap among 4 values gives -0.7999999999999998, not -0.8), so a rho this close to
its threshold counts as on it."""

Outcome = Literal["pass", "fail", "no data"]


@dataclass(frozen=True)
class Claim:
    """One of the paper's claims as a statistic, a comparison and a threshold."""

    claim_id: str
    experiment: str
    statement: str
    statistic: str
    comparison: Literal[">=", "<="]
    threshold: float
    series_label: str
    """What the per-axis values behind the statistic are (printed beside them)."""

    def holds(self, value: float) -> bool:
        """Whether `value` is on the right side of the threshold (within RHO_ROUNDING)."""
        if self.comparison == ">=":
            return value >= self.threshold - RHO_ROUNDING
        return value <= self.threshold + RHO_ROUNDING


@dataclass
class Verdict:
    """What one claim came to on one sweep (or on the whole store, when it has no data)."""

    claim_id: str
    experiment: str
    statement: str
    statistic: str
    comparison: str
    threshold: float
    series_label: str
    sweep: str | None = None
    group: str | None = None
    """The part of the sweep the verdict is about, e.g. 'amplitudes: equal' (C1)."""
    value: float | None = None
    outcome: Outcome = "no data"
    trials: int = 0
    seeds: int = 0
    series: dict[str, float] = field(default_factory=dict)
    """The per-axis values the statistic was computed over (e.g. k -> first step at 0.5)."""
    never_crossed: list[int] = field(default_factory=list)
    """Frequencies that never crossed 0.5 (C1, C4): ranked as crossing just after the last value."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return asdict(self)


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of two equally long series (NaN if either is constant)."""
    x, y = pd.Series(x, dtype=float).reset_index(drop=True), pd.Series(y, dtype=float).reset_index(drop=True)
    return float(x.rank().corr(y.rank()))


def rho_by_line(lines: pd.DataFrame) -> pd.Series:
    """Spearman's rho of each row of `lines` (a line over the columns) against the column values,
    for the rows with at least MIN_AXIS_VALUES values; NaN where a line is the same everywhere."""
    long_enough = lines[lines.notna().sum(axis=1) >= MIN_AXIS_VALUES]
    return pd.Series({name: spearman(pd.Series(line.index), line) for name, line in long_enough.iterrows()}, dtype=float)


def verdict(claim: Claim, sweep: str | None, trials: pd.DataFrame, **fields: object) -> Verdict:
    """A verdict of `claim` on `sweep`, counting the trials (and seeds) it rests on."""
    return Verdict(
        **{k: getattr(claim, k) for k in ("claim_id", "experiment", "statement", "statistic", "comparison", "threshold", "series_label")},
        sweep=sweep, trials=len(trials), seeds=trials["seed"].nunique() if len(trials) else 0, **fields,  # type: ignore[arg-type]
    )


def judge(claim: Claim, sweep: str, trials: pd.DataFrame, value: float, series: dict[str, float], notes: list[str]) -> Verdict:
    """A verdict with a value: pass or fail by the claim's threshold."""
    return verdict(claim, sweep, trials, value=value, outcome="pass" if claim.holds(value) else "fail", series=series, notes=notes)


def correlate(claim: Claim, sweep: str, trials: pd.DataFrame, series: pd.Series, notes: list[str]) -> Verdict:
    """Rank-correlate a series indexed by an axis with its index, and judge it."""
    series = series.sort_index()
    as_dict = {str(k): float(v) for k, v in series.items()}
    if len(series) < MIN_AXIS_VALUES:
        notes = notes + [f"needs at least {MIN_AXIS_VALUES} values of {series.index.name}, the sweep has {len(series)}"]
        return verdict(claim, sweep, trials, series=as_dict, notes=notes)
    value = spearman(pd.Series(series.index), series)
    if pd.isna(value):
        return verdict(claim, sweep, trials, series=as_dict, outcome="fail", notes=notes + ["rho is undefined: the values are all equal"])
    return judge(claim, sweep, trials, value, as_dict, notes)


def first_crossing(curves: pd.DataFrame, axis: str, below: bool) -> tuple[pd.Series, list[int]]:
    """Per k, the first `axis` value at which the seed-mean normalized magnitude reaches 0.5 (or
    falls below it, if `below`); never is counted as just after the last axis value.

    Returns the series (indexed by k) and the frequencies that never crossed.
    """
    mean = curves.pivot_table(index=axis, columns="k", values="normalized_magnitude", aggfunc="mean").sort_index()
    crossed = mean < HALF_MAGNITUDE if below else mean >= HALF_MAGNITUDE
    last = float(mean.index.max())
    # idxmax finds the first True; a column with none gets the "after the last value" stand-in.
    first = crossed.idxmax().astype(float).where(crossed.any(), last + (1.0 if axis == "step" else 1e-9))
    first.index.name = "k"
    return first, [int(k) for k in crossed.columns[~crossed.any()]]


def never_note(never: list[int], what: str, last: float, unit: str) -> list[str]:
    """The note that says which frequencies never crossed, and how they were ranked."""
    if not never:
        return []
    return [f"k = {', '.join(map(str, never))} never {what} {last:g}{' ' + unit if unit else ''}: ranked as crossing just after {last:g}"]


def ok_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials of a sweep that ended ok: the ones every claim is judged on."""
    return trials[trials["status"] == "ok"]
