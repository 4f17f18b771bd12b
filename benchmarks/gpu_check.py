"""Check a GPU machine for sbsweep in one go: each check prints pass / fail with its number.

    python benchmarks/gpu_check.py                      # about 5-10 minutes on one GPU
    python benchmarks/gpu_check.py --json gpu_check.json --only cuda compile packing

Run it on one machine with one GPU (a cloud GPU node, or a workstation), after installing
sbsweep with a CUDA build of torch. The checks:

  cuda          CUDA is visible and a trial that asks for a GPU is given it (pick_device)
  fractional    a sweep of two trials at resources.gpu 0.5 runs both at once on the one GPU,
                through Ray, into a real store (the rows name the GPU, its CUDA and driver)
  reproducible  the same trial twice on the GPU: the curves equal bit for bit
  drift         the same trial id on the GPU and on the CPU: how far their numbers are apart
  checkpoint    a checkpoint taken on the GPU resumes on the CPU, and ends where the GPU run does
  oom           a trial past its memory cap is recorded as out of GPU memory, and the next
                trial in the same process runs fine
  compile       execution.compile's speedup on a 6x256 net (its compile time left out)
  packing       packing's speedup for 32 nets of 6x256 (goal: 20x)
  paper_sweep   a paper-scale sweep's wall time (Figure 4, one seed of the 440-trial sweep, packed)

Without CUDA the first check fails and the others are skipped. Exit code 0 when every check that
ran passed, 1 otherwise. Uses only sbsweep's public Python API and torch.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from orchestrator import launch
from orchestrator.checkpoints import BatchProgress, load_checkpoint, save_checkpoint
from orchestrator.job import TrialSpec
from orchestrator.plan import expand
from orchestrator.spec import validate_spec
from orchestrator.trial import pick_device, prepare_device, run_trial, run_unit
from workloads.manifold_classification.config import ManifoldClassificationConfig
from workloads.manifold_classification.trial import problem
from workloads.training import Checkpointing, solve_packed

REPO = Path(__file__).resolve().parents[1]
DRIFT_ATOL = 1e-3
"""How far a GPU's loss curve may be from the CPU's over a short run (float rounding, compounded
by training) for `drift` to pass; the number printed is the measured distance."""


@dataclass
class Outcome:
    name: str
    status: str  # pass, fail or skipped
    value: str
    seconds: float


def trial(experiment: str, workload: dict, seed: int = 0) -> TrialSpec:
    """One trial of `experiment` with these workload values, exactly as a sweep file would make it."""
    spec = validate_spec({"name": "gpu-check", "experiment": experiment, "workload": workload, "seeds": [seed]}, "gpu_check")
    return expand(spec)[0]


SMALL = {"width": 64, "depth": 6, "n_points": 1000, "steps": 1000, "eval_every_steps": 100, "k": 100, "L": 10}
PAPER_NET = {"width": 256, "depth": 6, "n_points": 1000, "k": 200, "L": 10}


def curves(tables: dict) -> pd.DataFrame:
    return tables["curves"].to_pandas().sort_values("step").reset_index(drop=True)


def check_cuda(cuda: torch.device) -> tuple[bool, str]:
    chosen = pick_device(1.0)
    name = torch.cuda.get_device_name(chosen)
    return chosen.type == "cuda", f"{chosen} = {name}, torch {torch.__version__}, CUDA {torch.version.cuda}"


def check_fractional(cuda: torch.device) -> tuple[bool, str]:
    folder = Path(tempfile.mkdtemp(prefix="sbsweep-gpu-check-"))
    try:
        sweep = folder / "fractional.yaml"
        sweep.write_text(
            "name: fractional\nexperiment: manifold_classification\ngrid: {k: [50, 200]}\n"
            "workload: {width: 256, depth: 6, n_points: 1000, steps: 3000, eval_every_steps: 500}\nresources: {cpu: 1, gpu: 0.5}\n")
        report = launch(sweep, folder / "store", plot=False, echo=lambda line: None)
        trials = pd.read_parquet(folder / "store" / "trials")
        starts, ends = trials["started_at"], trials["started_at"] + pd.to_timedelta(trials["wall_s"], unit="s")
        together = bool(starts.max() < ends.min())
        ok = report.ok and set(trials["device"]) == {"cuda:0"} and together
        described = trials.iloc[0][["gpu_name", "cuda_version", "gpu_driver"]].tolist()
        return ok, f"{len(trials)} trials {dict(trials['status'].value_counts())} on {set(trials['device'])}, at once: {together}; {described}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_reproducible(cuda: torch.device) -> tuple[bool, str]:
    one = trial("manifold_classification", SMALL)
    first, second = curves(run_trial(one, cuda)), curves(run_trial(one, cuda))
    equal = first[["loss", "accuracy"]].equals(second[["loss", "accuracy"]])
    gap = float((first["loss"] - second["loss"]).abs().max())
    return equal, f"{len(first)} evals, largest loss difference {gap:.1e}"


def check_drift(cuda: torch.device) -> tuple[bool, str]:
    one = trial("manifold_classification", {**SMALL, "steps": 300})
    gpu, cpu = curves(run_trial(one, cuda)), curves(run_trial(one, torch.device("cpu")))
    loss_gap = float((gpu["loss"] - cpu["loss"]).abs().max())
    accuracy_gap = float((gpu["accuracy"] - cpu["accuracy"]).abs().max())
    return loss_gap <= DRIFT_ATOL, f"largest |loss GPU - CPU| over 300 steps {loss_gap:.1e} (at most {DRIFT_ATOL:g}); accuracy {accuracy_gap:.4f}"


def check_checkpoint(cuda: torch.device) -> tuple[bool, str]:
    one = trial("manifold_classification", {**SMALL, "steps": 400})
    saved: list[dict] = []
    uninterrupted = curves(run_trial(one, cuda, checkpointing=Checkpointing(every_steps=200, save=saved.append)))
    folder = Path(tempfile.mkdtemp(prefix="sbsweep-gpu-check-"))
    try:  # through the checkpoint files a batch writes, as a retry on another node would read them
        save_checkpoint(BatchProgress(unit=one.trial_id, state=saved[0]), lambda d: shutil.copytree(d, folder / "checkpoint"))
        state = load_checkpoint(str(folder / "checkpoint"), torch.device("cpu")).state
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    tables = run_trial(one, torch.device("cpu"), checkpointing=Checkpointing(every_steps=200, save=lambda s: None, saved=state))
    resumed = curves(tables)
    step = tables["trials"].column("resumed_from_step")[0].as_py()
    gap = float((uninterrupted["loss"] - resumed["loss"]).abs().max())
    return step == 200 and gap <= DRIFT_ATOL, f"resumed on the CPU from GPU step {step}; final curves {gap:.1e} apart"


def check_oom(cuda: torch.device) -> tuple[bool, str]:
    where = {"device": cuda, "torch_threads": 1, "node_id": None, "gpu_ids": "0", "compile_mode": None}
    try:
        prepare_device(cuda, 0.01, "highest")  # a trial's share of 1%: what resources.gpu 0.01 caps it at
        big = trial("manifold_classification", {"width": 8192, "depth": 3, "n_points": 200_000, "steps": 2, "eval_every_steps": 1, "k": 50})
        [failed] = run_unit((big,), **where)
        small = trial("manifold_classification", {**SMALL, "steps": 100})
        [after] = run_unit((small,), **where)
    finally:
        torch.cuda.set_per_process_memory_fraction(1.0, cuda)
        torch.cuda.empty_cache()
    failed_row, after_row = failed["trials"].to_pylist()[0], after["trials"].to_pylist()[0]
    recorded = failed_row["status"] == "crashed" and "out of GPU memory" in (failed_row["error"] or "")
    why = (failed_row["error"] or "")[:60]
    return recorded and after_row["status"] == "ok", f"big trial: {failed_row['status']} ({why}...); next trial: {after_row['status']}"


def check_compile(cuda: torch.device) -> tuple[bool, str]:
    workload = {**PAPER_NET, "steps": 3000, "eval_every_steps": 1000}
    one = trial("manifold_classification", workload)
    run_trial(one, cuda)  # warm-up: CUDA context, cuBLAS handles
    eager = run_trial(one, cuda)["trials"].to_pylist()[0]
    lines, best = [], 0.0
    for mode in ("default", "reduce-overhead"):
        row = run_trial(one, cuda, compile_mode=mode)["trials"].to_pylist()[0]
        if row["status"] != "ok":
            lines.append(f"{mode}: {row['status']} {row['error']}")
            continue
        speedup = eager["wall_s"] / (row["wall_s"] - row["compile_s"])
        best = max(best, speedup)
        lines.append(f"{mode} {speedup:.2f}x (compiling {row['compile_s']:.1f}s)")
    return best > 1.0, f"eager {eager['wall_s']:.1f}s for 3000 steps; " + "; ".join(lines)


def check_packing(cuda: torch.device) -> tuple[bool, str]:
    configs = [ManifoldClassificationConfig(k=50 + 10 * i, L=4, seed=i, width=256, depth=6, n_points=1000, steps=500, eval_every_steps=100)
               for i in range(32)]
    solve_packed([problem(configs[0], cuda)])  # warm-up
    torch.cuda.synchronize()
    start = time.perf_counter()
    for config in configs:
        solve_packed([problem(config, cuda)])
    torch.cuda.synchronize()
    alone_s = time.perf_counter() - start
    start = time.perf_counter()
    solve_packed([problem(config, cuda) for config in configs])
    torch.cuda.synchronize()
    packed_s = time.perf_counter() - start
    ratio = alone_s / packed_s
    return ratio >= 20, f"{ratio:.1f}x (goal 20x): 32 nets x 500 steps alone {alone_s:.1f}s, packed {packed_s:.1f}s"


def check_paper_sweep(cuda: torch.device) -> tuple[bool, str]:
    folder = Path(tempfile.mkdtemp(prefix="sbsweep-gpu-check-"))
    try:
        overrides = ["seeds=[0]", "execution.pack=22", "resources.gpu=0.25"]
        start = time.perf_counter()
        report = launch(REPO / "sweeps" / "manifold.yaml", folder / "store", overrides=overrides, plot=False, echo=lambda line: None)
        wall_s = time.perf_counter() - start
        return report.ok, (f"sweeps/manifold.yaml {' '.join('--set ' + o for o in overrides)}: {report.trials} trials of 10 000 steps "
                           f"in {wall_s:.0f}s ({report.statuses}); the 5-seed sweep would take about {5 * wall_s / 60:.0f} min")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CHECKS: dict[str, Callable[[torch.device], tuple[bool, str]]] = {
    "cuda": check_cuda, "fractional": check_fractional, "reproducible": check_reproducible, "drift": check_drift,
    "checkpoint": check_checkpoint, "oom": check_oom, "compile": check_compile, "packing": check_packing, "paper_sweep": check_paper_sweep,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", choices=list(CHECKS), help="run these checks only")
    parser.add_argument("--json", type=Path, help="also write the outcomes to this file")
    parser.add_argument("--budget-s", type=float, default=570, help="skip the checks that would start after this many seconds")
    args = parser.parse_args()
    began = time.perf_counter()
    outcomes: list[Outcome] = []
    cuda = torch.device("cuda", 0) if torch.cuda.is_available() else None
    for name, check in CHECKS.items():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        if cuda is None and name != "cuda":
            outcomes.append(Outcome(name, "skipped", "no CUDA device", 0.0))
        elif start - began > args.budget_s:
            outcomes.append(Outcome(name, "skipped", f"past the {args.budget_s:.0f}s budget", 0.0))
        else:
            try:
                ok, value = check(cuda or torch.device("cpu"))
            except Exception as error:  # noqa: BLE001 - a check that breaks is a failed check, and the others still run
                ok, value = False, f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            outcomes.append(Outcome(name, "pass" if ok else "fail", value, time.perf_counter() - start))
        last = outcomes[-1]
        print(f"{last.name:<13} {last.status:<8} {last.seconds:6.1f}s  {last.value}", flush=True)
    if args.json:
        args.json.write_text(json.dumps([o.__dict__ for o in outcomes], indent=2, default=str))
    ran = [o for o in outcomes if o.status != "skipped"]
    print(f"{sum(o.status == 'pass' for o in ran)} of {len(ran)} checks passed, {len(outcomes) - len(ran)} skipped, "
          f"in {time.perf_counter() - began:.0f}s")
    return 0 if ran and all(o.status == "pass" for o in ran) else 1


if __name__ == "__main__":
    sys.exit(main())
