"""A suite run together against its sweeps launched one by one: wall time of each, same machine.

    python benchmarks/suite.py                           # the CPU suite: two runs of it (about 80 minutes on 2 cores)
    python benchmarks/suite.py --set workload.steps=1000  # the same trials at 1000 steps (17 minutes on 2 cores)

Runs `sbsweep reproduce --scale cpu --no-report` into one fresh store (every sweep in one Ray
session and one Tune run, batches costliest first), then `sbsweep launch` of each of the suite's
sweep files, one after another, into another fresh store (a Ray start and a tail per sweep), as
subprocesses, and prints each wall time and their ratio. Both sides run the same trials; the
stores are deleted afterwards unless --keep.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if done.returncode not in (0, 1, 3, 4, 5):  # verdicts may fail; a run that breaks may not
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="cpu", help="the suite: sweeps/suites/SCALE.yaml")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="applied to every sweep")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of the embedded Ray (default: all)")
    parser.add_argument("--keep", action="store_true", help="keep the two stores")
    parser.add_argument("--side", choices=("both", "together", "alone"), default="both",
                        help="time one side only (to compare with a run of the other timed elsewhere)")
    args = parser.parse_args()
    from orchestrator.suite import load_suite, suite_file

    path = suite_file(args.scale)
    suite, specs = load_suite(path, args.overrides)
    folder = Path(tempfile.mkdtemp(prefix="sbsweep-suite-bench-"))
    sets = [a for o in args.overrides for a in ("--set", o)]
    cpus = ["--num-cpus", str(args.num_cpus)] if args.num_cpus else []
    sbsweep = [sys.executable, "-m", "orchestrator"]
    try:
        print(f"suite '{suite.name}': {len(specs)} sweeps" + (f", with {' '.join(sets)}" if sets else ""))
        together = alone = None
        if args.side in ("both", "together"):
            together = timed([*sbsweep, "reproduce", "--scale", args.scale, "--store", str(folder / "together"), "--no-report", *sets, *cpus])
            print(f"together (sbsweep reproduce):     {together / 60:.1f} min")
        if args.side in ("both", "alone"):
            alone = 0.0
            for file in [(path.parent / relative).resolve() for relative in suite.sweeps]:
                seconds = timed([*sbsweep, "launch", str(file), "--store", str(folder / "alone"), "--no-plot", *sets, *cpus])
                print(f"  {file.name}: {seconds / 60:.1f} min", flush=True)
                alone += seconds
            print(f"one by one (sbsweep launch each): {alone / 60:.1f} min")
        if together and alone:
            print(f"together / one by one: {together / alone:.2f}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            print(f"stores kept in {folder}")


if __name__ == "__main__":
    main()
