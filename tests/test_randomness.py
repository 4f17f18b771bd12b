"""Each purpose draws from its own random stream: a trial's phases, initial weights, perturbation
directions and noise targets are unrelated numbers, and a store computed by an earlier version of
an experiment's code is refused, never mixed with new trials."""

from __future__ import annotations

import dataclasses
import json
import math
from itertools import combinations
from pathlib import Path

import torch
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.plan import expand
from orchestrator.spec import VERSION_KEY, load_spec
from orchestrator.store import open_store, save_sweep
from results_schema import SWEEPS_DIR
from tests.conftest import snapshot
from workloads import REGISTRY
from workloads.nets import build_mlp
from workloads.noise_regression.config import NoiseRegressionConfig
from workloads.noise_regression.trial import noise_targets
from workloads.perturbation.config import PerturbationConfig
from workloads.perturbation.trial import network, unit_directions
from workloads.randomness import Stream, generator, stream_seed
from workloads.signals import draw_phases


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(torch.corrcoef(torch.stack([a.flatten().double(), b.flatten().double()]))[0, 1])


def test_no_two_purposes_of_one_seed_share_their_numbers():
    for seed in (0, 1, 7):
        draws = {purpose: torch.rand(1000, generator=generator(seed, purpose)) for purpose in Stream}
        assert len({stream_seed(seed, purpose) for purpose in Stream}) == len(Stream)
        for first, second in combinations(Stream, 2):
            assert abs(correlation(draws[first], draws[second])) < 0.15, (seed, first, second)
    # and a stream is the same numbers on every call: a trial is reproducible from its seed
    assert torch.equal(torch.rand(5, generator=generator(3, Stream.PHASES)), torch.rand(5, generator=generator(3, Stream.PHASES)))


def test_experiment_5s_white_noise_targets_are_not_the_regressors_initial_weights():
    config = NoiseRegressionConfig(seed=3, n_points=1000, width=32)
    targets = noise_targets(config)
    first_layer = build_mlp(64, config.width, config.depth, config.seed)[0].weight.detach().flatten()[: config.n_points]
    # A first layer of fan-in 64 is U(-1/8, 1/8); drawn from one generator seeded alike, the targets
    # were exactly 4 w + 0.5 of those weights.
    assert (targets - (4 * first_layer + 0.5)).abs().max() > 0.5
    assert abs(correlation(targets, first_layer)) < 0.15
    assert targets.min() >= 0 and targets.max() < 1 and abs(float(targets.mean()) - 0.5) < 0.05


def test_experiment_4s_directions_do_not_replay_the_initial_weights_draws():
    config = PerturbationConfig(seed=3, width=32, depth=2)
    first_layer = network(config, torch.device("cpu"))[0].weight.detach().flatten()  # U(-1, 1): fan-in 1
    direction = unit_directions(2, 300, config.seed)[0]
    # torch draws Gaussians by Box-Muller from its uniform stream: had the directions come from the
    # weights' generator, the first eight would be these, exactly (correlation 1).
    uniform = (first_layer + 1) / 2
    replayed = torch.sqrt(-2 * torch.log(1 - uniform[:8])) * torch.cos(2 * math.pi * uniform[8:16])
    assert abs(correlation(replayed, direction[:8])) < 0.9


def test_a_targets_phases_are_not_its_nets_first_weights():
    phases = draw_phases(5, 32) / (2 * math.pi)  # U(0, 1)
    first_layer = build_mlp(1, 32, 2, seed=5)[0].weight.detach().flatten()  # U(-1, 1)
    assert (phases - (first_layer + 1) / 2).abs().max() > 0.5


SWEEP = """\
name: versioned
experiment: perturbation
grid:
  delta: [0.0, 0.5]
seeds: [0]
workload: {width: 8, depth: 2, n_points: 32, steps: 20, eval_every_steps: 10, frequencies: [2, 4], directions: 3}
"""


def test_the_experiments_version_enters_every_trial_id_and_prepared_id(write_sweep, monkeypatch):
    spec = load_spec(write_sweep(SWEEP))
    before = expand(spec)
    monkeypatch.setitem(REGISTRY, "perturbation", dataclasses.replace(REGISTRY["perturbation"], version=REGISTRY["perturbation"].version + 1))
    after = expand(spec)
    assert [t.config for t in before] == [t.config for t in after]
    assert not {t.trial_id for t in before} & {t.trial_id for t in after}
    assert not {t.prepared_id for t in before} & {t.prepared_id for t in after}
    assert spec.stored_form()[VERSION_KEY] == REGISTRY["perturbation"].version


def test_a_sweep_stored_by_an_earlier_version_is_refused_and_left_as_it_was(write_sweep, tmp_path: Path):
    path = write_sweep(SWEEP)
    store = open_store(tmp_path / "store")
    stored = load_spec(path).stored_form()
    save_sweep(store, "versioned", {**stored, VERSION_KEY: 1})
    before = snapshot(store)
    result = CliRunner().invoke(cli, ["launch", str(path), "--store", str(store)])
    assert result.exit_code == 2, result.output
    assert f"computed by version 1 of experiment 'perturbation', whose code now computes version {stored[VERSION_KEY]}" in result.output
    assert snapshot(store) == before
    # A spec saved before versions were recorded was computed by version 1 too.
    save_sweep(store, "versioned", {k: v for k, v in stored.items() if k != VERSION_KEY})
    assert "computed by version 1" in CliRunner().invoke(cli, ["launch", str(path), "--store", str(store)]).output
    assert json.loads((store / SWEEPS_DIR / "versioned.json").read_text()).get(VERSION_KEY) is None
    # status still counts what the old version stored (its trial ids are not the new version's)
    assert CliRunner().invoke(cli, ["status", str(store)]).exit_code == 0
