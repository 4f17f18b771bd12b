"""The paper's four claims as numbers, computed from a store with pandas alone.

Each claim is a Spearman rank correlation between a grid axis and a quantity the store holds,
compared with a fixed threshold. Every claim is checked per sweep: two sweeps of one experiment
at different sizes are two pieces of evidence, not one pooled sample. Like the paper's figures,
quantities are averaged over seeds before they are ranked.

Spearman's rho is the Pearson correlation of the ranks, ties sharing their mean rank. It is
computed here from pandas' `rank` so that no scipy is needed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Literal

import pandas as pd

from orchestrator.store import check_store, read_table, with_integer_columns
from results_schema import PERTURBATION_SPECTRA, SPECTRA, TRIALS, TrialStatus

HALF_MAGNITUDE = 0.5
"""Normalized magnitude at which a frequency counts as learned (C1) or as half destroyed (C4)."""

MIN_AXIS_VALUES = 3
"""Fewest distinct axis values a correlation is computed over: with two, rho is always +-1."""

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
    """The per-axis values the correlation was computed over (e.g. k -> first step at 0.5)."""
    never_crossed: list[int] = field(default_factory=list)
    """Frequencies that never crossed 0.5 (C1, C4): ranked as crossing just after the last value."""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return asdict(self)


CLAIMS = (
    Claim("C1", "learning_order", "lower frequencies are learned first (Experiment 1, per amplitude setting)",
          "rho(k, first step at which |F(k)|/A >= 0.5)", ">=", 0.9, "first step at 0.5, by k"),
    Claim("C2", "manifold_regression", "the loss falls as the manifold gets more complex (Experiment 2)",
          "rho(L, final MSE)", "<=", -0.8, "final MSE, by L"),
    Claim("C3a", "manifold_classification", "accuracy falls with k at fixed L (Experiment 3)",
          "mean over L of rho(k, accuracy)", "<=", -0.7, "rho(k, accuracy), by L"),
    Claim("C3b", "manifold_classification", "accuracy rises with L at fixed k >= 150 (Experiment 3)",
          "mean over k >= 150 of rho(L, accuracy)", ">=", 0.7, "rho(L, accuracy), by k"),
    Claim("C4", "perturbation", "higher frequencies are destroyed by smaller perturbations (Experiment 4)",
          "rho(k, delta at which |F(k)| falls below 0.5 of its unperturbed value)", "<=", -0.8,
          "delta at half magnitude, by k"),
)
"""The claims `sbsweep verify` checks, in the order it prints them."""

C3B_MIN_K = 150


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of two equally long series (NaN if either is constant)."""
    x, y = pd.Series(x, dtype=float).reset_index(drop=True), pd.Series(y, dtype=float).reset_index(drop=True)
    return float(x.rank().corr(y.rank()))


RHO_ROUNDING = 1e-9
"""Spearman's rho over n values is a ratio of small integers, but computed in floats it lands a
few ulps off (one swap among 4 values gives -0.7999999999999998, not -0.8), so a rho this close to
its threshold counts as on it."""


def _holds(claim: Claim, value: float) -> bool:
    if claim.comparison == ">=":
        return value >= claim.threshold - RHO_ROUNDING
    return value <= claim.threshold + RHO_ROUNDING


def _verdict(claim: Claim, sweep: str, trials: pd.DataFrame, **fields: object) -> Verdict:
    return Verdict(
        **{k: getattr(claim, k) for k in ("claim_id", "experiment", "statement", "statistic", "comparison", "threshold", "series_label")},
        sweep=sweep, trials=len(trials), seeds=trials["seed"].nunique(), **fields,  # type: ignore[arg-type]
    )


def _correlate(claim: Claim, sweep: str, trials: pd.DataFrame, series: pd.Series, notes: list[str]) -> Verdict:
    """Rank-correlate a series indexed by an axis with its index, and judge it."""
    series = series.sort_index()
    as_dict = {str(k): float(v) for k, v in series.items()}
    if len(series) < MIN_AXIS_VALUES:
        notes = notes + [f"needs at least {MIN_AXIS_VALUES} values of {series.index.name}, the sweep has {len(series)}"]
        return _verdict(claim, sweep, trials, series=as_dict, notes=notes)
    value = spearman(pd.Series(series.index), series)
    if pd.isna(value):
        return _verdict(claim, sweep, trials, series=as_dict, outcome="fail", notes=notes + ["rho is undefined: the values are all equal"])
    return _verdict(claim, sweep, trials, value=value, outcome="pass" if _holds(claim, value) else "fail", series=as_dict, notes=notes)


