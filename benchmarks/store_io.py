"""Store speed: reading a 1M-row spectra table with pandas, and what writing adds to a trial.

    python benchmarks/store_io.py [--trials 1000] [--rows-per-trial 1000]

Goals (issue 7): reading the 1M-row table takes < 1 s; writing a trial's rows adds < 1% to the
trial. The store is written with sbsweep's own writer, the trial is a real one run here.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from orchestrator.plan import TrialSpec, config_hash
from orchestrator.rows import concat_tables
from orchestrator.store import open_store, read_table, write_flush, write_trial
from orchestrator.trial import run_trial
from results_schema import TRIALS, to_arrow
from workloads import TABLES
from workloads.tables import SPECTRA

FLUSH_TRIALS = 100
"""Trials per flush while filling the store, as a launch writes them (one part file per table per flush)."""


def fill_store(store: Path, trials: int, rows_per_trial: int) -> None:
    """`trials` trials of `rows_per_trial` spectra rows each (steps x 10 frequencies), FLUSH_TRIALS per flush."""
    frequencies = np.arange(5, 55, 5)
    steps = np.repeat(np.arange(rows_per_trial // len(frequencies)) * 100, len(frequencies))
    rng = np.random.default_rng(0)
    flush = []
    for index in range(trials):
        trial_id = f"bench-{index:06d}"
        magnitude = rng.random(len(steps))
        spectra = pd.DataFrame({
            "trial_id": trial_id, "step": steps, "k": np.tile(frequencies, len(steps) // len(frequencies)),
            "amplitude": 1.0, "magnitude": magnitude, "normalized_magnitude": magnitude,
        })
        flush.append({
            SPECTRA.name: to_arrow(SPECTRA, spectra.to_dict("records")),
            TRIALS.name: to_arrow(TRIALS, [{"trial_id": trial_id, "sweep": "bench", "experiment": "learning_order", "status": "ok", "seed": index}]),
        })
        if len(flush) == FLUSH_TRIALS or index == trials - 1:
            write_flush(store, "bench", concat_tables(flush), TABLES)
            flush = []


def timed(fn, repeats: int = 3) -> float:
    """Best wall time of `repeats` calls, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--rows-per-trial", type=int, default=1000)
    parser.add_argument("--trial-steps", type=int, default=2000, help="steps of the real trial whose write cost is measured")
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "store")
        start = time.perf_counter()
        fill_store(store, args.trials, args.rows_per_trial)
        fill_s = time.perf_counter() - start
        rows = args.trials * args.rows_per_trial
        raw_s = timed(lambda: pd.read_parquet(store / "spectra"))
        loader_s = timed(lambda: read_table(store, TABLES["spectra"]))
        print(f"store: {args.trials} trials x {args.rows_per_trial} spectra rows = {rows:,} rows, written in {fill_s:.1f}s")
        print(f"read with pd.read_parquet(store/'spectra'): {raw_s:.3f}s   ({raw_s / 1.0:.2f}x the 1 s goal)")
        print(f"read with sbsweep's read_table:              {loader_s:.3f}s   ({loader_s / 1.0:.2f}x the 1 s goal)")

        # A real Experiment 1 trial (spectra, layer norms and functions every 100 steps), then its write.
        config = {"amplitudes": "equal", "seed": 0, "frequencies": list(range(5, 51, 5)), "n_points": 200, "width": 64, "depth": 6,
                  "steps": args.trial_steps, "learning_rate": 3e-4, "eval_every_steps": 100, "power_iterations": 10,
                  "function_steps": [100, 1000]}
        trial = TrialSpec("bench-write", "bench", "learning_order", config_hash("learning_order", config, 2), config)
        start = time.perf_counter()
        tables = run_trial(trial)
        trial_s = time.perf_counter() - start
        write_s = timed(lambda: write_trial(store, tables, TABLES))
        written = sum(t.num_rows for t in tables.values())
        print(f"one real trial ({args.trial_steps} steps, 6x64): {trial_s:.2f}s; writing its {written:,} rows: {write_s * 1000:.1f}ms"
              f" = {100 * write_s / trial_s:.2f}% of the trial (goal < 1%)")


if __name__ == "__main__":
    main()
