"""Validation time of a sweep file against the size of its grid: one axis of N values.

    python benchmarks/validation.py                       # N = 10 000, 40 000, 160 000
    python benchmarks/validation.py --sizes 1000 100000

Each size writes a sweep file whose one axis (Experiment 3's k) is {linspace: [1, N, N]} and
times `load_spec` (read, override, validate every value and every grid point; the fastest of 3),
then the expansion into trials (`expand`: configs and trial ids). Goal (issue 30): validation is
linear in the grid's size, 40 000 values in under a second; the ratio of time per value between
the largest and the smallest size stays near 1.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from orchestrator.plan import expand
from orchestrator.spec import load_spec

SWEEP = """\
name: big
experiment: manifold_classification
grid:
  k: {{linspace: [1, {n}, {n}]}}
workload: {{width: 4, depth: 1, n_points: {points}, steps: 20}}
execution: {{max_trials: {n}}}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 160_000], help="values on the axis")
    args = parser.parse_args()
    per_value = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"big{n}.yaml"
            path.write_text(SWEEP.format(n=n, points=2 * n + 2))  # every k below the Nyquist limit of n_points
            times = []
            for _ in range(3):
                start = time.perf_counter()
                spec = load_spec(path)
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            trials = expand(spec)
            expand_s = time.perf_counter() - start
            per_value[n] = min(times) / n
            print(f"{n:>8} values: validate {min(times):6.3f} s ({1e6 * per_value[n]:.1f} us a value), expand {expand_s:6.3f} s "
                  f"({len(trials)} trials)", flush=True)
    sizes = sorted(per_value)
    print(f"\ngoal                                            measured\n"
          f"time a value, {sizes[-1]} vs {sizes[0]} values ~ 1x{'':<14}{per_value[sizes[-1]] / per_value[sizes[0]]:.2f}x")
    if 40_000 in per_value:
        print(f"40 000 values validated < 1 s{'':<20}{40_000 * per_value[40_000]:.3f} s")


if __name__ == "__main__":
    main()