def _first_crossing(curves: pd.DataFrame, axis: str, below: bool) -> tuple[pd.Series, list[int]]:
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


def _never_note(never: list[int], what: str, last: float, unit: str) -> list[str]:
    if not never:
        return []
    return [f"k = {', '.join(map(str, never))} never {what} {last:g}{' ' + unit if unit else ''}: ranked as crossing just after {last:g}"]


def verify_c1(store: Path, trials: pd.DataFrame, sweep: str) -> list[Verdict]:
    """C1 per amplitude setting: the first step at which each k reaches half its amplitude rises with k."""
    claim = CLAIMS[0]
    spectra = read_table(store, SPECTRA.name, columns=["trial_id", "step", "k", "normalized_magnitude"])
    spectra = spectra.merge(trials[["trial_id", "amplitudes"]], on="trial_id")
    verdicts = []
    for setting, rows in trials.groupby("amplitudes", sort=True):
        curves = spectra[spectra["amplitudes"] == setting]
        if curves.empty:
            continue
        first, never = _first_crossing(curves, "step", below=False)
        notes = _never_note(never, "reached 0.5 within", float(curves["step"].max()), "steps")
        verdict = _correlate(claim, sweep, rows, first, notes)
        verdict.group, verdict.never_crossed = f"amplitudes: {setting}", never
        verdicts.append(verdict)
    return verdicts


def verify_c2(store: Path, trials: pd.DataFrame, sweep: str) -> list[Verdict]:
    """C2: the final MSE, mean over seeds, falls as L grows."""
    return [_correlate(CLAIMS[1], sweep, trials, trials.groupby("L")["loss"].mean(), [])]


def verify_c3(store: Path, trials: pd.DataFrame, sweep: str) -> list[Verdict]:
    """C3: accuracy falls with k at each L (C3a), and rises with L at each k >= 150 (C3b)."""
    accuracy = trials.pivot_table(index="L", columns="k", values="accuracy", aggfunc="mean")
    verdicts = []
    for claim, lines, axis in (
        (CLAIMS[2], accuracy, "k"),  # one line per L, running over k
        (CLAIMS[3], accuracy.loc[:, accuracy.columns >= C3B_MIN_K].T, "L"),  # one line per k, over L
    ):
        rhos = pd.Series({name: spearman(pd.Series(line.index), line) for name, line in lines.iterrows() if line.notna().sum() >= MIN_AXIS_VALUES}, dtype=float)
        rhos.index.name = "L" if axis == "k" else "k"
        undefined = rhos[rhos.isna()]
        notes = []
        if len(undefined):
            notes.append(f"{len(undefined)} line(s) with all-equal accuracy left out ({rhos.index.name} = {', '.join(map(str, undefined.index))})")
        defined = rhos.dropna()
        if defined.empty:
            why = f"no line with at least {MIN_AXIS_VALUES} values of {axis} and a defined rho"
            verdicts.append(_verdict(claim, sweep, trials, notes=notes + [why]))
            continue
        value = float(defined.mean())
        verdicts.append(_verdict(
            claim, sweep, trials, value=value, outcome="pass" if _holds(claim, value) else "fail",
            series={str(k): round(float(v), 4) for k, v in defined.items()}, notes=notes,
        ))
    return verdicts


def verify_c4(store: Path, trials: pd.DataFrame, sweep: str) -> list[Verdict]:
    """C4: the delta at which each k keeps half its unperturbed magnitude falls with k."""
    rows = read_table(store, PERTURBATION_SPECTRA.name, columns=["trial_id", "delta", "k", "normalized_magnitude"])
    rows = rows[rows["trial_id"].isin(trials["trial_id"])]
    if rows.empty:
        return [_verdict(CLAIMS[4], sweep, trials)]
    first, never = _first_crossing(rows, "delta", below=True)
    notes = _never_note(never, "fell below 0.5 up to delta", float(rows["delta"].max()), "")
    verdict = _correlate(CLAIMS[4], sweep, trials, first, notes)
    verdict.never_crossed = never
    return [verdict]


