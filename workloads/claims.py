"""What a claim of the paper is as a number, how sure a verdict of it is, and the statistics the
experiments' claims share.

Each claim is a statistic of one sweep's stored results and a threshold, checked per sweep: two
sweeps of one experiment at different sizes are two pieces of evidence, not one pooled sample.
Like the paper's figures, quantities are averaged over seeds before the statistic is computed.
Most statistics are Spearman rank correlations: the Pearson correlation of the ranks, ties
sharing their mean rank.

How sure a verdict is: a sweep's seeds are its independent replicates, so each verdict carries an
interval over them (Evidence.interval): a jackknife-t interval for a statistic smooth in the seed
means (a mean, a ratio: the statistic recomputed leaving out one seed at a time, Student's t with
seeds - 1 degrees of freedom), and for a statistic of an order (a rank correlation over a few grid
values, a share of ordered pairs or of steps) the projection of its contrasts' simultaneous
intervals (workloads/orders.py), which holds at near-ties where a jackknife of the step function
collapses to zero width. Its level is the verdict's look's (orchestrator/looks.py); CONFIDENCE is
the default of a verdict judged outside a store. A verdict passes when the whole interval lies on
the claim's side of its threshold, fails when it lies on the other side, and is inconclusive in
between; never pass or fail on a zero-width interval that some seed's own value contradicts. With
fewer seeds than an interval needs (MIN_SEEDS) a verdict is `unreplicated`: neither pass nor
fail, whatever its value, with each seed's own value shown. `python benchmarks/coverage.py`
measures every claim's coverage and false passes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from results_schema import TrialStatus
from workloads.orders import (
    Contrasts,
    defined_positions,
    learning_time,
    line_pairs,
    lines_rho_ranges,
    pair_contrasts,
    resolved_signs,
    share,
    share_range,
)

HALF_MAGNITUDE = 0.5
"""Normalized magnitude at which a frequency counts as learned (C1) or as half destroyed (C4)."""

MIN_AXIS_VALUES = 3
"""Fewest distinct axis values a correlation is computed over: with two, rho is always +-1."""

RHO_ROUNDING = 1e-9
"""Spearman's rho over n values is a ratio of small integers, but computed in floats it lands a
few ulps off (one swap among 4 values gives -0.7999999999999998, not -0.8), so a value this close
to its threshold counts as on it."""

MIN_SEEDS = 3
"""Fewest seeds (per sample) a verdict's interval needs: leaving one out of 2 leaves one seed, and
Student's t with 1 degree of freedom gives intervals too wide to decide anything."""

CONFIDENCE = 0.95
"""The interval's nominal coverage (verify's; `decide` uses more per look, see orchestrator/decide.py)."""

FIT_ACCURACY = 0.95
"""The share of its training points a net must classify right to count as having fitted them: the
paper's nets fit the manifold "close to perfectly" (Figure 2), and a net that learned little tells
nothing about what a trained net prefers (Figure 10e). Claims about trained nets' functions take it
as their premise."""

RHO_BOUNDS = (-1.0, 1.0)
"""Where a rank correlation lies: its interval is clipped to them."""

