"""Orchestration overhead: a sweep through `sbsweep launch` vs the same trials as a bare loop.

    python benchmarks/overhead.py                 # the issue's case: 88 trials of about 5 s, 2 workers
    python benchmarks/overhead.py --rows 3        # a quicker look: 24 trials
    python benchmarks/overhead.py --repeats 2     # bare parallel and sbsweep twice each, alternately

The trials are Experiment 3's (k, L) grid of the paper (8 x 11 = 88 cells, one seed) at a size
where one trial takes about 5 s on one CPU thread (6x64, N = 1000). Three timings, one run:
- bare serial: every trial's workload called in this process, one after another, 1 thread;
- bare parallel: the same in a pool of P plain processes (what the hardware gives P workers);
- sbsweep: `sbsweep launch --num-cpus P` as a subprocess, from start to exit, store writes and
  all; its Ray start-up (printed by launch) is reported apart and left out of its time.
Goal (issue 7): sbsweep <= 1.03x (bare serial / P).
This machine's speed drifts for minutes at a time (two processes on its two cores sometimes run
15% slower than one alone), so with --repeats the two parallel sides alternate and the fastest
run of each counts, as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import yaml

K_VALUES = [50, 100, 150, 200, 250, 300, 350, 400]  # sweeps/manifold.yaml, the paper's grid
L_VALUES = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20]


def bare_trial(args: tuple[int, int, dict]) -> float:
    """Run one trial's workload alone with one thread; return its seconds."""
    from workloads import REGISTRY
    from workloads.manifold_classification.config import ManifoldClassificationConfig

    k, L, workload = args
    torch.set_num_threads(1)
    start = time.perf_counter()
    REGISTRY["manifold_classification"].compute(ManifoldClassificationConfig(k=k, L=L, **workload), torch.device("cpu"))
    return time.perf_counter() - start


def timed_launch(grid: dict, workload: dict, workers: int) -> tuple[float, float]:
    """Run the trials through `sbsweep launch` into a fresh store; return (wall seconds, Ray start seconds)."""
    with tempfile.TemporaryDirectory() as tmp:
        sweep = Path(tmp) / "overhead.yaml"
        sweep.write_text(yaml.safe_dump({
            "name": "overhead", "experiment": "manifold_classification", "grid": grid, "seeds": [0],
            "workload": workload, "resources": {"cpu": 1},
        }))
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "orchestrator", "launch", str(sweep), "--store", str(Path(tmp) / "store"),
             "--num-cpus", str(workers), "--no-plot"],
            capture_output=True, text=True,
        )
        launch_s = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"launch failed:\n{done.stderr[-2000:]}")
    return launch_s, float(re.search(r"Ray start ([0-9.]+)s", done.stderr).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=11, help="values of L to run, 8 trials each (11: all 88 cells)")
    parser.add_argument("--workers", type=int, default=2, help="parallel workers P (= --num-cpus of the launch)")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--steps", type=int, default=1700, help="steps per trial (1700 is about 5 s at 6x64 on one core)")
    parser.add_argument("--repeats", type=int, default=1, help="runs of bare parallel and of sbsweep, alternating; the fastest of each counts")
    args = parser.parse_args()
    workload = {"width": args.width, "depth": 6, "n_points": 1000, "steps": args.steps, "eval_every_steps": 100}
    grid = {"k": K_VALUES, "L": L_VALUES[: args.rows]}
    cells = [(k, L) for L in grid["L"] for k in grid["k"]]

    start = time.perf_counter()
    for k, L in cells:
        bare_trial((k, L, workload))
    serial_s = time.perf_counter() - start

    parallel_s = sbsweep_s = ray_start_s = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            pool.map(bare_trial, [(k, L, workload) for k, L in cells], chunksize=1)
        parallel_s = min(parallel_s, time.perf_counter() - start)
        launch_s, launch_ray_start_s = timed_launch(grid, workload, args.workers)
        if launch_s - launch_ray_start_s < sbsweep_s:
            sbsweep_s, ray_start_s = launch_s - launch_ray_start_s, launch_ray_start_s
    ideal_s = serial_s / args.workers
    print(f"{len(cells)} trials (6x{args.width}, N=1000, {args.steps} steps), {args.workers} workers; "
          f"parallel sides: the fastest of {args.repeats} run(s) each")
    print(f"bare serial:   {serial_s:.1f}s total, {serial_s / len(cells):.2f}s per trial; / {args.workers} = {ideal_s:.1f}s")
    print(f"bare parallel: {parallel_s:.1f}s  ({parallel_s / ideal_s:.3f}x bare serial / P: what the hardware allows)")
    print(f"sbsweep:       {sbsweep_s:.1f}s  (+ Ray start {ray_start_s:.1f}s, reported apart)")
    print(f"overhead ratio sbsweep / (bare serial / P): {sbsweep_s / ideal_s:.3f}x   (goal <= 1.03x)")
    print(f"overhead ratio sbsweep / bare parallel:     {sbsweep_s / parallel_s:.3f}x")


if __name__ == "__main__":
    main()
