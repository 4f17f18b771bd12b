"""Do the verdicts' intervals mean what they say, for each claim's own statistic? Simulated seeds
with a known truth, built into evidence by the same functions verify uses; and, on a real store,
how often each verdict would pass with more or fewer seeds like the ones it has.

    python benchmarks/coverage.py                          # every claim, 300 simulated sweeps per cell
    python benchmarks/coverage.py --reps 1000              # tighter numbers (binomial SE 0.007 at 0.95)
    python benchmarks/coverage.py --store paper-cpu        # also: power per verdict of that store

Per claim, three cells at 3, 5 and 10 seeds:
- cover: how often the interval holds the true value, at a near-tie (two grid values, or two
  learning times, 0.1 of a seed's spread apart; curves that cross between eval steps, the truth
  computed from the population mean curves, off the eval-step edges);
- false pass: how often the claim passes where its truth lies one step on the wrong side of the
  threshold (a share of pairs one pair short; a rank correlation one swap short), near-ties there too;
- old: the same two numbers for the interval verify used before (a jackknife-t of the statistic
  itself), for the claims whose interval changed.
The level is look 1's (97.5%, orchestrator/looks.py). Goal: cover >= 0.93 and false pass <= 0.05
for every claim.

With --store: for every verdict of the store with an interval, its power (the share of simulated
sweeps that pass at look 1) at 3, 5, 10 and 20 new seeds, each seed's contrasts (or statistic)
drawn Gaussian with the mean and covariance of the store's seeds' jackknife pseudo-values (the
effect sizes and seed spreads the store shows, as they are), and the fewest seeds (of 3, 5, 7,
10, 15, 20, 30, 50) at which it reaches 80%. With only 3 stored seeds the spread is itself
uncertain: read the seeds needed as an order of magnitude.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from orchestrator.looks import look_confidence
from workloads.claims import (
    RHO_BOUNDS,
    Claim,
    Evidence,
    SeedStack,
    pair_evidence,
    rank_correlation,
    rank_evidence,
)
from workloads.knn.claims import rho_gap_evidence
from workloads.orders import Contrasts, learning_time, pair_contrasts, share, share_range

CONFIDENCE = look_confidence(1)
SEEDS = (3, 5, 10)
Draw = Callable[[np.random.Generator, int], Evidence]


@dataclass(frozen=True)
class Case:
    """A claim's statistic on simulated seeds: how to draw a sweep's evidence, and its truth."""

    draw: Draw
    truth: float
    old: Draw | None = None
    """the old interval's evidence on the same kind of draw (a jackknife of the statistic itself)"""


def _claim(claim_id: str) -> Claim:
    from orchestrator.verify import CLAIMS

    return next(c for c in CLAIMS if c.claim_id == claim_id)


# --- statistics of an order over a few grid values ----------------------------------------------------


def _values(means: np.ndarray, spread: float, shift: float) -> Callable[[np.random.Generator, int], np.ndarray]:
    """Seeds' values: the means, plus a shift per seed shared by its cells, plus noise per cell."""
    return lambda rng, n: means + rng.normal(0.0, shift, (n,) + (1,) * means.ndim) + rng.normal(0.0, spread, (n, *means.shape))


def rank_case(axis: np.ndarray, means: np.ndarray, spread: float = 1.0, shift: float = 0.5) -> Case:
    """The mean over lines (rows of `means`) of rho(axis, line): C2, C2b, C8a (one line), C3a, C3b."""
    lines = np.atleast_2d(means)
    values = _values(lines, spread, shift)
    truth = float(np.mean([rank_correlation(axis, line) for line in lines]))

    def new(rng: np.random.Generator, n: int) -> Evidence:
        stack = values(rng, n)
        return rank_evidence(axis, lambda w: np.tensordot(w[0], stack, axes=1), (n,))

    def old(rng: np.random.Generator, n: int) -> Evidence:
        stack = values(rng, n)
        return Evidence(lambda w: float(np.mean([rank_correlation(axis, line) for line in np.tensordot(w[0], stack, axes=1)])), (n,),
                        bounds=RHO_BOUNDS)

    return Case(new, truth, old)


