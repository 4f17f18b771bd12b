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
from workloads.images import all_images
from workloads.noise_regression.trial import corruption, inputs_of, nearest_neighbour_distance, noise_stream, prepare, problem
from workloads.randomness import Stream, generator

CPU = torch.device("cpu")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


TINY_5 = {"n_points": 64, "width": 16, "depth": 3, "steps": 60, "eval_every_steps": 20, "autoencoder_width": 32, "autoencoder_steps": 300}


def test_the_denoising_autoencoder_learns_the_digits_and_reconstructs_the_runs_images():
    config = REGISTRY["noise_regression"].parse(TINY_5)
    state = torch.load(io.BytesIO(prepare(config, CPU)), weights_only=True)
    images = all_images("digits")[0]
    assert state["reconstructions"].shape == (64, 64) and 0 <= float(state["reconstructions"].min()) <= float(state["reconstructions"].max()) <= 1
    assert state["loss"] < float(((images - images.mean(0)) ** 2).mean())  # it learned more than the mean image
    assert len(set(state["images"].tolist())) == 64  # 64 different digits, drawn from the seed
    again = torch.load(io.BytesIO(prepare(config, CPU)), weights_only=True)
    assert torch.equal(again["reconstructions"], state["reconstructions"])  # the seed alone decides


def test_flat_inputs_fill_the_first_code_dim_coordinates_and_both_inputs_regress_the_same_noise():
    experiment = REGISTRY["noise_regression"]
    manifold, flat = (experiment.parse({**TINY_5, "inputs": inputs, "code_dim": 5, "flat_spacing": "unit"}) for inputs in ("manifold", "flat"))
    prepared = prepare(manifold, CPU)
    points, _ = inputs_of(flat, prepared)
    assert points.shape == (64, 64) and torch.all(points[:, 5:] == 0)
    assert float(points[:, :5].min()) >= 0 and float(points[:, :5].max()) < 1 and float(points[:, :5].std()) > 0.2
    output = torch.linspace(0, 1, 64)
    assert problem(manifold, CPU, prepared).loss_of_output(output) == problem(flat, CPU, prepared).loss_of_output(output)


def test_the_flat_control_is_spaced_as_the_digits_are_so_c6_compares_shapes_not_spacings():
    experiment = REGISTRY["noise_regression"]
    quick = {**TINY_5, "autoencoder_steps": 20}
    manifold = experiment.parse(quick)
    prepared = prepare(manifold, CPU)
    digits_points, _ = inputs_of(manifold, prepared)
    matched, _ = inputs_of(experiment.parse({**quick, "inputs": "flat"}), prepared)
    unit, _ = inputs_of(experiment.parse({**quick, "inputs": "flat", "flat_spacing": "unit"}), prepared)
    assert nearest_neighbour_distance(matched) == pytest.approx(nearest_neighbour_distance(digits_points), rel=1e-6)  # float32 points
    assert torch.allclose(matched / matched.abs().max(), unit / unit.abs().max())  # the same points, scaled


def test_the_autoencoders_noise_is_drawn_on_the_cpu_whatever_the_device_so_a_trial_is_the_same_anywhere():
    config = REGISTRY["noise_regression"].parse(TINY_5)
    assert noise_stream(config).device.type == "cpu"
    shape = torch.Size((3, 64))
    reference = torch.randn(shape, generator=generator(config.seed, Stream.AUTOENCODER_NOISE)) * config.autoencoder_noise
    assert torch.equal(corruption(config, shape, noise_stream(config), "cpu"), reference)
    moved = corruption(config, shape, noise_stream(config), "meta")  # another device only receives the CPU's draws
    assert moved.device.type == "meta" and moved.shape == shape


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
