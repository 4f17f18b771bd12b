"""Experiment 5 (Figure 7) at toy size: a real denoising autoencoder of the real bundled digits,
white noise regressed on its reconstructions and on a flat subspace through a real launch, and
`verify`'s comparison of the curves."""

from __future__ import annotations

import io

import pandas as pd
import pytest
import torch
from click.testing import CliRunner
from conftest import verdicts_of

from orchestrator.cli import cli
from orchestrator.results import StoredSweep
from workloads import REGISTRY
from workloads.noise_regression.trial import digits, inputs_of, prepare, problem

CPU = torch.device("cpu")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


TINY_5 = {"n_points": 64, "width": 16, "depth": 3, "steps": 60, "eval_every_steps": 20, "autoencoder_width": 32, "autoencoder_steps": 300}


def test_the_denoising_autoencoder_learns_the_digits_and_reconstructs_the_runs_images():
    config = REGISTRY["noise_regression"].parse(TINY_5)
    state = torch.load(io.BytesIO(prepare(config, CPU)), weights_only=True)
    images = digits()
    assert state["reconstructions"].shape == (64, 64) and 0 <= float(state["reconstructions"].min()) <= float(state["reconstructions"].max()) <= 1
    assert state["loss"] < float(((images - images.mean(0)) ** 2).mean())  # it learned more than the mean image
    assert len(set(state["images"].tolist())) == 64  # 64 different digits, drawn from the seed
    again = torch.load(io.BytesIO(prepare(config, CPU)), weights_only=True)
    assert torch.equal(again["reconstructions"], state["reconstructions"])  # the seed alone decides


def test_flat_inputs_fill_the_first_code_dim_coordinates_and_both_inputs_regress_the_same_noise():
    experiment = REGISTRY["noise_regression"]
    manifold, flat = (experiment.parse({**TINY_5, "inputs": inputs, "code_dim": 5}) for inputs in ("manifold", "flat"))
    prepared = prepare(manifold, CPU)
    points, _ = inputs_of(flat, prepared)
    assert points.shape == (64, 64) and torch.all(points[:, 5:] == 0)
    assert float(points[:, :5].min()) >= 0 and float(points[:, :5].max()) < 1 and float(points[:, :5].std()) > 0.2
    output = torch.linspace(0, 1, 64)
    assert problem(manifold, CPU, prepared).loss_of_output(output) == problem(flat, CPU, prepared).loss_of_output(output)


EXPERIMENT_5 = """\
name: exp5
experiment: noise_regression
grid: {inputs: [manifold, flat]}
seeds: [0, 1]
workload: {n_points: 64, width: 16, depth: 3, steps: 60, eval_every_steps: 20, autoencoder_width: 32, autoencoder_steps: 50}
execution: {pack: 2}
"""


def test_experiment_5_packs_its_trials_with_their_seeds_autoencoder_and_verify_compares_the_curves(local_ray, write_sweep, tmp_path):
    store = tmp_path / "store"
    result = CliRunner().invoke(cli, ["launch", str(write_sweep(EXPERIMENT_5)), "--store", str(store), "--num-cpus", "2"])
    assert result.exit_code == 0, result.output
    trials = pd.read_parquet(store / "trials")
    assert len(trials) == 4 and set(trials["status"]) == {"ok"} and trials["prepared_id"].nunique() == 2  # one autoencoder per seed
    assert len(list((store / "prepared").glob("*.pt"))) == 2
    assert (store / "figures" / "figure7_exp5.png").read_bytes()[:8] == PNG_MAGIC
    [c6] = verdicts_of(store, "C6").values()
    curves = StoredSweep(store, "exp5").table("curves", "inputs")
    mean = curves[curves["step"] > 0].pivot_table(index="step", columns="inputs", values="loss", aggfunc="mean")
    assert c6.value == pytest.approx(float((mean["manifold"] < mean["flat"]).mean()))
    assert c6.series == pytest.approx({kind: float(mean[kind].iloc[-1]) for kind in ("manifold", "flat")})
