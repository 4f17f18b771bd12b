"""Do the verdicts' intervals cover on a real store? A black-box check with no simulation in it.

    python benchmarks/real_coverage.py                      # 30 seeds, 30 draws of 3 and of 5 seeds
    python benchmarks/real_coverage.py --store /tmp/rc --seeds 30 --draws 50

Runs Experiment 3 (manifold_classification, C3a) at smoke size (a 32x3 net, 800 steps, 200 points:
accuracy saturates at the lowest k, so some cells are near-ties, as in real sweeps) with many seeds into a store
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
  k: [2, 5, 10, 15]
  L: [0, 4, 8, 12]
seeds: {seeds}
workload: {{width: 32, depth: 3, n_points: 200, steps: 800, eval_every_steps: 100, learning_rate: 0.001}}
resources: {{cpu: 1}}
"""
CLAIMS = ("C3a",)
"""C3b needs k >= 150, which a net of this size does not learn."""


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
            tables[name] = to_arrow(declared, rows.astype(object).where(rows.notna(), None).to_dict("records"))
    write_flush(target, "real_coverage", tables, TABLES)


def judged(store: Path) -> dict[str, object]:
    from orchestrator.verify import verify_store

    return {v.claim_id: v for v in verify_store(store, record=False) if v.claim_id in CLAIMS and v.sweep and v.value is not None}


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
    from orchestrator.verify import CLAIMS as ALL_CLAIMS
    from workloads.claims import Evidence

    claim_of = {c.claim_id: c for c in ALL_CLAIMS}
    print(f"all {args.seeds} seeds: " + "; ".join(f"{c} {v.outcome} {v.value:+.3f} [{v.interval[0]:+.3f}, {v.interval[1]:+.3f}]"
                                                   for c, v in every.items()))
    print("  by L: " + "; ".join(f"{c} {v.series}" for c, v in every.items()))
    rng = np.random.default_rng(0)
    print(f"\n{'claim':<6}{'seeds':>6}{'draws':>7}{'cover':>8}{'pass':>6}{'fail':>6}{'inconcl.':>9}{'false pass':>11}{'false fail':>11}"
          f"{'old cover':>10}{'old false pass':>15}")
    for size in (3, 5):
        tallies = {claim: {"cover": 0, "pass": 0, "fail": 0, "inconclusive": 0, "false pass": 0, "false fail": 0, "old cover": 0, "old false pass": 0}
                   for claim in every}
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
                    # The interval verify used before: the jackknife-t of the statistic itself, at the same level.
                    evidence = verdict.evidence
                    old = Evidence(evidence.statistic, evidence.seeds, evidence.min_seeds, evidence.bounds, evidence.joint).interval(
                        verdict.confidence)[0]
                    tally["old cover"] += old is not None and old[0] - 1e-9 <= truth.value <= old[1] + 1e-9
                    tally["old false pass"] += old is not None and claim_of[claim].outcome(*old) == "pass" and truth.outcome != "pass"
        for claim, tally in tallies.items():
            print(f"{claim:<6}{size:>6}{args.draws:>7}{tally['cover'] / args.draws:>8.2f}{tally['pass']:>6}{tally['fail']:>6}"
                  f"{tally['inconclusive']:>9}{tally['false pass']:>11}{tally['false fail']:>11}{tally['old cover'] / args.draws:>10.2f}"
                  f"{tally['old false pass']:>15}", flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