Outcome = Literal["pass", "fail", "inconclusive", "unreplicated", "no data"]
OUTCOMES: tuple[Outcome, ...] = ("pass", "fail", "inconclusive", "unreplicated", "no data")


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
    uses: tuple[str, ...] = ()
    """The config fields the statistic itself runs over or splits by (C1: amplitudes; C3: k and L).
    verify gives every other grid axis of a sweep a verdict per value (seeds are always averaged)."""
    figure: tuple[str, str] = ("", "")
    """(the paper's figure the claim stands for, the stem of the figure sbsweep draws of a sweep for
    it: '<stem>_<sweep>.png' in the store's figures folder), for the report"""

    def holds(self, value: float) -> bool:
        """Whether `value` is on the claim's side of the threshold (within RHO_ROUNDING)."""
        if self.comparison == ">=":
            return value >= self.threshold - RHO_ROUNDING
        return value <= self.threshold + RHO_ROUNDING

    def outcome(self, low: float, high: float) -> Outcome:
        """pass if the interval [low, high] lies on the claim's side, fail if on the other side,
        inconclusive if it straddles the threshold."""
        holds = self.holds(low), self.holds(high)
        return "pass" if all(holds) else "fail" if not any(holds) else "inconclusive"


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
    reads: list[str] = field(default_factory=list)
    """Every sweep whose seeds the statistic rests on (its own, and C7a's net's sweep); more seeds
    of these are what can decide it."""
    group: str | None = None
    """The part of the sweep the verdict is about, e.g. 'amplitudes: equal' (C1), or the values of
    the grid axes the claim does not use, e.g. 'fourier_scale: 3'."""
    axes: dict[str, object] = field(default_factory=dict)
    """The values of the sweep's grid axes the claim does not use, for this verdict (empty when the
    sweep has none)."""
    value: float | None = None
    """The statistic on the sweep's seed means."""
    interval: list[float] | None = None
    """[low, high]: the interval over the seeds at `confidence` (see `method`); None when unreplicated
    (or no data)."""
    confidence: float = CONFIDENCE
    """The interval's nominal coverage: the level of the look it was judged at (see `look`)."""
    method: str | None = None
    """How the interval was made: 'jackknife-t' (a statistic smooth in the seed means) or
    'pairwise projection' (a statistic of an order; workloads/orders.py)."""
    look: int | None = None
    """Which look at this claim on this sweep the verdict is: 1 for the first set of trials it was
    judged on, one more for each later set (orchestrator/looks.py); its level depends on it."""
    per_seed: list[float | None] = field(default_factory=list)
    """Each seed's own statistic (None where it needs several seeds, as C5's pairs do)."""
    agreeing: int | None = None
    """How many seeds' own statistics lie on the verdict's side of the threshold (for pass, the
    claim's side; for fail, the other; for inconclusive or unreplicated, the claim's)."""
    outcome: Outcome = "no data"
    trials: int = 0
    seeds: int = 0
    series: dict[str, float] = field(default_factory=dict)
    """The per-axis values the statistic was computed over (e.g. k -> first step at 0.5)."""
    never_crossed: list[int] = field(default_factory=list)
    """Frequencies whose seed-mean curve never crossed 0.5 (C1, C4, C9a); their series value is an
    area like any other's."""
    notes: list[str] = field(default_factory=list)
    premise_failed: str | None = None
    """Why the claim's premise does not hold on this sweep (C5a: a net that does not fit its
    points): the verdict is then a fail, whatever its statistic and interval."""
    unresolved: str | None = None
    """Why the data cannot answer the claim at their resolution (C1: every k crossed at the first
    eval step): the verdict is then inconclusive, whatever its statistic."""
    evidence: Evidence | None = field(default=None, repr=False, compare=False)
    """What the value and interval were computed from (to judge again at another confidence);
    not part of the verdict's data."""

    def as_dict(self) -> dict[str, object]:
        """Plain JSON-ready form."""
        return {k: v for k, v in asdict(replace(self, evidence=None)).items() if k != "evidence"}


# --- how sure: intervals over seeds -------------------------------------------------------------

Weights = Sequence[np.ndarray]
"""One weight vector per sample of seeds, each summing to 1: how much each seed counts."""


def _equal(n: int) -> np.ndarray:
    return np.full(n, 1.0 / n)


def _leave_out(n: int, seed: int) -> np.ndarray:
    weights = np.full(n, 1.0 / (n - 1))
    weights[seed] = 0.0
    return weights


def t_quantile(confidence: float, df: int) -> float:
    """Student's t quantile of a two-sided `confidence` interval with `df` degrees of freedom."""
    from scipy.stats import t  # lazy: scipy.stats takes a while to import, and only verdicts need it

    return float(t.ppf(1 - (1 - confidence) / 2, df))


