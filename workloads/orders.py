"""Intervals for statistics of an order: rank correlations over a few grid values, and shares of
ordered pairs (or of steps on one side).

Such a statistic is a step function of the seed means: it changes only where two of the values it
orders swap. Leaving one seed out rarely swaps a near-tie, so a jackknife over the statistic itself
sees no spread and gives a zero-width interval around whatever order the seeds happened to show
(`python benchmarks/coverage.py` measures it covering 0.80 to 0.87 at near-ties, at any number of
seeds). Instead, the statistic is written as a function of the signs of a few contrasts, each a
smooth function of the seed means (the difference of two grid values' means, or of two learning
times), and the interval is the projection of their simultaneous intervals:

1. each contrast gets a jackknife-t interval (for a difference of means, exactly the paired
   t-interval over the seeds) at level 1 - (1 - confidence) / m, m the number of contrasts
   (Bonferroni), so all m cover their true contrasts together with probability >= confidence;
2. a contrast whose interval excludes 0 is resolved (its sign is known), the others are not;
3. the interval is [min, max] of the statistic over every order consistent with the resolved signs.

If all m intervals cover, the true order is among those, so the statistic of the population seed
means lies in the interval: the coverage is at least `confidence` whatever the near-ties. The price
is power: with few seeds and many contrasts a pair is resolved only when its seeds agree by a wide
margin (docs/verify.md measures how many seeds each claim needs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SignRange = Callable[[np.ndarray], tuple[float, float]]
"""From the contrasts' resolved signs (+1, -1; 0 unresolved; NaN undefined), the statistic's range."""


@dataclass(frozen=True)
class Contrasts:
    """A statistic as a function of the signs of contrasts that are smooth in the seed means."""

    differences: Callable[[Sequence[np.ndarray]], np.ndarray]
    """The contrasts' values at the given seed weights (one weight vector per sample), as a vector."""
    sign_range: SignRange
    """The statistic's [min, max] over every order consistent with the resolved signs."""


def resolved_signs(values: np.ndarray, errors: np.ndarray, quantile: float) -> np.ndarray:
    """+1 where the interval value -+ quantile * error lies above 0, -1 below, 0 where it holds 0;
    NaN where the contrast is undefined at the seed means."""
    signs = np.where(values - quantile * errors > 0, 1.0, np.where(values + quantile * errors < 0, -1.0, 0.0))
    signs[~np.isfinite(values)] = np.nan
    signs[np.isfinite(values) & ~np.isfinite(errors)] = 0.0  # a contrast undefined with a seed left out is not resolved
    return signs


# --- shares of contrasts on one side -----------------------------------------------------------------


def share(values: np.ndarray, ties: float = 0.5) -> float:
    """The share of the defined contrasts that are positive, an exact zero counting `ties`."""
    defined = values[np.isfinite(values)]
    if not len(defined):
        return float("nan")
    return float(((defined > 0).sum() + ties * (defined == 0).sum()) / len(defined))


def share_range(signs: np.ndarray) -> tuple[float, float]:
    """The range of `share` when the unresolved contrasts may take either sign: every resolved
    positive one counts, and every one not resolved negative may."""
    defined = signs[~np.isnan(signs)]
    if not len(defined):
        return float("nan"), float("nan")
    return float((defined > 0).sum() / len(defined)), float(1 - (defined < 0).sum() / len(defined))


def pair_contrasts(summaries: np.ndarray, later: bool = True, lag: float = 0.0) -> np.ndarray:
    """For each pair i < j of `summaries` (one per ascending k), how far j's lies beyond i's in the
    claim's direction: summary_j - (1 + lag) * summary_i (later), or summary_i - (1 + lag) *
    summary_j (not later). Positive: the pair is in order (by more than `lag`, a fraction of the
    earlier one)."""
    i, j = np.triu_indices(len(summaries), k=1)
    first, second = (summaries[i], summaries[j]) if later else (summaries[j], summaries[i])
    return second - (1 + lag) * first


# --- rank correlations ------------------------------------------------------------------------------


def line_pairs(lines: np.ndarray, positions: Sequence[np.ndarray]) -> np.ndarray:
    """Every pairwise difference value_j - value_i (i < j among each line's `positions`), lines
    one after the other: the contrasts a set of rank correlations depends on."""
    parts = []
    for line, kept in zip(lines, positions):
        i, j = np.triu_indices(len(kept), k=1)
        parts.append(line[kept][j] - line[kept][i])
    return np.concatenate(parts) if parts else np.zeros(0)