def gap_case(axis: np.ndarray, net: np.ndarray, knn: np.ndarray, spread: float = 1.0) -> Case:
    """C7a: the mean over lines of rho(L, the net's) - rho(L, the k-NN's), the same seeds for both."""
    nets, knns = _values(net, spread, 0.5), _values(knn, spread, 0.5)
    truth = float(np.mean([rank_correlation(axis, a) - rank_correlation(axis, b) for a, b in zip(net, knn)]))

    def new(rng: np.random.Generator, n: int) -> Evidence:
        seeds = np.arange(n)
        net_stack = SeedStack(seeds, ("k", "L"), (np.arange(len(net)), axis), nets(rng, n))
        knn_stack = SeedStack(seeds, ("k", "L"), (np.arange(len(knn)), axis), knns(rng, n))
        return rho_gap_evidence(axis, net_stack, knn_stack, np.ones(len(net), bool), joint=True)

    return Case(new, truth)


# --- shares of ordered pairs of learning times, from curves read at eval steps -------------------------


def curve_case(centres: np.ndarray, steps: np.ndarray, rising: bool = True, later: bool = True, lag: float = 0.0, width: float = 0.04,
               spread: float = 0.08, noise: float = 0.05) -> Case:
    """C1, C4, C9a: each k's curve a logistic through 0.5 at its centre (a fraction of the last
    eval step; the seed's centre spread by `spread`), read at `steps` with noise; the statistic is
    the share of pairs of learning times (areas) in order. Centres between eval steps."""
    span = float(steps[-1])

    def curves(rng: np.random.Generator, n: int) -> np.ndarray:
        centre = (centres[None, None, :] + rng.normal(0.0, spread, (n, 1, len(centres)))) * span
        logistic = 1.0 / (1.0 + np.exp(-(steps[None, :, None] - centre) / (width * span)))
        return (logistic if rising else 1.0 - logistic) + rng.normal(0.0, noise, (n, len(steps), len(centres)))

    ties = 0.5 if lag == 0 else 0.0
    # The population mean curve: the logistic averaged over the seeds' centres (noise averages out).
    population = curves(np.random.default_rng(12345), 20_000).mean(axis=0)
    truth = share(pair_contrasts(learning_time(population, steps, rising), later=later, lag=lag), ties)

    def new(rng: np.random.Generator, n: int) -> Evidence:
        stack = curves(rng, n)
        return pair_evidence(lambda w: learning_time(np.tensordot(w[0], stack, axes=1), steps, rising), (n,), later=later, lag=lag)

    def old(rng: np.random.Generator, n: int) -> Evidence:
        evidence = new(rng, n)
        return Evidence(evidence.statistic, (n,), bounds=(0.0, 1.0))

    return Case(new, truth, old)


def steps_case(gaps: np.ndarray, spread: float = 1.0) -> Case:
    """C6: the share of eval steps at which the manifold's seed-mean loss is below the flat one's."""
    values = _values(gaps, spread, 0.5)
    truth = share(gaps, ties=0.0)

    def new(rng: np.random.Generator, n: int) -> Evidence:
        stack = values(rng, n)

        def differences(w):
            return w[0] @ stack

        return Evidence(lambda w: share(differences(w), ties=0.0), (n,), bounds=(0.0, 1.0), contrasts=Contrasts(differences, share_range))

    def old(rng: np.random.Generator, n: int) -> Evidence:
        stack = values(rng, n)
        return Evidence(lambda w: share(w[0] @ stack, ties=0.0), (n,), bounds=(0.0, 1.0))

    return Case(new, truth, old)


# --- means and ratios (unchanged: jackknife-t) -----------------------------------------------------------


def mean_case(mean: float, spread: float) -> Case:
    """C5a, C5b: a mean over pairs of seeds' nets (the pair's value: the two seeds' mean plus noise)."""
    def draw(rng: np.random.Generator, n: int) -> Evidence:
        own = rng.normal(mean, spread, n)
        matrix = (own[:, None] + own[None, :]) / 2 + np.triu(rng.normal(0.0, spread / 2, (n, n)), 1)
        from workloads.decision_boundary.claims import pair_mean

        upper = np.where(np.triu(np.ones((n, n), bool), 1), matrix, np.nan)
        return Evidence(lambda w: pair_mean([upper], w[0]), (n,), min_seeds=3, bounds=(0.0, 1.0))

    return Case(draw, mean)


def ratio_case(top: float, bottom: float, spread: float) -> Case:
    """C7b, C8b, C9b: a ratio of two seed means."""
    def draw(rng: np.random.Generator, n: int) -> Evidence:
        a, b = rng.normal(top, spread, n), rng.normal(bottom, spread, n)
        return Evidence(lambda w: float((w[0] @ a) / (w[0] @ b)), (n,))

    return Case(draw, top / bottom)


