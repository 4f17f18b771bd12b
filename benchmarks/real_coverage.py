"""Do the verdicts' intervals cover on a real store? A black-box check with no simulation in it.

    python benchmarks/real_coverage.py                      # 30 seeds, 30 draws of 3 and of 5 seeds
    python benchmarks/real_coverage.py --store /tmp/rc --seeds 30 --draws 50

Runs Experiment 3 (manifold_classification, C3a and C3b) at smoke size with many seeds into a store
(an embedded local Ray; skipped when the store already holds them), judges it with every seed (the
best available stand-in for the truth), then writes random subsets of 3 and of 5 seeds as stores
of their own, verifies each exactly as a user would (`verify_store`, look 1), and counts per claim:
how often the subset's interval holds the all-seed value, and how often a subset passes where all
the seeds do not pass (a false pass), or fails where they pass.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

SWEEP = """\
name: real_coverage
experiment: manifold_classification
description: Experiment 3 at smoke size with many seeds, for benchmarks/real_coverage.py
grid:
  k: [25, 75, 175, 225]
  L: [0, 10, 20]
seeds: {seeds}
workload: {{width: 16, depth: 3, n_points: 500, steps: 300, eval_every_steps: 100}}
resources: {{cpu: 1}}
"""
CLAIMS = ("C3a", "C3b")


def copy_seeds(source: Path, target: Path, seeds: list[int]) -> None:
    """Write the trials of `seeds` (every table's rows of them) from `source` into a new store."""
    from orchestrator.store import open_store, read_table, write_flush
    from results_schema import TRIALS, to_arrow
    from workloads import TABLES

    open_store(target)
    trials = read_table(source, TRIALS)
    chosen = trials[trials["seed"].isin(seeds)]
    ids = set(chosen["trial_id"])
    tables = {}
    for name, declared in {TRIALS.name: TRIALS, **TABLES}.items():
        rows = chosen if name == TRIALS.name else read_table(source, declared)
        rows = rows[rows["trial_id"].isin(ids)]
        if len(rows):
            tables[name] = to_arrow(declared, rows.to_dict("records"))
    write_flush(target, "real_coverage", tables, TABLES)


def judged(store: Path) -> dict[str, object]:
    from orchestrator.verify import verify_store

    return {v.claim_id: v for v in verify_store(store, record=False) if v.claim_id in CLAIMS and v.sweep}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store", type=Path, default=Path(tempfile.gettempdir()) / "sbsweep-real-coverage")
    parser.add_argument("--seeds", type=int, default=30, help="seeds of the whole sweep")
    parser.add_argument("--draws", type=int, default=30, help="random subsets per subset size")
    args = parser.parse_args()
    start = time.perf_counter()
    from orchestrator import launch

    spec = Path(tempfile.mkdtemp()) / "real_coverage.yaml"
    spec.write_text(SWEEP.format(seeds=list(range(args.seeds))))
    if not launch(spec, args.store, plot=False, echo=lambda line: None).ok:
        raise SystemExit("the sweep did not finish; run again to resume it")
    every = judged(args.store)
    print(f"all {args.seeds} seeds: " + "; ".join(f"{c} {v.outcome} {v.value:+.3f} [{v.interval[0]:+.3f}, {v.interval[1]:+.3f}]"
                                                   for c, v in every.items()))
    rng = np.random.default_rng(0)
    print(f"\n{'claim':<6}{'seeds':>6}{'draws':>7}{'cover':>8}{'pass':>6}{'fail':>6}{'inconcl.':>9}   passes where all seeds do not pass, "
          "fails where they pass")
    for size in (3, 5):
        tallies = {claim: {"cover": 0, "pass": 0, "fail": 0, "inconclusive": 0, "false pass": 0, "false fail": 0} for claim in CLAIMS}
        for draw in range(args.draws):
            seeds = sorted(rng.choice(args.seeds, size, replace=False).tolist())
            with tempfile.TemporaryDirectory() as folder:
                subset = Path(folder) / f"subset{draw}"
                copy_seeds(args.store, subset, seeds)
                for claim, verdict in judged(subset).items():
                    tally, truth = tallies[claim], every[claim]
                    tally["cover"] += verdict.interval is not None and verdict.interval[0] - 1e-9 <= truth.value <= verdict.interval[1] + 1e-9
                    tally[verdict.outcome] = tally.get(verdict.outcome, 0) + 1
                    tally["false pass"] += verdict.outcome == "pass" and truth.outcome != "pass"
                    tally["false fail"] += verdict.outcome == "fail" and truth.outcome == "pass"
        for claim, tally in tallies.items():
            print(f"{claim:<6}{size:>6}{args.draws:>7}{tally['cover'] / args.draws:>8.2f}{tally['pass']:>6}{tally['fail']:>6}"
                  f"{tally['inconclusive']:>9}   {tally['false pass']}, {tally['false fail']}", flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
