"""Scale: the same tiny-trial sweep at 200, 2000 and 20 000 trials (and 100 000 on request).

    python benchmarks/scale.py                          # 200, 2000, 20 000 trials, 2 workers
    python benchmarks/scale.py --sizes 200 2000 20000 100000
    python benchmarks/scale.py --sizes 2000 --no-bare   # one size, no bare comparison

The trials are Experiment 3's at toy size (a net of one Linear layer of width 4, 20 steps, N =
200), a grid of k in 1..50 x L x seeds: each trial is a few milliseconds of arithmetic, so what
the benchmark sees is what the orchestrator costs per trial. Each size runs in a fresh process
through the library (`orchestrator.launch`, embedded local Ray with --workers CPUs) into a fresh
store, and prints, per size:
- per-trial wall time: the launch's time after Ray started (Tune, the trials, the store writes,
  the end-of-launch bookkeeping) divided by the trials;
- part files of the trials table, and trials per part file;
- the driver process's peak memory (its own, not Ray's workers');
- the time plain `pd.read_parquet(STORE / "trials")` takes (fastest of 3);
- freshness: a reader in this process reads the trials table with plain pandas every second
  while the launch runs, and notes when each trial first appears; a trial's delay is that time
  less the moment it ended on its worker (started_at + wall_s). Median and largest delay, and
  whether plain pandas ever read a trial twice.
Bare: the same 2000 trials' workloads called directly in a pool of --workers processes.
Goals (issues 16 and 30): per-trial time grows at most 1.3x from 200 to 2000 and from 2000 to
20 000; 2000 trials within 3x of bare; at most one trials part per 20 trials once the launch has
ended (it merges its parts); the 2000-row trials table reads in < 0.5 s; driver peak memory at
20 000 trials < 1 GB; every trial visible to a reader within flush_every_s (--flush-every-s,
default the sweep default, 60 s) plus 10 s, at every size; no trial ever read twice.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import yaml

WORKLOAD = {"width": 4, "depth": 1, "n_points": 200, "steps": 20, "eval_every_steps": 10}
K_VALUES = list(range(1, 51))

LAUNCH = """
import json, resource, sys
from orchestrator import launch
report = launch(sys.argv[1], store=sys.argv[2], num_cpus=int(sys.argv[3]), plot=False, echo=lambda line: None)
print(json.dumps({"fit_s": report.fit_s, "ray_start_s": report.ray_start_s, "batches": report.batches, "ok": report.ok,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def grid(trials: int) -> tuple[dict, list[int]]:
    """A k x L grid and seeds with exactly `trials` points (a multiple of 200)."""
    seeds = max(1, trials // 2000)
    rows = trials // len(K_VALUES) // seeds
    return {"k": K_VALUES, "L": list(range(rows))}, list(range(seeds))


def watch(store: Path, stop: threading.Event, first_seen: dict[str, float], twice: list[int]) -> None:
    """Read the trials table with plain pandas every second until `stop`, noting when each trial
    first appears (wall clock, as started_at) and any read that holds a trial twice."""
    while not stop.wait(1.0):
        try:
            rows = pd.read_parquet(store / "trials", columns=["trial_id"])
        except Exception:  # no part yet, or a part gone between listing and reading: read again
            continue
        now = time.time()
        if not rows["trial_id"].is_unique:
            twice.append(len(rows) - rows["trial_id"].nunique())
        for trial_id in rows["trial_id"]:
            first_seen.setdefault(trial_id, now)


def run_size(trials: int, workers: int, root: Path, flush_every_s: float | None) -> dict:
    axes, seeds = grid(trials)
    sweep = root / f"scale{trials}.yaml"
    execution = {"max_trials": trials, **({"flush_every_s": flush_every_s} if flush_every_s is not None else {})}
    sweep.write_text(yaml.safe_dump({
        "name": f"scale{trials}", "experiment": "manifold_classification", "grid": axes, "seeds": seeds,
        "workload": WORKLOAD, "execution": execution,
    }))
    store = root / f"store{trials}"
    first_seen: dict[str, float] = {}
    twice: list[int] = []
    stop = threading.Event()
    reader = threading.Thread(target=watch, args=(store, stop, first_seen, twice), daemon=True)
    reader.start()
    done = subprocess.run([sys.executable, "-c", LAUNCH, str(sweep), str(store), str(workers)], capture_output=True, text=True)
    stop.set()
    reader.join()
    if done.returncode != 0:
        sys.exit(f"launch of {trials} trials failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    parts = [p for p in (store / "trials").glob("*/*.parquet") if not p.name.startswith(".")]
    reads = []
    for _ in range(3):
        start = time.perf_counter()
        rows = len(pd.read_parquet(store / "trials"))
        reads.append(time.perf_counter() - start)
    assert rows == trials and result["ok"], (rows, result)
    ended = pd.read_parquet(store / "trials", columns=["trial_id", "started_at", "wall_s"])
    ended_at = ended["started_at"].map(lambda t: t.timestamp()) + ended["wall_s"]
    delays = pd.Series([first_seen[t] - end for t, end in zip(ended["trial_id"], ended_at) if t in first_seen])
    return {**result, "trials": trials, "parts": len(parts), "read_s": min(reads), "per_trial_ms": 1000 * result["fit_s"] / trials,
            "delay_median_s": float(delays.median()) if len(delays) else float("nan"),
            "delay_max_s": float(delays.max()) if len(delays) else float("nan"), "seen_live": len(delays), "read_twice": len(twice)}


def bare_chunk(points: list[tuple[int, int, int]]) -> None:
    """The workloads of some trials, called one after another, one thread."""
    import torch

    from workloads import REGISTRY
    from workloads.manifold_classification.config import ManifoldClassificationConfig

    torch.set_num_threads(1)
    for k, L, seed in points:
        REGISTRY["manifold_classification"].compute(ManifoldClassificationConfig(k=k, L=L, seed=seed, **WORKLOAD), torch.device("cpu"))


def bare(trials: int, workers: int) -> float:
    """Seconds the trials' workloads take in a pool of `workers` processes (imports excluded)."""
    axes, seeds = grid(trials)
    points = [(k, L, s) for s in seeds for k in axes["k"] for L in axes["L"]]
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(bare_chunk, [points[:2] for _ in range(workers)])  # warm: imports, first-use costs
        start = time.perf_counter()
        pool.map(bare_chunk, [points[i::workers] for i in range(workers)])
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 20000], help="sweep sizes (multiples of 200)")
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the embedded Ray, and processes of the bare pool")
    parser.add_argument("--no-bare", dest="bare", action="store_false", help="skip the bare comparison at 2000 trials")
    parser.add_argument("--flush-every-s", type=float, default=None, help="the sweeps' execution.flush_every_s (default: the sweep default)")
    args = parser.parse_args()
    from orchestrator.spec import Execution

    flush_every_s = args.flush_every_s if args.flush_every_s is not None else Execution().flush_every_s
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            results.append(run_size(size, args.workers, Path(tmp), args.flush_every_s))
            r = results[-1]
            print(f"{r['trials']:>7} trials: {r['per_trial_ms']:6.2f} ms per trial ({r['fit_s']:.1f} s after a {r['ray_start_s']:.1f} s Ray start), "
                  f"{r['batches']} batches, {r['parts']} trials part file(s) after the launch, driver peak {r['peak_mb']:.0f} MB, "
                  f"pd.read_parquet(trials) {1000 * r['read_s']:.0f} ms; a reader saw {r['seen_live']} trials while it ran, "
                  f"delay median {r['delay_median_s']:.1f} s, max {r['delay_max_s']:.1f} s, {r['read_twice']} reads with a trial twice", flush=True)
    by_size = {r["trials"]: r for r in results}
    print("\ngoal                                                   measured")
    sizes = sorted(by_size)
    for small, large in zip(sizes, sizes[1:]):
        growth = by_size[large]["per_trial_ms"] / by_size[small]["per_trial_ms"]
        print(f"per-trial time {small} -> {large} trials <= 1.3x{'':<16}{growth:.2f}x")
    for size in sizes:
        print(f"trials per trials part file at {size} >= 20{'':<17}{size / by_size[size]['parts']:.0f}")
    for size in sizes:
        print(f"largest reader delay at {size} <= {flush_every_s + 10:.0f} s{'':<18}{by_size[size]['delay_max_s']:.1f} s "
              f"(median {by_size[size]['delay_median_s']:.1f} s)")
        print(f"plain pandas reads holding a trial twice at {size} == 0{'':<6}{by_size[size]['read_twice']}")
    if 2000 in by_size:
        print(f"2000-row trials table read < 0.5 s{'':<21}{by_size[2000]['read_s']:.3f} s")
        if args.bare:
            bare_s = bare(2000, args.workers)
            print(f"2000 trials vs bare pool of {args.workers} <= 3x{'':<19}{by_size[2000]['fit_s'] / bare_s:.2f}x "
                  f"({by_size[2000]['fit_s']:.1f} s vs {bare_s:.1f} s)")
    if 20000 in by_size:
        print(f"driver peak memory at 20 000 trials < 1024 MB{'':<10}{by_size[20000]['peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
