"""Experiments 1 and 2 at tiny sizes: the paper's measurements, the new tables, their figures."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
import torch

from orchestrator.figures import draw_figures
from orchestrator.plan import expand
from orchestrator.spec import SpecError, load_spec
from orchestrator.store import open_store, save_sweep, write_trial
from orchestrator.trial import run_trial
from workloads import REGISTRY, TABLES
from workloads.learning_order.config import LearningOrderConfig
from workloads.learning_order.trial import amplitudes_for
from workloads.manifold_regression.config import ManifoldRegressionConfig
from workloads.nets import build_mlp, layer_spectral_norms, spectral_norm

CPU = torch.device("cpu")
learning_order = REGISTRY["learning_order"].compute
manifold_regression = REGISTRY["manifold_regression"].compute


def test_the_spectral_norm_of_a_known_matrix_is_its_largest_singular_value():
    torch.manual_seed(0)
    u, _ = torch.linalg.qr(torch.randn(6, 6))
    v, _ = torch.linalg.qr(torch.randn(4, 4))
    matrix = u[:, :3] @ torch.diag(torch.tensor([5.0, 2.0, 1.0])) @ v[:, :3].T  # singular values 5, 2, 1
    assert spectral_norm(matrix, iterations=10) == pytest.approx(5.0, rel=1e-6)
    assert spectral_norm(torch.diag(torch.tensor([3.0, -7.0, 1.0]))) == pytest.approx(7.0, rel=1e-6)


def test_every_weight_matrix_gets_a_spectral_norm_input_layer_first():
    net = build_mlp(in_features=1, width=16, depth=3, seed=0)
    norms = layer_spectral_norms(net)
    assert len(norms) == 3  # depth counts the Linear layers
    exact = [torch.linalg.matrix_norm(m.weight.detach().double(), ord=2).item() for m in net if isinstance(m, torch.nn.Linear)]
    assert all(estimate <= value * (1 + 1e-6) for estimate, value in zip(norms, exact))
    assert norms == pytest.approx(exact, rel=0.05)


def test_the_two_amplitude_settings_are_the_papers():
    assert amplitudes_for("equal", 10).tolist() == [1.0] * 10
    assert amplitudes_for("increasing", 10).tolist() == pytest.approx([0.1 * i for i in range(1, 11)])


def test_experiment_1_at_tiny_size_learns_a_single_low_frequency_within_its_steps():
    config = LearningOrderConfig(
        frequencies=(1,), width=32, depth=4, n_points=64, steps=300, learning_rate=1e-3, eval_every_steps=100, function_steps=()
    )
    spectra = learning_order(config, CPU).tables["spectra"]
    assert [row["step"] for row in spectra] == [0, 100, 200, 300]
    assert spectra[0]["normalized_magnitude"] < 0.1
    assert spectra[-1]["normalized_magnitude"] > 0.8


TINY_EXP1 = LearningOrderConfig(
    amplitudes="increasing", frequencies=(2, 5, 9), n_points=64, width=16, depth=2, steps=200, eval_every_steps=50, function_steps=(100,)
)


def test_experiment_1_records_spectra_norms_and_functions_at_the_asked_steps():
    tables = learning_order(TINY_EXP1, CPU).tables
    assert len(tables["curves"]) == 5
    first_three = [(r["step"], r["k"], r["amplitude"]) for r in tables["spectra"][:3]]
    assert first_three == [(0, 2, pytest.approx(1 / 3)), (0, 5, pytest.approx(2 / 3)), (0, 9, 1.0)]
    assert len(tables["layer_norms"]) == 5 * TINY_EXP1.depth  # one per eval and Linear layer
    assert sorted({r["step"] for r in tables["functions"]}) == [100, 200] and len(tables["functions"]) == 2 * 64


def test_a_resumed_experiment_keeps_the_spectra_measured_before_the_checkpoint():
    from workloads.training import Checkpointing

    saved: list[dict] = []
    whole = learning_order(TINY_EXP1, CPU, Checkpointing(every_steps=120, save=saved.append))
    resumed = learning_order(TINY_EXP1, CPU, Checkpointing(every_steps=120, save=lambda s: None, saved=saved[0]))
    assert resumed.resumed_from_step == 120 and resumed.tables == whole.tables


def test_experiment_2_with_a_richer_manifold_fits_better_in_the_same_budget():
    base = ManifoldRegressionConfig(frequencies=(3, 12, 24), n_points=128, width=32, depth=4, steps=400, learning_rate=1e-3, eval_every_steps=100)
    flat = manifold_regression(base, CPU).summary["loss"]
    petals = manifold_regression(dataclasses.replace(base, L=12), CPU).summary["loss"]
    assert petals < flat


@pytest.mark.parametrize(
    ("override", "key"),
    [("workload.function_steps=[150]", "workload.function_steps"), ("workload.frequencies=[5, 100]", "workload.frequencies")],
)
def test_experiment_1_refuses_figure_steps_off_the_eval_grid_and_aliasing_frequencies(override, key):
    with pytest.raises(SpecError, match=key):
        load_spec("sweeps/learning_order_cpu.yaml", [override])


TINY = ["workload.width=8", "workload.depth=1", "workload.steps=100", "seeds=[0]"]


@pytest.mark.parametrize(
    ("sweep_file", "overrides", "tables", "figures"),
    [
        (
            "sweeps/learning_order_cpu.yaml", [*TINY, "workload.function_steps=[100]"],
            ["curves", "spectra", "layer_norms", "functions"], ["figure1", "figure6"],
        ),
        ("sweeps/manifold_regression_cpu.yaml", TINY, ["curves", "spectra"], ["figure3"]),
    ],
)
def test_each_new_table_round_trips_through_pandas_and_the_figures_come_from_the_store(tmp_path, sweep_file, overrides, tables, figures):
    spec = load_spec(sweep_file, overrides)
    store = open_store(tmp_path / "store")
    save_sweep(store, spec.name, spec.to_dict())
    written = {}
    for trial in expand(spec):
        rows = run_trial(trial)
        write_trial(store, rows, TABLES)
        for name in tables:
            written.setdefault(name, []).append(rows[name].to_pandas())
    for name in tables:
        expected = pd.concat(written[name]).sort_values(["trial_id", "step"], kind="stable", ignore_index=True)
        read = pd.read_parquet(store / name).sort_values(["trial_id", "step"], kind="stable", ignore_index=True)
        pd.testing.assert_frame_equal(read, expected, check_dtype=False)
    drawn = {p.name for p in draw_figures(store)}
    assert {f"{figure}_{spec.name}.png" for figure in figures} <= drawn


def test_figure_labels_read_L_4_not_4_0_in_a_store_shared_with_an_experiment_without_L(tmp_path):
    import json

    from orchestrator.results import StoredSweep
    from results_schema import TRIALS, to_arrow

    store = open_store(tmp_path / "store")
    sweeps = (("cls", "manifold_classification", {"seed": 0, "k": 50, "L": 4}), ("pt", "perturbation", {"seed": 0, "delta": 0.5}))
    for sweep, experiment, config in sweeps:
        row = dict(trial_id=f"{sweep}-1", sweep=sweep, experiment=experiment, seed=0, status="crashed", config_json=json.dumps(config))
        write_trial(store, {TRIALS.name: to_arrow(TRIALS, [row])}, TABLES)
    rows = StoredSweep(store, "cls").trials  # config fields come from each trial's config_json: ints stay ints
    assert f"L = {rows['L'].iloc[0]}, k = {rows['k'].iloc[0]}" == "L = 4, k = 50"
    assert "L" not in StoredSweep(store, "pt").trials  # an axis a sweep lacks is no column of it