def rho_steps_case() -> Case:
    """C1b: rho over 60 eval steps of two curves (a bound and a fit) that rise together with wiggles
    of their own, each seed noisy per step (a twentieth of the curves' range)."""
    steps = np.linspace(0.0, 1.0, 60)
    bound, fit = np.sqrt(steps) + 0.1 * np.sin(6 * np.pi * steps), steps

    def draw(rng: np.random.Generator, n: int) -> Evidence:
        a, b = bound + rng.normal(0.0, 0.05, (n, 60)), fit + rng.normal(0.0, 0.05, (n, 60))
        return Evidence(lambda w: rank_correlation(w[0] @ a, w[0] @ b), (n,), bounds=RHO_BOUNDS)

    return Case(draw, rank_correlation(bound, fit))


# --- the claims: near-ties for coverage, one step on the wrong side for false passes --------------------

FOUR, FIVE = np.arange(4.0), np.arange(5.0)
TEN_STEPS = np.linspace(0.0, 1.0, 21)


def _pairs_one_short(count: int, wanted: float) -> np.ndarray:
    """Centres of `count` ks in order but for as few pairs as put the share in order just under
    `wanted`: blocks of neighbours in reverse order (a block of b reverses b (b - 1) / 2 pairs),
    each block's centres 0.016 apart (0.2 of a seed's spread: near-ties)."""
    pairs = count * (count - 1) // 2
    reversed_pairs = pairs - (int(np.ceil(wanted * pairs - 1e-9)) - 1)
    centres = np.linspace(0.1, 0.8, count)
    start = 0
    while reversed_pairs > 0:
        block = max(b for b in range(2, count - start + 1) if b * (b - 1) // 2 <= reversed_pairs)
        centres[start:start + block] = centres[start] + 0.016 * np.arange(block)[::-1]
        reversed_pairs -= block * (block - 1) // 2
        start += block
    return centres


def _lagged(ratio_cubed: float) -> np.ndarray:
    """20 bins' centres in a geometric progression whose ratio over 3 bins is `ratio_cubed`: just
    above C9a's 1.1 every pair 3 bins apart is lagged enough (a near-tie each), just below none is."""
    ratio = ratio_cubed ** (1 / 3)
    return 0.85 / ratio ** 19 * ratio ** np.arange(20)


def _near_tie_centres(count: int) -> np.ndarray:
    centres = np.linspace(0.1, 0.8, count)
    centres[1] = centres[2] - 0.008  # 0.1 of the centres' seed spread
    return centres


CASES: dict[str, tuple[Callable[[], Case], Callable[[], Case]]] = {
    # claim: (near-tie for coverage, truth one step on the wrong side for false passes)
    "C1": (lambda: curve_case(_near_tie_centres(10), TEN_STEPS), lambda: curve_case(_pairs_one_short(10, 0.9), TEN_STEPS)),
    "C1b": (rho_steps_case, rho_steps_case),  # a rho over many steps, not a few values: only its coverage is measured
    "C2": (lambda: rank_case(FOUR, np.array([3.0, 2.0, 0.05, 0.0])), lambda: rank_case(FOUR, np.array([2.0, 2.1, 0.0, 0.1]))),
    "C2b": (lambda: rank_case(FOUR, np.array([0.0, 1.0, 2.1, 2.0])), lambda: rank_case(FOUR, np.array([0.1, 0.0, 2.1, 2.0]))),
    # Over five values rho moves in steps of 0.1: one step short of C3's 0.7 is 0.6, ranks 2 1 5 3 4, near-ties at the swaps.
    "C3a": (lambda: rank_case(FIVE, -np.array([[0, 1, 2, 2.1, 4]] * 5, float)),
            lambda: rank_case(FIVE, -np.array([[1.0, 0.9, 2.2, 2.0, 2.1]] * 5, float))),
    "C3b": (lambda: rank_case(FIVE, np.array([[0, 1, 2, 2.1, 4]] * 2, float)),
            lambda: rank_case(FIVE, np.array([[1.0, 0.9, 2.2, 2.0, 2.1]] * 2, float))),
    "C4": (lambda: curve_case(_near_tie_centres(9)[::-1], np.linspace(0.0, 1.0, 21), rising=False, later=False),
           lambda: curve_case(_pairs_one_short(9, 0.8)[::-1], np.linspace(0.0, 1.0, 21), rising=False, later=False)),
    "C5a": (lambda: mean_case(0.03, 0.02), lambda: mean_case(0.0501, 0.02)),
    "C5b": (lambda: mean_case(0.2, 0.05), lambda: mean_case(0.0999, 0.05)),
    "C6": (lambda: steps_case(np.r_[np.full(20, 2.0), 0.1, 0.1, 0.1, 0.1, 2.0]),
           lambda: steps_case(np.r_[np.full(22, 2.0), -0.1, -0.1, -0.1])),
    # C7a one step short of 0.5: the net's rho 0.8 (ranks 2 1 3 4 5), the k-NN's 0.4 (ranks 1 5 2 3 4), near-ties at the swaps.
    "C7a": (lambda: gap_case(FIVE, np.array([[0, 1, 2, 2.1, 4]] * 2, float), np.array([[3, 1, 5, 2, 4]] * 2, float)),
            lambda: gap_case(FIVE, np.array([[1.1, 1.0, 2, 3, 4]] * 2, float), np.array([[0, 2.1, 1.0, 1.1, 2.0]] * 2, float))),
    "C7b": (lambda: ratio_case(0.28, 0.42, 0.04), lambda: ratio_case(0.4201, 0.42, 0.04)),
    "C8a": (lambda: rank_case(np.arange(3.0), np.array([0.0, 1.0, 1.1])), lambda: rank_case(np.arange(3.0), np.array([0.0, 1.1, 1.0]))),
    "C8b": (lambda: ratio_case(0.1, 0.67, 0.1), lambda: ratio_case(0.3351, 0.67, 0.1)),
    "C9a": (lambda: curve_case(_lagged(1.105), TEN_STEPS, lag=0.1), lambda: curve_case(_lagged(1.095), TEN_STEPS, lag=0.1)),
    "C9b": (lambda: ratio_case(0.2, 0.3, 0.05), lambda: ratio_case(0.3001, 0.3, 0.05)),
}


def _rates(case: Case, claim: Claim, n: int, reps: int, rng: np.random.Generator, old: bool = False) -> tuple[float, float]:
    """(coverage, pass rate) of `reps` simulated sweeps of `n` seeds."""
    draw = case.old if old else case.draw
    covered = passed = counted = 0
    for _ in range(reps):
        interval = draw(rng, n).interval(CONFIDENCE)[0]
        if interval is None:
            continue
        counted += 1
        covered += interval[0] - 1e-9 <= case.truth <= interval[1] + 1e-9
        passed += claim.outcome(*interval) == "pass"
    return (covered / counted, passed / counted) if counted else (float("nan"), float("nan"))


def simulate(reps: int) -> bool:
    rng = np.random.default_rng(2026)
    header = f"{'claim':<6}{'seeds':>6} {'cover':>7} {'false pass':>11}   {'old cover':>10} {'old false pass':>15}   truth (tie / wrong side)"
    print(header)
    worst_cover, worst_false = 1.0, 0.0
    for claim_id, (tie, wrong) in CASES.items():
        claim = _claim(claim_id)
        tied, beyond = tie(), wrong()
        for n in SEEDS:
            cover, _ = _rates(tied, claim, n, reps, rng)
            _, false_pass = _rates(beyond, claim, n, reps, rng) if claim_id != "C1b" else (0.0, float("nan"))
            olds = ""
            if tied.old is not None:
                old_cover, _ = _rates(tied, claim, n, reps, rng, old=True)
                _, old_false = _rates(beyond, claim, n, reps, rng, old=True)
                olds = f"{old_cover:>10.3f} {old_false:>15.3f}"
            print(f"{claim_id:<6}{n:>6} {cover:>7.3f} {false_pass:>11.3f}   {olds:<26}   {tied.truth:.3f} / {beyond.truth:.3f}", flush=True)
            worst_cover = min(worst_cover, cover)
            if np.isfinite(false_pass):
                worst_false = max(worst_false, false_pass)
    print(f"\ngoal: cover >= 0.93 and false pass <= 0.05 for every claim at 3, 5 and 10 seeds; measured: cover >= {worst_cover:.3f}, "
          f"false pass <= {worst_false:.3f}")
    return worst_cover >= 0.93 and worst_false <= 0.05


# --- power on a real store: new seeds like the store's ---------------------------------------------------


def pseudo_values(evidence: Evidence) -> np.ndarray | None:
    """The jackknife pseudo-values of the evidence's contrasts (or of its statistic), one row per
    seed: n * value - (n - 1) * value with that seed left out. For a difference of means they are
    each seed's own differences; in general they are roughly independent, with the statistic's
    mean and n times its variance. None for two samples of different seeds."""
    function = evidence.contrasts.differences if evidence.contrasts is not None else evidence.statistic
    if len(set(evidence.seeds)) != 1 or (len(evidence.seeds) > 1 and not evidence.joint):
        return None
    n = evidence.seeds[0]
    full = np.atleast_1d(np.asarray(function([np.full(n, 1 / n)] * len(evidence.seeds)), float))
    rows = []
    for i in range(n):
        weights = np.full(n, 1 / (n - 1))
        weights[i] = 0.0
        rows.append(n * full - (n - 1) * np.atleast_1d(np.asarray(function([weights] * len(evidence.seeds)), float)))
    return np.array(rows)


def simulated_pass_rate(evidence: Evidence, claim: Claim, n: int, reps: int, rng: np.random.Generator) -> float:
    """How often `n` new seeds, Gaussian with the mean and covariance of the store's seeds'
    pseudo-values, pass at look 1: each contrast's paired t interval, Bonferroni, the projection
    (or the t interval of the statistic)."""
    rows = pseudo_values(evidence)
    if rows is None:
        return float("nan")
    defined = np.isfinite(rows).all(axis=0)  # a contrast left out (NaN) stays out
    rows = rows[:, defined]
    centre, spread = rows.mean(axis=0), (rows - rows.mean(axis=0)) / np.sqrt(len(rows) - 1)
    m = rows.shape[1]
    quantile = float(__import__("scipy.stats").stats.t.ppf(1 - (1 - CONFIDENCE) / (2 * m), n - 1))
    passes = 0
    for _ in range(reps):
        seeds = centre + rng.normal(size=(n, len(rows))) @ spread  # covariance: the store's seeds'
        mean, error = seeds.mean(axis=0), seeds.std(axis=0, ddof=1) / np.sqrt(n)
        if evidence.contrasts is not None:
            signs = np.full(len(defined), np.nan)
            signs[defined] = np.where(mean - quantile * error > 0, 1.0, np.where(mean + quantile * error < 0, -1.0, 0.0))
            low, high = evidence.contrasts.sign_range(signs)
        else:
            low, high = mean[0] - quantile * error[0], mean[0] + quantile * error[0]
            if evidence.bounds is not None:
                low, high = max(low, evidence.bounds[0]), min(high, evidence.bounds[1])
        passes += claim.outcome(low, high) == "pass"
    return passes / reps


def power(store: Path, reps: int) -> None:
    from orchestrator.verify import CLAIMS, verify_store

    claims = {c.claim_id: c for c in CLAIMS}
    rng = np.random.default_rng(7)
    print(f"\npower on {store}: the share of {reps} simulated sweeps of new seeds like the store's that pass at look 1 "
          f"({100 * CONFIDENCE:g}%)")
    print(f"{'claim':<5} {'where':<52} {'now':>16} {'3':>6} {'5':>6} {'10':>6} {'20':>6}  seeds for 80%")
    for verdict in verify_store(store, record=False):
        evidence = verdict.evidence
        if evidence is None or verdict.interval is None:
            continue
        where = (verdict.sweep or "") + (f" ({verdict.group})" if verdict.group else "")
        now = f"{verdict.outcome} @{verdict.seeds}"
        if verdict.premise_failed:
            print(f"{verdict.claim_id:<5} {where[:52]:<52} {now:>16}   fails on its premise, whatever the seeds")
            continue
        claim = claims[verdict.claim_id]
        known: dict[int, float] = {}

        def rate(n: int, evidence: Evidence = evidence, claim: Claim = claim, known: dict[int, float] = known) -> float:
            if n not in known:
                known[n] = simulated_pass_rate(evidence, claim, n, reps, rng)
            return known[n]

        enough = next((n for n in (3, 5, 7, 10, 15, 20, 30, 50) if rate(n) >= 0.8), None)
        print(f"{verdict.claim_id:<5} {where[:52]:<52} {now:>16} " + " ".join(f"{rate(n):>6.2f}" for n in (3, 5, 10, 20))
              + f"  {enough if enough else '> 50'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=300, help="simulated sweeps per cell (and resamples per power cell)")
    parser.add_argument("--store", type=Path, default=None, help="also measure each verdict's power on this store's seeds")
    parser.add_argument("--skip-simulation", action="store_true", help="only the power on --store")
    args = parser.parse_args()
    start = time.perf_counter()
    if not args.skip_simulation:
        simulate(args.reps)
    if args.store is not None:
        power(args.store, args.reps)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
