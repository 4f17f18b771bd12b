"""Trial packing (`execution.pack: G`): G grid points trained as one stacked model write the rows
each would write alone, up to float rounding.

Tolerance: every float column of every table agrees with the unpacked run within PACK_ATOL
after 200 steps. The batched matmuls round differently from G single ones, and training
amplifies that chaotically: at these sizes the worst difference was 2e-6 at step 200, but 2e-3
at step 250 and 4e-3 at step 300 (a spectrum magnitude of Experiment 2, mid-transition). 200
steps keep the check tight enough that a net seeing another's data or gradient fails at once.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from conftest import with_results

from orchestrator.cli import cli
from orchestrator.plan import TrialSpec, unit_id, units
from workloads import REGISTRY
from workloads.learning_order.config import LearningOrderConfig
from workloads.manifold_classification.config import ManifoldClassificationConfig
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.training import Checkpointing, DivergedError, Problem, solve, solve_packed

PACK_ATOL = 1e-4
CPU = torch.device("cpu")

POINTS = {
    "manifold_classification": [
        ManifoldClassificationConfig(k=k, L=L, width=16, depth=3, n_points=128, steps=200, eval_every_steps=50)
        for k in (3, 10) for L in (0, 4)
    ],
    "manifold_regression": [
        ManifoldRegressionConfig(L=L, seed=seed, frequencies=(2, 5, 9), width=16, depth=3, n_points=64, steps=200, eval_every_steps=50)
        for L in (0, 4) for seed in (0, 1)
    ],
    "learning_order": [
        LearningOrderConfig(
            amplitudes=a, seed=seed, frequencies=(2, 5, 9), width=16, depth=3, n_points=64, steps=200, eval_every_steps=50, function_steps=(100,)
        )
        for a in ("equal", "increasing") for seed in (0, 1)
    ],
}


def assert_tables_close(alone: dict[str, list[dict]], packed: dict[str, list[dict]]) -> None:
    assert alone.keys() == packed.keys()
    for name in alone:
        pd.testing.assert_frame_equal(pd.DataFrame(alone[name]), pd.DataFrame(packed[name]), check_exact=False, rtol=0, atol=PACK_ATOL)


@pytest.mark.parametrize("experiment", sorted(POINTS))
def test_a_packed_model_writes_what_each_net_would_write_alone(experiment):
    entry, configs = REGISTRY[experiment], POINTS[experiment]
    alone = [entry.compute(config, CPU) for config in configs]
    packed = solve_packed([entry.trial.problem(config, CPU) for config in configs])
    for one, together in zip(alone, packed):
        assert_tables_close(one.tables, together.tables)
        assert one.summary.keys() == together.summary.keys()
        assert all(math.isclose(one.summary[k], together.summary[k], abs_tol=PACK_ATOL) for k in one.summary)


def _toy_problem(seed: int, target_value: float) -> Problem:
    from workloads.nets import build_mlp

    inputs = torch.linspace(0, 1, 32)[:, None]
    target = torch.full((32,), target_value)
    return Problem(
        model=build_mlp(1, 8, 2, seed), inputs=inputs, target=target, steps=60, learning_rate=1e-2, eval_every_steps=20,
    )


def test_a_diverging_net_fails_alone_and_the_rest_of_its_pack_trains_on():
    problems = [_toy_problem(0, 1.0), _toy_problem(1, float("nan")), _toy_problem(2, -1.0)]
    outcomes = solve_packed(problems)
    assert isinstance(outcomes[1], DivergedError) and "loss became nan at step 0" in str(outcomes[1])
    for index in (0, 2):
        alone = solve(_toy_problem(index, [1.0, None, -1.0][index]))
        curve, alone_curve = outcomes[index].tables["curves"], alone.tables["curves"]  # type: ignore[union-attr]
        assert [r["step"] for r in curve] == [0, 20, 40, 60]
        assert [r["loss"] for r in curve] == pytest.approx([r["loss"] for r in alone_curve], abs=1e-6)


def test_a_pack_resumed_from_its_checkpoint_computes_what_an_uninterrupted_pack_does():
    saved = []
    uninterrupted = solve_packed([_toy_problem(s, 0.5) for s in (0, 1)], Checkpointing(every_steps=20, save=saved.append))
    assert [s["step"] for s in saved] == [20, 40]
    resumed = solve_packed([_toy_problem(s, 0.5) for s in (0, 1)], Checkpointing(every_steps=20, save=lambda s: None, saved=saved[0]))
    assert [(r.summary, r.tables) for r in resumed] == [(u.summary, u.tables) for u in uninterrupted]  # type: ignore[union-attr]
    assert [r.resumed_from_step for r in resumed] == [20, 20]  # type: ignore[union-attr]


def test_nets_of_different_shapes_are_never_packed_together():
    with pytest.raises(ValueError, match="one shape"):
        problem = REGISTRY["manifold_classification"].trial.problem
        solve_packed([problem(POINTS["manifold_classification"][0], CPU), problem(ManifoldClassificationConfig(width=8, depth=3, n_points=128), CPU)])

    def trial(name: str, width: int) -> TrialSpec:
        return TrialSpec(name, "s", "manifold_classification", name, {"width": width, "k": 1})

    trials = [trial("a", 8), trial("b", 16), trial("c", 8), trial("d", 8)]
    groups = units(trials, 2, ("width",))
    assert [[t.trial_id for t in g] for g in groups] == [["a", "c"], ["d"], ["b"]]
    assert unit_id(groups[1]) == "d" and unit_id(groups[0]).startswith("s-pack-") and unit_id(groups[0]) != unit_id(groups[0][::-1])


def test_a_packed_sweep_stores_every_trial_once_as_an_unpacked_sweep_would(local_ray, write_sweep, tmp_path):
    sweep = write_sweep()  # 4 trials: k in (3, 20) x L in (0, 6)
    runs = {}
    for pack in (1, 3):
        store = tmp_path / f"pack{pack}"
        result = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store), "--no-plot", "--set", f"execution.pack={pack}"])
        assert result.exit_code == 0, result.output
        runs[pack] = {"trials": with_results(store).sort_values("trial_id").reset_index(drop=True),
                      "curves": pd.read_parquet(store / "curves").sort_values(["trial_id", "step"]).reset_index(drop=True)}
    alone, packed = runs[1], runs[3]
    assert list(packed["trials"]["trial_id"]) == list(alone["trials"]["trial_id"])  # same ids: packing is not part of a trial's identity
    assert packed["trials"]["trial_id"].is_unique and set(packed["trials"]["status"]) == {"ok"}
    assert packed["trials"]["node_id"].nunique() >= 1 and (packed["trials"]["wall_s"] > 0).all()
    pd.testing.assert_frame_equal(alone["curves"], packed["curves"], check_exact=False, rtol=0, atol=PACK_ATOL)
    columns = ["trial_id", "k", "L", "seed", "accuracy", "loss", "baseline_accuracy", "steps", "config_json"]
    pd.testing.assert_frame_equal(alone["trials"][columns], packed["trials"][columns], check_exact=False, rtol=0, atol=PACK_ATOL)