@lru_cache(maxsize=16)
def _permutations(n: int) -> np.ndarray:
    return np.array(list(itertools.permutations(range(n))), dtype=np.int8)


EXACT_UP_TO = 8
"""Up to this many values a rank correlation's range is found over every consistent order (8! =
40 320); above it, over the ranks each value can take (a wider range, never a narrower one)."""


def rho_range(axis: np.ndarray, signs: np.ndarray) -> tuple[float, float]:
    """Spearman's rho of (axis, values) at its least and most over every order of the values
    consistent with the resolved pair signs (signs of value_j - value_i for i < j, as line_pairs
    lists them); `axis` has distinct values."""
    n = len(axis)
    axis_rank = np.argsort(np.argsort(axis)).astype(float)
    i, j = np.triu_indices(n, k=1)
    scale = n * (n * n - 1) / 6.0
    if n <= EXACT_UP_TO:
        orders = _permutations(n)  # orders[p, v]: the rank (0-based) of value v in order p
        consistent = np.ones(len(orders), dtype=bool)
        for a, b, sign in zip(i, j, signs):
            if sign > 0:
                consistent &= orders[:, b] > orders[:, a]
            elif sign < 0:
                consistent &= orders[:, b] < orders[:, a]
        rhos = 1 - ((orders[consistent] - axis_rank) ** 2).sum(axis=1) / scale
        return float(rhos.min()), float(rhos.max())
    from scipy.optimize import linear_sum_assignment

    above = np.zeros(n, int)  # how many values are resolved below / above each one
    below = np.zeros(n, int)
    for a, b, sign in zip(i, j, signs):
        if sign > 0:
            above[a] += 1
            below[b] += 1
        elif sign < 0:
            above[b] += 1
            below[a] += 1
    ranks = np.arange(n)
    allowed = (ranks[None, :] >= below[:, None]) & (ranks[None, :] <= n - 1 - above[:, None])
    product = axis_rank[:, None] * ranks[None, :]  # rho is increasing in the sum of rank products
    big = float(n * n * n + 1)
    extremes = []
    for maximize in (False, True):
        cost = np.where(allowed, product, -big if maximize else big)
        rows, columns = linear_sum_assignment(cost, maximize=maximize)
        extremes.append(1 - ((columns - axis_rank[rows]) ** 2).sum() / scale)
    return float(min(extremes)), float(max(extremes))


def lines_rho_ranges(axis: np.ndarray, positions: Sequence[np.ndarray], signs: np.ndarray) -> np.ndarray:
    """Each line's (min, max) rho over the orders consistent with its share of `signs` (laid out as
    line_pairs lays them out): an array of shape (lines, 2)."""
    ranges, start = [], 0
    for kept in positions:
        count = len(kept) * (len(kept) - 1) // 2
        ranges.append(rho_range(axis[kept], signs[start:start + count]))
        start += count
    return np.array(ranges).reshape(-1, 2)


def defined_positions(lines: np.ndarray, fewest: int) -> list[np.ndarray]:
    """Each line's positions with a defined value, for lines with at least `fewest` of them whose
    values are not all equal (a rank correlation of a constant line is undefined)."""
    kept = []
    for line in lines:
        defined = np.flatnonzero(np.isfinite(line))
        if len(defined) >= fewest and np.ptp(line[defined]) > 0:
            kept.append(defined)
        else:
            kept.append(np.zeros(0, int))
    return kept


def learning_time(curves: np.ndarray, steps: np.ndarray, rising: bool = True) -> np.ndarray:
    """Per column of `curves` (rows: ascending `steps`), the area between the curve clipped to
    [0, 1] and 1 (rising: how long, in steps, the column took to be learned; a curve that jumps
    from 0 to 1 at step T gives T - steps[0]) or under it (not rising: how far along the axis the
    column survived). Smooth in the curves where a first crossing is a step function of them."""
    clipped = np.clip(curves, 0.0, 1.0)
    height = 1.0 - clipped if rising else clipped
    if len(steps) < 2:
        return np.zeros(curves.shape[1:])
    widths = np.diff(steps.astype(float))
    return (((height[1:] + height[:-1]) / 2) * widths.reshape((-1,) + (1,) * (curves.ndim - 1))).sum(axis=0)
