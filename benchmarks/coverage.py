"""Do the verdicts' 95% intervals cover? Simulated seeds with a known true value, for the kinds of
statistic the claims use, with the old interval (percentile bootstrap) and the new (jackknife-t).

    python benchmarks/coverage.py                 # 400 simulated sweeps per cell
    python benchmarks/coverage.py --reps 2000     # tighter numbers (binomial SE 0.005 at 0.95)

Each cell simulates `reps` sweeps of n seeds, builds the claim machinery's own `Evidence` from
them, and counts how often the interval holds the true value: the statistic with infinitely many
seeds (computed exactly, or from 20 000 simulated seeds). Statistics:
- mean: a quantity averaged over seeds (C3's lifts, C5's fractions), seeds normal around it;
- mean, skewed: the same with log-normal seeds (how much the t assumption matters);
- rank, never crossed: Spearman's rho of k against the first eval step at which the seed-mean
  curve of frequency k reaches 0.5 (C1, C4, C9a), curves noisy per seed and per step, the two
  highest k never crossing (tied, ranked after the last step);
- rank, tied groups: the same with frequencies learned in three tied groups;
- ratio: a ratio of two seed means (C8b, C9b).
Then the sequential rule of `sbsweep decide`: a claim whose true value lies on the fail side of
its threshold (exactly on it: the hardest case) judged at up to K looks as seeds are added; how
often it is ever declared `pass`, when each look uses a 95% interval (naive) and when it uses a
(1 - 0.05/K) one (decide's rule). Goals (issue 31): the new interval covers >= 0.93 at 3, 5 and 10
seeds for every statistic; decide's rule errs <= 0.05, across all looks.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from orchestrator.decide import look_confidence
from workloads.claims import RHO_BOUNDS, Evidence, first_crossing, rank_correlation

STEPS = np.arange(0, 2100, 100.0)
AFTER_LAST = 2100.0
SEEDS = (2, 3, 5, 10)


def percentile_bootstrap(evidence: Evidence, draws: int = 1000, confidence: float = 0.95) -> list[float] | None:
    """The interval verify used before: the 2.5th and 97.5th percentiles of the statistic over
    `draws` resamples of the seeds (fixed generator)."""
    n = evidence.seeds[0]
    if n < 2:
        return None
    generator = np.random.default_rng(0)
    counts = generator.multinomial(n, np.full(n, 1.0 / n), size=draws)
    known: dict[bytes, float] = {}
    values = np.array([known.setdefault(row.tobytes(), evidence.statistic([row / n])) for row in counts])
    values = values[np.isfinite(values)]
    if not len(values):
        return None
    tail = 100 * (1 - confidence) / 2
    return [float(v) for v in np.percentile(values, [tail, 100 - tail])]


Scenario = Callable[[np.random.Generator, int], Evidence]


def mean_scenario(skewed: bool) -> tuple[Scenario, float]:
    if skewed:
        def draw(rng: np.random.Generator, n: int) -> Evidence:
            x = rng.lognormal(0.0, 0.5, n)
            return Evidence(lambda w: float(w[0] @ x), (n,))
        return draw, float(np.exp(0.125))

    def draw_normal(rng: np.random.Generator, n: int) -> Evidence:
        x = rng.normal(0.3, 0.1, n)
        return Evidence(lambda w: float(w[0] @ x), (n,))
    return draw_normal, 0.3


def ratio_scenario() -> tuple[Scenario, float]:
    def draw(rng: np.random.Generator, n: int) -> Evidence:
        a, b = rng.normal(0.2, 0.06, n), rng.normal(0.4, 0.06, n)
        return Evidence(lambda w: float((w[0] @ a) / (w[0] @ b)), (n,))
    return draw, 0.5


def rank_scenario(crossing_steps: list[float], curve_noise: float, seed_shift: float) -> tuple[Scenario, float]:
    """Curves 1 / (1 + exp(-(step - T_k - shift) / 100)) plus noise per step; T_k given (past the
    last step: never crosses)."""
    centres = np.array(crossing_steps)
    ks = np.arange(1, len(centres) + 1)

    def curves(rng: np.random.Generator, n: int) -> np.ndarray:
        shift = rng.normal(0.0, seed_shift, (n, 1, len(centres)))
        clean = 1.0 / (1.0 + np.exp(-(STEPS[None, :, None] - centres[None, None, :] - shift) / 100.0))
        return clean + rng.normal(0.0, curve_noise, (n, len(STEPS), len(centres)))

    def statistic(stack: np.ndarray) -> Callable[[list[np.ndarray]], float]:
        return lambda w: rank_correlation(ks, first_crossing(np.tensordot(w[0], stack, axes=1), STEPS, False, AFTER_LAST)[0])

    truth = statistic(curves(np.random.default_rng(12345), 20_000))([np.full(20_000, 1 / 20_000)])
    return (lambda rng, n: Evidence(statistic(curves(rng, n)), (n,), bounds=RHO_BOUNDS)), truth


SCENARIOS: dict[str, Callable[[], tuple[Scenario, float]]] = {
    "mean": lambda: mean_scenario(skewed=False),
    "mean, skewed": lambda: mean_scenario(skewed=True),
    "rank, never crossed": lambda: rank_scenario([150, 300, 450, 600, 800, 1000, 1300, 1700, 2500, 2500], 0.15, 150),
    "rank, tied groups": lambda: rank_scenario([300, 300, 300, 600, 600, 600, 900, 900, 2500, 2500], 0.25, 200),
    "ratio": ratio_scenario,
}


def coverage(scenario: Scenario, truth: float, n: int, reps: int, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """(coverage, mean width) of each method over `reps` simulated sweeps of `n` seeds."""
    hits = {"bootstrap": [], "jackknife-t": []}
    widths = {"bootstrap": [], "jackknife-t": []}
    for _ in range(reps):
        evidence = scenario(rng, n)
        for method, interval in (("bootstrap", percentile_bootstrap(evidence)), ("jackknife-t", evidence.interval()[0])):
            if interval is None:
                hits[method].append(np.nan)
                continue
            hits[method].append(float(interval[0] - 1e-9 <= truth <= interval[1] + 1e-9))
            widths[method].append(interval[1] - interval[0])
    return {m: (float(np.nanmean(h)) if not np.isnan(h).all() else float("nan"), float(np.mean(widths[m])) if widths[m] else float("nan"))
            for m, h in ((m, np.array(v)) for m, v in hits.items())}


def sequential_error(scenario: Scenario, threshold: float, looks: list[int], confidence: float, reps: int, rng: np.random.Generator) -> float:
    """How often a claim `value >= threshold`, whose true value is `threshold` less a hair, is
    declared pass at some look (seeds added between looks, as decide does), stopping at the first
    decided look."""
    wrong = 0
    for _ in range(reps):
        evidence = scenario(rng, looks[-1])  # the seeds of the last look; each look reads its first n
        for n in looks:
            first = Evidence(lambda w, e=evidence, n=n: e.statistic([np.r_[w[0], np.zeros(looks[-1] - n)]]), (n,))
            interval, _ = first.interval(confidence)
            if interval is None:
                continue
            if interval[0] >= threshold:
                wrong += 1
                break
            if interval[1] < threshold:
                break
    return wrong / reps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=400, help="simulated sweeps per cell")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    start = time.perf_counter()
    print(f"{'statistic':<22}{'seeds':>6}   {'bootstrap cover':>15} {'width':>7}   {'jackknife-t cover':>17} {'width':>7}")
    worst = 1.0
    for name, make in SCENARIOS.items():
        scenario, truth = make()
        for n in SEEDS:
            result = coverage(scenario, truth, n, args.reps, rng)
            (old, old_width), (new, new_width) = result["bootstrap"], result["jackknife-t"]
            shown = "unreplicated" if np.isnan(new) else f"{new:.3f}"
            print(f"{name:<22}{n:>6}   {old:>15.3f} {old_width:>7.3f}   {shown:>17} {new_width:>7.3f}", flush=True)
            if n >= 3 and name != "mean, skewed":
                worst = min(worst, new)
    print(f"\n(true values: {', '.join(f'{name} {make()[1]:.4g}' for name, make in SCENARIOS.items())})")
    looks = [3, 5, 7, 9]
    scenario, _ = mean_scenario(skewed=False)
    print(f"\nsequential: a mean whose truth is the threshold (0.3), looks at {looks} seeds, {4 * args.reps} simulated claims")
    naive = sequential_error(scenario, 0.3 + 1e-9, looks, 0.95, 4 * args.reps, rng)
    ruled = sequential_error(scenario, 0.3 + 1e-9, looks, look_confidence(len(looks)), 4 * args.reps, rng)
    print(f"  ever declared pass: naive 95% at every look {naive:.3f}; decide's {look_confidence(len(looks)):.4f} per look {ruled:.3f}")
    print("\ngoal                                                          measured")
    print(f"jackknife-t coverage, 3/5/10 seeds, every statistic but the skewed mean >= 0.93   {worst:.3f}")
    print(f"decide's error across {len(looks)} looks <= 0.05{'':<33}{ruled:.3f}  (naive: {naive:.3f})")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
