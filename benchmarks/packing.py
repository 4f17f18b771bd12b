"""Trial packing: G nets of one shape trained as one stacked model vs one after another.

    python benchmarks/packing.py                                  # CPU, 4 nets 6x64 (goal >= 1.3x)
    python benchmarks/packing.py --device cuda --width 256 --pack 32   # GPU, 6x256 (goal >= 20x)
    python benchmarks/packing.py --ops-only                        # operations per step, packs of 1, 4, 32

Both sides run the same Experiment 3 configs (k varies, L = 4, N = 1000), evals included, in
this process with one torch thread on a CPU. Prints the throughput ratio measured in this run
and how far the packed results are from the unpacked ones.
Both sides use the same fused Adam and in-place ReLU (every sbsweep net does), so the ratio is
what batching the nets gains, nothing else.

First it counts, with torch's profiler, the operations one training step runs for packs of 1, 4
and 32 nets (aten calls, and on a GPU the kernels launched): on a device whose steps are bound
by launching kernels, packing gains only if that count does not grow with the pack. Two runs
that differ only in their number of steps (the same evals) give the count per step, and the
count per eval is read the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch
from torch.profiler import ProfilerActivity, profile

from workloads import REGISTRY
from workloads.manifold_classification.config import ManifoldClassificationConfig
from workloads.manifold_classification.trial import problem
from workloads.training import solve_packed


def operations(configs: list[ManifoldClassificationConfig], device: torch.device) -> tuple[int, int]:
    """(aten calls, kernels launched) of training `configs` as one pack, as torch's profiler counts them."""
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as recorded:
        solve_packed([problem(config, device) for config in configs])
    events = recorded.events()
    aten = sum(1 for event in events if event.name.startswith("aten::"))
    launches = sum(1 for event in events if event.name in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC"))
    return aten, launches


def per_step_and_eval(pack: int, width: int, depth: int, n_points: int, device: torch.device) -> dict[str, float]:
    """Operations per training step and per eval of a pack of `pack` nets: from runs of 20 and 40
    steps with the same two evals, then of 40 steps with 2 and 5 evals."""
    def count(steps: int, every: int) -> tuple[int, int]:
        configs = [ManifoldClassificationConfig(k=10 + 10 * i, L=4, seed=i, width=width, depth=depth, n_points=n_points,
                                                steps=steps, eval_every_steps=every) for i in range(pack)]
        return operations(configs, device)

    count(20, 20)  # warm-up: the first run of a process does one-off work
    (a20, k20), (a40, k40), (a40e, k40e) = count(20, 20), count(40, 40), count(40, 10)
    return {"aten_per_step": (a40 - a20) / 20, "kernels_per_step": (k40 - k20) / 20,
            "aten_per_eval": (a40e - a40) / 3, "kernels_per_eval": (k40e - k40) / 3}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pack", type=int, default=4, help="nets per stacked model (G); 2 to 4 do best on this 2-core CPU")
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--depth", type=int, default=6)
    parser.add_argument("--n-points", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on a CPU")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side; the fastest of each counts")
    parser.add_argument("--ops-only", action="store_true", help="count the operations per step and stop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    counts = {pack: per_step_and_eval(pack, args.width, args.depth, args.n_points, device) for pack in (1, 4, 32)}
    print(f"operations per training step and per eval, {args.depth}x{args.width}, N={args.n_points}, on {device} (torch profiler):")
    print(f"{'pack':>6} {'aten/step':>10} {'kernels/step':>13} {'aten/eval':>10} {'kernels/eval':>13}")
    for pack, c in counts.items():
        print(f"{pack:>6} {c['aten_per_step']:>10.0f} {c['kernels_per_step']:>13.0f} {c['aten_per_eval']:>10.0f} {c['kernels_per_eval']:>13.0f}")
    print(f"aten calls per step, pack 32 / pack 1: {counts[32]['aten_per_step'] / counts[1]['aten_per_step']:.2f}x")
    if args.ops_only:
        return
    configs = [
        ManifoldClassificationConfig(
            k=10 + 10 * i, L=4, seed=i, width=args.width, depth=args.depth, n_points=args.n_points, steps=args.steps, eval_every_steps=100
        )
        for i in range(args.pack)
    ]

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    # Warm up both paths (allocator, kernels) on a short run first.
    short = [dataclasses.replace(c, steps=20) for c in configs[:2]]
    [REGISTRY["manifold_classification"].compute(c, device) for c in short]
    solve_packed([problem(c, device) for c in short])

    alone_s = packed_s = float("inf")
    for _ in range(args.repeats):  # alternate the sides, so drift in machine speed hits both alike
        sync()
        start = time.perf_counter()
        alone = [REGISTRY["manifold_classification"].compute(config, device) for config in configs]
        sync()
        alone_s = min(alone_s, time.perf_counter() - start)
        start = time.perf_counter()
        packed = solve_packed([problem(config, device) for config in configs])
        sync()
        packed_s = min(packed_s, time.perf_counter() - start)

    net_steps = args.pack * args.steps
    first_eval_gap = max(abs(a.tables["curves"][1]["loss"] - p.tables["curves"][1]["loss"]) for a, p in zip(alone, packed))
    accuracy_gaps = [abs(a.summary["accuracy"] - p.summary["accuracy"]) for a, p in zip(alone, packed)]
    print(f"{args.pack} nets {args.depth}x{args.width}, N={args.n_points}, {args.steps} steps each, on {device} ({args.threads} thread(s))")
    print(f"one after another: {alone_s:.2f}s  ({1000 * alone_s / net_steps:.3f} ms per net-step)")
    print(f"packed:            {packed_s:.2f}s  ({1000 * packed_s / net_steps:.3f} ms per net-step)")
    print(f"packing throughput ratio: {alone_s / packed_s:.2f}x")
    print(f"packed vs alone: loss at step 100 differs by at most {first_eval_gap:.1e}; final accuracy by "
          f"{sum(accuracy_gaps) / len(accuracy_gaps):.4f} on average, {max(accuracy_gaps):.4f} at most (rounding differences grow with training)")


if __name__ == "__main__":
    main()