@dataclass(frozen=True)
class Evidence:
    """A statistic as a function of how much each seed counts, so that seeds can be left out.

    `statistic` receives one weight vector per sample of seeds (most claims have one sample, the
    sweep's seeds; C7a has two, the k-NN's and the net's), each summing to 1: equal weights give
    the statistic of the seed means, a zero leaves a seed out, a single one is that seed alone.

    A statistic smooth in the seed means (a mean, a ratio) gets a jackknife-t interval. A statistic
    of an order (a rank correlation over a few grid values, a share of ordered pairs) names the
    `contrasts` whose signs it depends on, and gets their projection (workloads/orders.py): a
    jackknife over such a statistic itself sees no spread at a near-tie.
    """

    statistic: Callable[[Weights], float]
    seeds: tuple[int, ...]
    """how many seeds each sample has"""
    min_seeds: int = MIN_SEEDS
    """fewest seeds per sample an interval needs"""
    bounds: tuple[float, float] | None = None
    """where the statistic can lie (a rank correlation's [-1, 1]): the interval is clipped to them"""
    joint: bool = False
    """the samples are the same seeds (C7a: the k-NN's and the net's seed s share their labels): a
    seed is left out of every sample at once, not of each in turn"""
    contrasts: Contrasts | None = None
    """for a statistic of an order: the contrasts it depends on and its range given their signs"""

    @property
    def method(self) -> str:
        """The interval's name, as verify prints it."""
        return "pairwise projection" if self.contrasts is not None else "jackknife-t"

    def value(self) -> float:
        """The statistic with every seed counted once."""
        return float(self.statistic([_equal(n) for n in self.seeds]))

    def jackknife(self, function: Callable[[Weights], object]) -> tuple[np.ndarray, np.ndarray]:
        """`function` (a scalar or a vector of the seed weights) at the seed means, and its
        jackknife standard error: each sample's seeds left out one at a time (the others at equal
        weights), the variances of the samples added; with `joint` samples, seed i is left out of
        all of them at once. An element undefined with some seed left out has an undefined error."""
        value = np.asarray(function([_equal(n) for n in self.seeds]), float)
        variance = np.zeros_like(value)
        if self.joint:
            n = self.seeds[0]
            passes = [[[_leave_out(n, i)] * len(self.seeds) for i in range(n)]]
        else:
            passes = [[[_leave_out(m, i) if k == j else _equal(m) for k, m in enumerate(self.seeds)] for i in range(n)]
                      for j, n in enumerate(self.seeds)]
        for weights in passes:
            left_out = np.array([np.asarray(function(w), float) for w in weights])
            n = len(weights)
            variance = variance + (n - 1) / n * ((left_out - left_out.mean(axis=0)) ** 2).sum(axis=0)
        return value, np.sqrt(variance)

    def interval(self, confidence: float = CONFIDENCE) -> tuple[list[float] | None, int]:
        """The interval ([low, high]) at `confidence` and how many leave-one-out values it rests
        on; None when a sample has fewer than min_seeds seeds, or (jackknife-t) a value leaving a
        seed out is undefined. See the class docstring for which interval."""
        if min(self.seeds) < self.min_seeds:
            return None, 0
        count = self.seeds[0] if self.joint else sum(self.seeds)
        df = min(self.seeds) - 1
        if self.contrasts is not None:
            values, errors = self.jackknife(self.contrasts.differences)
            defined = int(np.isfinite(values).sum())
            if not defined:
                return None, 0
            quantile = t_quantile(1 - (1 - confidence) / defined, df)  # Bonferroni over the contrasts
            low, high = self.contrasts.sign_range(resolved_signs(values, errors, quantile))
            if not (np.isfinite(low) and np.isfinite(high)):
                return None, 0
        else:
            value, error = self.jackknife(self.statistic)
            if not (np.isfinite(value) and np.isfinite(error)):
                return None, 0
            half = t_quantile(confidence, df) * float(error)
            low, high = float(value) - half, float(value) + half
        if self.bounds is not None:
            low, high = max(low, self.bounds[0]), min(high, self.bounds[1])
        return [float(low), float(high)], count

    def per_seed(self) -> list[float | None]:
        """Each seed's own statistic (the seeds of every sample taken by position, where the samples
        have as many seeds); None where a seed alone gives no value."""
        if len(set(self.seeds)) != 1:
            return []
        n = self.seeds[0]
        values = []
        for i in range(n):
            alone = np.zeros(n)
            alone[i] = 1.0
            value = float(self.statistic([alone] * len(self.seeds)))
            values.append(value if np.isfinite(value) else None)
        return values


