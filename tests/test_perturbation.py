"""Experiment 4: perturbing theta*, evaluated as a batch, with theta* trained once and reused."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from conftest import snapshot

from orchestrator.cli import cli
from orchestrator.store import prepared_info
from workloads.nets import build_mlp
from workloads.perturbation.config import PerturbationConfig
from workloads.perturbation.trial import perturbed_outputs, prepare, run, unit_directions

CPU = torch.device("cpu")
TINY = PerturbationConfig(frequencies=(2, 6), n_points=64, width=16, depth=2, steps=300, eval_every_steps=100, directions=20)


@pytest.fixture(scope="module")
def theta_star() -> bytes:
    return prepare(TINY, CPU)


def test_the_directions_are_unit_vectors_drawn_from_the_seed_alone():
    directions = unit_directions(100, 5000, seed=3)
    assert directions.shape == (100, 5000)
    assert torch.allclose(directions.norm(dim=1), torch.ones(100), atol=1e-5)
    assert torch.equal(directions, unit_directions(100, 5000, seed=3))
    assert not torch.equal(directions, unit_directions(100, 5000, seed=4))


def test_a_perturbation_of_size_zero_leaves_every_frequency_at_normalized_magnitude_one(theta_star):
    rows = run(TINY, CPU, theta_star).tables["perturbation_spectra"]
    assert [r["k"] for r in rows] == [2, 6]
    for row in rows:
        assert row["normalized_magnitude"] == pytest.approx(1.0, abs=1e-6)
        assert row["normalized_mean_magnitude"] == pytest.approx(1.0, abs=1e-6)


def test_the_batched_evaluation_equals_one_forward_pass_per_direction():
    model = build_mlp(in_features=1, width=8, depth=2, seed=0)
    inputs = torch.linspace(0, 1, 16)[:, None]
    size = sum(p.numel() for p in model.parameters())
    displacements = 0.5 * unit_directions(4, size, seed=0)
    batched = perturbed_outputs(model, inputs, displacements)
    theta = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    for i in range(4):
        torch.nn.utils.vector_to_parameters(theta + displacements[i], model.parameters())
        with torch.no_grad():
            assert torch.allclose(batched[i], model(inputs).squeeze(-1), atol=1e-6)
    torch.nn.utils.vector_to_parameters(theta, model.parameters())


SWEEP = """\
name: robust
experiment: perturbation
grid: {delta: [0.0, 2.0]}
seeds: [0, 1]
workload: {frequencies: [2, 6], n_points: 64, width: 16, depth: 2, steps: 100, eval_every_steps: 50, directions: 6}
"""


def test_relaunching_with_more_deltas_reuses_theta_star_and_trains_nothing(local_ray, write_sweep, tmp_path):
    store = tmp_path / "store"
    sweep = write_sweep(SWEEP)
    first = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store)])
    assert first.exit_code == 0, first.output
    theta_files = {k: v for k, v in snapshot(store).items() if k.startswith("prepared/")}
    assert len([k for k in theta_files if k.endswith(".pt")]) == 2  # one theta* per seed, shared by both deltas
    trials = pd.read_parquet(store / "trials")
    assert trials.groupby("seed")["prepared_id"].nunique().tolist() == [1, 1]
    for prepared_id in set(trials["prepared_id"]):  # how long training theta* took, for the report's preparation minutes
        info = prepared_info(store, prepared_id)
        assert info["wall_s"] > 0 and info["device"] == "cpu", info
    assert (store / "figures" / "figure5_robust.png").exists()
    assert (trials["parameters"] == (16 + 16) + (16 + 1)).all()  # Linear(1, 16), Linear(16, 1): the net theta* sets

    again = CliRunner().invoke(cli, ["launch", str(sweep), "--store", str(store), "--set", "grid.delta=[0.0, 2.0, 4.0, 8.0]", "--no-plot"])
    assert again.exit_code == 0, again.output
    assert {k: v for k, v in snapshot(store).items() if k.startswith("prepared/")} == theta_files
    trials = pd.read_parquet(store / "trials")
    assert len(trials) == 8 and trials.groupby("seed")["prepared_id"].nunique().tolist() == [1, 1]
    rows = pd.read_parquet(store / "perturbation_spectra")
    assert len(rows) == 8 * 2 and set(rows["delta"]) == {0.0, 2.0, 4.0, 8.0}
    # 1 at delta = 0, up to float32 rounding: the batched pass over directions rounds apart from the net's own
    assert (rows.loc[rows["delta"] == 0.0, "normalized_magnitude"] - 1).abs().max() < 1e-5


def test_trials_whose_theta_star_diverged_fail_with_the_reason_and_the_rest_is_untouched(local_ray, write_sweep, tmp_path):
    store = tmp_path / "store"
    args = ["launch", str(write_sweep(SWEEP)), "--store", str(store), "--set", "workload.learning_rate=1.0e+30", "--no-plot"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    trials = pd.read_parquet(store / "trials")
    assert len(trials) == 4 and set(trials["status"]) == {"diverged"}  # theta* would diverge again: not rerun
    assert trials["error"].str.match(r"its prepared state prepared-[0-9a-f]{16} failed: loss became nan at step").all()
    assert not (store / "prepared").exists() or not list((store / "prepared").iterdir())
