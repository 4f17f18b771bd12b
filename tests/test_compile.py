"""`execution.compile`: a net compiled with torch.compile (inductor, on this CPU) computes what the
eager net does, alone and packed, up to float rounding."""

from __future__ import annotations

import pandas as pd
import torch

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


def test_a_compiled_net_alone_and_a_compiled_pack_write_what_eager_ones_do():
    eager = [REGISTRY["manifold_regression"].compute(config, CPU) for config in CONFIGS]
    alone = solve(problem(CONFIGS[0], CPU), compile_mode="default")
    assert_same_rows(eager[0].tables, alone.tables)
    packed = solve_packed([problem(config, CPU) for config in CONFIGS], compile_mode="default")
    for one, together in zip(eager, packed):
        assert_same_rows(one.tables, together.tables)  # type: ignore[union-attr]
