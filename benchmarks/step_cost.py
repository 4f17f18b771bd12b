"""Step cost: a real trial's step (spectra every 100 steps, checkpoints, store write) vs a bare loop.

    python benchmarks/step_cost.py [--width 256] [--steps 2000]

The bare loop is the least a step can cost: forward, MSE, backward, Adam, on the same net and
data, with nothing else. The trial is Experiment 2 through sbsweep's run_trial (spectra every
100 steps, a checkpoint every 1000 steps saved with torch.save) followed by its store write.
Goal (issue 7): the trial's time per step within 1.10x of the bare loop's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from orchestrator.plan import TrialSpec, config_hash
from orchestrator.store import open_store, write_trial
from orchestrator.trial import run_trial
from workloads import TABLES
from workloads.config import to_data
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.manifold_regression.trial import problem as regression_problem
from workloads.training import Checkpointing, adam


def bare_loop(config: ManifoldRegressionConfig) -> float:
    """Seconds for `config.steps` plain full-batch Adam steps on the trial's own net and data."""
    problem = regression_problem(config, torch.device("cpu"))
    optimizer = adam(problem.model.parameters(), config.learning_rate)  # the trial's own optimizer
    start = time.perf_counter()
    for _ in range(config.steps):
        loss = problem.loss_of_output(problem.model(problem.inputs).squeeze(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--width", type=int, default=256)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--n-points", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each side; the best of each counts")
    args = parser.parse_args()
    torch.set_num_threads(1)
    fields = {"L": 4, "seed": 0, "width": args.width, "depth": args.depth, "n_points": args.n_points, "steps": args.steps, "eval_every_steps": 100}
    config = ManifoldRegressionConfig(**fields)
    spec_config = to_data(config)
    trial = TrialSpec("bench-step", "bench", "manifold_regression", config_hash("manifold_regression", spec_config, 2), spec_config)

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "store")

        def save(state: dict) -> None:
            torch.save(state, os.path.join(tmp, "checkpoint.pt"))

        def full_trial() -> float:
            start = time.perf_counter()
            write_trial(store, run_trial(trial, checkpointing=Checkpointing(every_steps=1000, save=save)), TABLES)
            return time.perf_counter() - start

        bare_loop(ManifoldRegressionConfig(**{**fields, "steps": 50}))  # warm-up
        bare_s, trial_s = float("inf"), float("inf")
        for _ in range(args.repeats):  # alternate, so drift in machine load hits both sides alike
            bare_s = min(bare_s, bare_loop(config))
            trial_s = min(trial_s, full_trial())
    print(f"Experiment 2 net {args.depth}x{args.width}, N={args.n_points}, {args.steps} steps, 1 thread")
    print(f"bare loop:  {1000 * bare_s / args.steps:.3f} ms per step")
    print(f"real trial: {1000 * trial_s / args.steps:.3f} ms per step (spectra every 100 steps, checkpoint every 1000, store write)")
    print(f"step cost ratio (trial / bare): {trial_s / bare_s:.3f}x   (goal <= 1.10x)")


if __name__ == "__main__":
    main()
