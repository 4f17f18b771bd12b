"""`execution.compile`: a net compiled with torch.compile (inductor, on this CPU) really is compiled,
alone and packed, says what compiling cost, and computes what the eager net does up to float rounding."""

from __future__ import annotations

import pandas as pd
import torch
from torch._dynamo.utils import counters

from workloads import REGISTRY
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.manifold_regression.trial import problem
from workloads.training import solve, solve_packed

CPU = torch.device("cpu")
COMPILE_ATOL = 1e-4  # fused kernels round differently; 30 steps leave that far below this
CONFIGS = [
    ManifoldRegressionConfig(L=L, frequencies=(2, 5), width=8, depth=2, n_points=64, steps=30, eval_every_steps=10)
    for L in (0, 4)
]


def assert_same_rows(eager: dict[str, list[dict]], compiled: dict[str, list[dict]]) -> None:
    assert eager.keys() == compiled.keys()
    for name in eager:
        pd.testing.assert_frame_equal(pd.DataFrame(eager[name]), pd.DataFrame(compiled[name]), check_exact=False, rtol=0, atol=COMPILE_ATOL)


def test_a_net_compiled_alone_or_in_a_pack_compiles_a_graph_reports_its_cost_and_writes_what_eager_ones_do():
    eager = [REGISTRY["manifold_regression"].compute(config, CPU) for config in CONFIGS]
    assert all(result.compile_s is None for result in eager)
    counters.clear()
    alone = solve(problem(CONFIGS[0], CPU), compile_mode="default")
    assert counters["stats"]["unique_graphs"] >= 1, "torch.compile compiled nothing: the step ran eagerly"
    assert alone.compile_s is not None and alone.compile_s > 0
    assert_same_rows(eager[0].tables, alone.tables)
    counters.clear()
    packed = solve_packed([problem(config, CPU) for config in CONFIGS], compile_mode="default")
    assert counters["stats"]["unique_graphs"] >= 1
    for one, together in zip(eager, packed):
        assert together.compile_s is not None and together.compile_s > 0  # type: ignore[union-attr]
        assert_same_rows(one.tables, together.tables)  # type: ignore[union-attr]