def seed_mean(stack: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean over the first axis (seeds) of `stack`, leaving out a seed's missing
    (NaN) values; NaN where no seed with weight has a value."""
    present = ~np.isnan(stack)
    shape = (-1,) + (1,) * (stack.ndim - 1)
    w = weights.reshape(shape) * present
    total = w.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (np.where(present, stack, 0.0) * w).sum(axis=0) / total, np.nan)


@dataclass(frozen=True)
class SeedStack:
    """A stored quantity as an array with seeds first: stack[s, i, j, ...] is seed `seeds[s]`'s
    value at axis values (axes[0][i], axes[1][j], ...); NaN where a seed has no value."""

    seeds: np.ndarray
    names: tuple[str, ...]
    """the axes' names (columns of the table it was read from)"""
    axes: tuple[np.ndarray, ...]
    stack: np.ndarray

    def mean(self, weights: np.ndarray | None = None) -> np.ndarray:
        """The seed mean (equal weights by default)."""
        return seed_mean(self.stack, np.full(len(self.seeds), 1.0 / len(self.seeds)) if weights is None else weights)


def seed_stack(frame: pd.DataFrame, axes: Sequence[str], values: str) -> SeedStack:
    """Column `values` of `frame` by seed and by the named axes (rows of one cell averaged)."""
    means = frame.groupby(["seed", *axes])[values].mean()
    levels = [np.sort(frame[column].unique()) for column in ("seed", *axes)]
    full = means.reindex(pd.MultiIndex.from_product(levels, names=["seed", *axes]))
    return SeedStack(levels[0], tuple(axes), tuple(levels[1:]), full.to_numpy(float).reshape([len(level) for level in levels]))


# --- statistics -------------------------------------------------------------------------------------


def ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks of `values`, ties sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    group = np.cumsum(np.r_[True, ordered[1:] != ordered[:-1]]) - 1  # tie group of each sorted value
    counts = np.bincount(group)
    last = np.cumsum(counts)
    result = np.empty(len(values))
    result[order] = ((last - counts + 1 + last) / 2)[group]
    return result


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of two equally long arrays (NaN if either is constant)."""
    rx, ry = ranks(np.asarray(x, float)), ranks(np.asarray(y, float))
    rx, ry = rx - rx.mean(), ry - ry.mean()
    scale = np.sqrt((rx @ rx) * (ry @ ry))
    return float(rx @ ry / scale) if scale > 0 else float("nan")


def spearman(x: pd.Series, y: pd.Series) -> float:
    """Spearman's rank correlation of two equally long series (NaN if either is constant)."""
    return rank_correlation(np.asarray(x, float), np.asarray(y, float))


def line_rhos(lines: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Spearman's rho of each row of `lines` against `points`, over the row's defined values;
    NaN for a row with fewer than MIN_AXIS_VALUES of them or the same value everywhere."""
    rhos = np.full(len(lines), np.nan)
    for index, line in enumerate(lines):
        defined = ~np.isnan(line)
        if defined.sum() >= MIN_AXIS_VALUES:
            rhos[index] = rank_correlation(points[defined], line[defined])
    return rhos


def mean_defined(values: np.ndarray) -> float:
    """The mean of the defined (non-NaN) values; NaN when there are none."""
    defined = values[~np.isnan(values)]
    return float(defined.mean()) if len(defined) else float("nan")


def first_crossing(curves: np.ndarray, axis: np.ndarray, below: bool, after_last: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column of `curves` (rows: the values of `axis`, ascending), the first axis value at
    which the curve reaches HALF_MAGNITUDE (or falls below it, if `below`); `after_last` for a
    column that never does. Returns (first values, which columns never crossed)."""
    crossed = curves < HALF_MAGNITUDE if below else curves >= HALF_MAGNITUDE
    never = ~crossed.any(axis=0)
    first = np.where(never, after_last, axis[crossed.argmax(axis=0)].astype(float))
    return first, never


@dataclass(frozen=True)
class Crossings:
    """How soon each frequency's seed-mean reading is learned along an axis (C1's steps, C4's
    deltas, C9a's steps), and the evidence for their order.

    The order is read from each k's learning time: the area between its seed-mean curve (clipped to
    [0, 1]) and 1 along the axis (orders.learning_time), which is the first crossing for a curve that
    jumps, and smooth in the seed means where the first crossing is a step function of them (no
    interval for an order of first crossings kept its coverage, see docs/verify.md). The first
    crossings of 0.5 are kept for the notes and to tell an order the eval grid cannot resolve."""

    ks: np.ndarray
    """the frequencies (or bins), ascending"""
    times: np.ndarray
    """each k's learning time at the seed means (in units of the axis)"""
    first: np.ndarray
    """the first axis value at which each k's seed mean crossed 0.5 (`after_last` where it never did)"""
    never: list[int]
    """the k (or bins) that never crossed 0.5"""
    evidence: Evidence
    unresolved: str | None = None
    """why no order can be read (every k crossed at the same axis value), or None"""

    @property
    def series(self) -> dict[str, float]:
        """k -> its learning time, as a verdict's series."""
        return {str(int(k)): float(v) for k, v in zip(self.ks, self.times)}


def unresolved(crossed: np.ndarray, never: np.ndarray, axis: str, what: str) -> str | None:
    """Why an order cannot be read from the crossings (None if it can): every k that crossed did so
    at the same `axis` value, so the grid of `axis` values is too coarse to order them."""
    values = crossed[~never]
    if len(values) < 2 or len(set(values.tolist())) > 1:
        return None
    return (f"unresolved: every {what} that crossed did so at {axis} {values[0]:g}, so the order cannot be read at this resolution "
            f"(not a reversed order: evaluate earlier, e.g. early_evals)")


def pair_evidence(summaries: Callable[[Weights], np.ndarray], seeds: tuple[int, ...], later: bool = True, lag: float = 0.0,
                  left_out: np.ndarray | None = None) -> Evidence:
    """The share of the pairs i < j of `summaries` (smooth in the seed means, one per ascending k)
    in order: j's beyond i's in the claim's direction (later, or earlier if not `later`), by more
    than `lag` of the earlier one; an exact tie counts half without a lag; the pairs `left_out`
    (a mask over the pairs, in np.triu_indices order) are not counted. Its interval is the
    projection of the pairs' simultaneous intervals (orders.share_range)."""
    ties = 0.5 if lag == 0 else 0.0

    def contrasts(weights: Weights) -> np.ndarray:
        values = pair_contrasts(summaries(weights), later=later, lag=lag)
        return values if left_out is None else np.where(left_out, np.nan, values)

    return Evidence(lambda w: share(contrasts(w), ties), seeds, bounds=(0.0, 1.0), contrasts=Contrasts(contrasts, share_range))


def crossings(rows: pd.DataFrame, axis: str, reading: str, below: bool, after_last: float, over: str = "k", later: bool = True,
              lag: float = 0.0) -> Crossings:
    """Per value of `over` (a frequency k, or a bin of a spectrum), how soon along `axis` the seed
    mean of `reading` is learned (its area above the curve; below it, if `below`: how long it
    survives), and the evidence for their order (pair_evidence, `later` with `over`, by `lag`)."""
    stack = seed_stack(rows, [axis, over], reading)
    values, ks = stack.axes

    def times(weights: Weights) -> np.ndarray:
        return learning_time(stack.mean(weights[0]), values, rising=not below)

    crossed, never = first_crossing(stack.mean(), values, below, after_last)
    # A pair neither of which crosses 0.5 (at the seed means) says nothing of the order in which they
    # are learned: left out, as the claims have always read it.
    i, j = np.triu_indices(len(ks), k=1)
    evidence = pair_evidence(times, (len(stack.seeds),), later=later, lag=lag, left_out=never[i] & never[j])
    return Crossings(ks, times([_equal(len(stack.seeds))]), crossed, [int(k) for k in ks[never]], evidence,
                     unresolved(crossed, never, axis, over))


def rank_evidence(axis: np.ndarray, lines: Callable[[Weights], np.ndarray], seeds: tuple[int, ...]) -> Evidence | None:
    """The mean over lines of Spearman's rho of (axis, line), each line (a row of `lines`, smooth in
    the seed means) over its defined values; a line with fewer than MIN_AXIS_VALUES of them or one
    value everywhere (at the seed means) is left out. None when every line is. Its interval is the
    projection of the pairwise differences' simultaneous intervals (orders.rho_range)."""
    every = defined_positions(np.atleast_2d(lines([_equal(n) for n in seeds])), MIN_AXIS_VALUES)
    rows = [row for row, kept in enumerate(every) if len(kept)]
    positions = [every[row] for row in rows]
    if not rows:
        return None

    def statistic(weights: Weights) -> float:
        values = np.atleast_2d(lines(weights))
        return mean_defined(np.array([rank_correlation(axis[kept], values[row][kept]) for row, kept in zip(rows, positions)]))

    def contrasts(weights: Weights) -> np.ndarray:
        return line_pairs(np.atleast_2d(lines(weights))[rows], positions)

    def sign_range(signs: np.ndarray) -> tuple[float, float]:
        low, high = lines_rho_ranges(axis, positions, signs).mean(axis=0)
        return float(low), float(high)

    return Evidence(statistic, seeds, bounds=RHO_BOUNDS, contrasts=Contrasts(contrasts, sign_range))


def fit_premise(result: Verdict, fitted: dict[int, float]) -> Verdict:
    """A verdict about trained nets' functions, failed on its premise where a net (`fitted`: seed ->
    its training accuracy) does not fit FIT_ACCURACY of its training points; the accuracies noted."""
    shares = ", ".join(f"seed {seed}: {share:.3f}" for seed, share in sorted(fitted.items()))
    if not fitted:
        result.premise_failed = "no net's training accuracy is stored, so whether the nets fit is unknown"
    elif any(not share >= FIT_ACCURACY for share in fitted.values()):
        result.premise_failed = f"not every net fits its training points (>= {FIT_ACCURACY}); training accuracy {shares}"
    if result.premise_failed:
        result.outcome = "fail"
        result.notes.append(f"premise failed: {result.premise_failed}")
    else:
        result.notes.append(f"premise holds: every net fits >= {FIT_ACCURACY} of its training points ({shares})")
    return result


def too_few(axis: str, count: int) -> str:
    """The note of a correlation over too few values of its axis."""
    return f"needs at least {MIN_AXIS_VALUES} values of {axis}, the sweep has {count}"


def never_note(never: list[int], what: str, last: float, unit: str, label: str = "k") -> list[str]:
    """The note that says which frequencies (or bins, `label`) never crossed 0.5, and how they are ordered."""
    if not never:
        return []
    return [f"{label} = {', '.join(map(str, never))} never {what} {last:g}{' ' + unit if unit else ''}: ordered by the area of their "
            "curves like the others; a pair of them is left out"]


def hashable(value: object) -> object:
    """A config value as a key: a list (a tuple field, as stored) as a tuple."""
    return tuple(value) if isinstance(value, list) else value


def varying_fields(trials: pd.DataFrame, fields: list[str]) -> list[str]:
    """Those of `fields` (config columns of a sweep's trials) that take more than one value among
    its ok trials: the sweep's grid axes, in the order given. A null is no value: the field has no
    effect on that trial (Experiment.unused), so a field null in some trials and the same in the
    rest does not vary."""
    ok = ok_trials(trials)
    return [f for f in fields if f in ok and ok[f].map(hashable).nunique(dropna=True) > 1]


def applied(axes: Sequence[str], values: Sequence[object]) -> dict[str, object]:
    """The axis values of a group of trials, less the axes that do not apply to them (null: no
    effect on those trials), so a group is named by what its trials compute."""
    return {axis: value for axis, value in zip(axes, values) if not (value is None or (isinstance(value, float) and math.isnan(value)))}


def spread_over(frame: pd.DataFrame, field: str, values: Sequence[object]) -> pd.DataFrame:
    """`frame` with its rows whose `field` is null (the field has no effect on their trials) repeated
    at each of `values`: one label-noise run at amplitude 0 is the baseline at every noise frequency."""
    unset = frame[field].isna()
    if not unset.any():
        return frame
    copies = [frame[unset].assign(**{field: value}) for value in values]
    return pd.concat([frame[~unset], *copies], ignore_index=True)


def ok_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials of a sweep that ended ok: the ones every claim is judged on."""
    return trials[trials["status"] == TrialStatus.OK]


# --- verdicts -----------------------------------------------------------------------------------------


def verdict(claim: Claim, sweep: str | None, trials: pd.DataFrame, **fields: object) -> Verdict:
    """A verdict of `claim` on `sweep`, counting the trials (and seeds) it rests on."""
    fields.setdefault("reads", [sweep] if sweep else [])
    return Verdict(
        **{k: getattr(claim, k) for k in ("claim_id", "experiment", "statement", "statistic", "comparison", "threshold", "series_label")},
        sweep=sweep, trials=len(trials), seeds=trials["seed"].nunique() if len(trials) else 0, **fields,  # type: ignore[arg-type]
    )


def judge(claim: Claim, sweep: str, trials: pd.DataFrame, evidence: Evidence, series: dict[str, float], notes: list[str],
          confidence: float = CONFIDENCE, unresolved: str | None = None) -> Verdict:
    """A verdict with a value and, where the seeds allow, an interval: pass, fail or inconclusive
    by where the interval lies; unreplicated where there are too few seeds for one; inconclusive
    whatever the value where the data cannot resolve the claim (`unresolved`: why)."""
    value = evidence.value()
    if unresolved:
        notes = [*notes, unresolved]
    if not np.isfinite(value):
        if unresolved:
            return verdict(claim, sweep, trials, series=series, outcome="inconclusive", notes=notes, unresolved=unresolved)
        return verdict(claim, sweep, trials, series=series, outcome="fail", notes=notes + ["the statistic is undefined: its values are all equal"])
    result = verdict(claim, sweep, trials, value=value, series=series, notes=list(notes), evidence=evidence, per_seed=evidence.per_seed(),
                     unresolved=unresolved)
    return at_confidence(claim, result, confidence)


def at_confidence(claim: Claim, result: Verdict, confidence: float) -> Verdict:
    """`result` judged with an interval at `confidence` (from its evidence): its interval, outcome,
    per-seed agreement and the note on too few seeds. A verdict without evidence is returned as it is."""
    evidence = result.evidence
    if evidence is None or result.value is None:
        return result
    interval, _ = evidence.interval(confidence)
    notes = [note for note in result.notes if not note.startswith((UNREPLICATED_NOTE, ZERO_WIDTH_NOTE))]
    if interval is None and min(evidence.seeds) < evidence.min_seeds:
        counts = " and ".join(map(str, evidence.seeds))  # C7a: the k-NN's seeds and the net's
        what = f"{counts} seed{'s' if evidence.seeds != (1,) else ''}" if len(evidence.seeds) == 1 else f"{counts} seeds"
        needs = f"an interval needs {evidence.min_seeds}" + (" in each" if len(evidence.seeds) > 1 else "")
        outcome: Outcome = "unreplicated"
        notes.append(f"{UNREPLICATED_NOTE}: {what}, {needs}; neither pass nor fail (sbsweep decide adds seeds)")
    elif interval is None:
        outcome = "inconclusive"
        notes.append(f"{UNREPLICATED_NOTE}: the statistic is undefined with a seed left out, so there is no interval")
    else:
        outcome = claim.outcome(*interval)
    if result.unresolved:
        outcome = "inconclusive"
    if result.premise_failed:
        outcome = "fail"
    agreeing = None
    defined = [v for v in result.per_seed if v is not None]
    if defined:
        holding = sum(claim.holds(v) for v in defined)
        agreeing = len(defined) - holding if outcome == "fail" else holding
        if outcome in ("pass", "fail") and interval is not None and not result.premise_failed and interval[1] - interval[0] <= ZERO_WIDTH \
                and agreeing < len(defined):
            # A point interval with seeds on the other side is an order the seeds do not resolve.
            outcome, agreeing = "inconclusive", holding
            notes.append(f"{ZERO_WIDTH_NOTE}: {len(defined) - agreeing} of {len(defined)} seeds on their own lie on the other side "
                         "of the threshold, so the interval's zero width is not evidence")
    return replace(result, interval=interval, confidence=confidence, outcome=outcome, agreeing=agreeing, notes=notes,
                   method=evidence.method)


ZERO_WIDTH = 1e-12
"""An interval this narrow is a point: no decided verdict rests on one that some seed contradicts."""
ZERO_WIDTH_NOTE = "zero-width interval"
UNREPLICATED_NOTE = "no interval"
"""How the note on a verdict without an interval begins (replaced when it is judged again)."""


def correlate(claim: Claim, sweep: str, trials: pd.DataFrame, stack: SeedStack, notes: list[str]) -> Verdict:
    """Rank-correlate a per-seed quantity over one axis (stack of shape (seeds, axis values))
    with the axis, and judge it."""
    axis = stack.axes[0]
    mean = stack.mean()
    series = {_label(k): float(v) for k, v in zip(axis, mean)}
    if len(axis) < MIN_AXIS_VALUES:
        return verdict(claim, sweep, trials, series=series, notes=notes + [too_few(stack.names[0], len(axis))])
    evidence = rank_evidence(axis, lambda w: stack.mean(w[0]), (len(stack.seeds),))
    if evidence is None:
        return verdict(claim, sweep, trials, series=series, outcome="fail", notes=notes + ["the statistic is undefined: its values are all equal"])
    return judge(claim, sweep, trials, evidence, series, notes)


def _label(value: object) -> str:
    """An axis value as a series key: integers without '.0' (pandas reads a column with nulls as float)."""
    number = float(value)  # type: ignore[arg-type]
    return str(int(number)) if number.is_integer() else f"{number:g}"