CHECKS: dict[str, Callable[[Path, pd.DataFrame, str], list[Verdict]]] = {
    "learning_order": verify_c1,
    "manifold_regression": verify_c2,
    "manifold_classification": verify_c3,
    "perturbation": verify_c4,
}
"""Experiment -> the check of its claim(s)."""


def verify_store(store: Path, sweeps: tuple[str, ...] = ()) -> list[Verdict]:
    """Every claim on every sweep of its experiment in the store (or in `sweeps`), using the trials
    that ended ok. A claim whose experiment has no such trials gets one "no data" verdict."""
    check_store(store)
    trials = read_table(store, TRIALS.name)
    if sweeps:
        trials = trials[trials["sweep"].isin(sweeps)]
    ok = trials[trials["status"] == "ok"]
    verdicts: list[Verdict] = []
    for experiment, check in CHECKS.items():
        found = []
        for sweep, rows in ok[ok["experiment"] == experiment].groupby("sweep", sort=True):
            failed = int(((trials["sweep"] == sweep) & (trials["status"] != TrialStatus.OK.value)).sum())
            for verdict in check(store, with_integer_columns(rows), str(sweep)):
                if failed:
                    verdict.notes.append(f"{failed} failed trial(s) of the sweep left out")
                found.append(verdict)
        claims = [c for c in CLAIMS if c.experiment == experiment]
        missing = [c for c in claims if c.claim_id not in {v.claim_id for v in found}]
        found += [_verdict(c, None, ok.iloc[:0]) for c in missing]  # type: ignore[arg-type]
        verdicts += sorted(found, key=lambda v: [c.claim_id for c in CLAIMS].index(v.claim_id))
    return verdicts


def all_hold(verdicts: list[Verdict]) -> bool:
    """True when every verdict with data passed (a store with no data at all holds vacuously)."""
    return all(v.outcome != "fail" for v in verdicts)


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def report_lines(verdicts: list[Verdict]) -> list[str]:
    """The verdicts as a table (one row each), then what each statistic is and the values behind it."""
    header = ("claim", "result", "rho", "threshold", "trials", "seeds", "sweep")
    rows = [
        (
            v.claim_id, v.outcome, "-" if v.value is None else f"{v.value:+.3f}", f"{v.comparison} {v.threshold:+g}",
            str(v.trials), str(v.seeds), (v.sweep or "-") + (f" ({v.group})" if v.group else ""),
        )
        for v in verdicts
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    right = {2, 4, 5}
    lines = ["  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in [header, *rows]]
    lines.append("")
    for claim in CLAIMS:
        lines.append(f"{claim.claim_id}: {claim.statement}; statistic: {claim.statistic}")
        for v in (v for v in verdicts if v.claim_id == claim.claim_id and v.sweep):
            where = v.sweep + (f" ({v.group})" if v.group else "")
            never = {str(k) for k in v.never_crossed}
            values = ", ".join(f"{axis}: {'never' if axis in never else _number(value)}" for axis, value in v.series.items())
            lines.append(f"  {where}: {v.series_label}: {values}")
            lines += [f"    note: {note}" for note in v.notes]
    judged = [v for v in verdicts if v.outcome != "no data"]
    failed = [f"{v.claim_id} on {v.sweep}" + (f" ({v.group})" if v.group else "") for v in judged if v.outcome == "fail"]
    empty = [v.claim_id for v in verdicts if v.outcome == "no data"]
    lines.append("")
    lines.append(
        f"{len(judged) - len(failed)} of {len(judged)} verdicts held"
        + (f"; failed: {', '.join(failed)}" if failed else "")
        + (f"; no data: {', '.join(empty)}" if empty else "")
        + ". rho is Spearman's over the seed means; ties share their mean rank."
    )
    return lines
