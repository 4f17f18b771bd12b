"""Grids that say what applies: a trial is what it computes (copies collapse into one), unions and
zipped axes expand to exactly the trials they name, bad forms name their file, line and key, and
ranges give numpy's own values."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.grid import expand_range
from orchestrator.plan import expand, grid_trials
from orchestrator.spec import SpecError, load_spec, validate_spec

BREAKS = {"name": "b", "experiment": "learning_order", "workload": {"frequencies": [5, 10], "n_points": 64}}


def points_of(spec_data: dict) -> list[dict]:
    spec = validate_spec(spec_data, "test")
    axes = ("encoding", "fourier_scale", "activation", "learning_rate", "sine_omega", "noise_frequency", "noise_amplitude", "k", "L", "steps")
    return [{a: t.config[a] for a in axes if a in t.config} | {"seed": t.config["seed"]} for t in expand(spec)]


def test_a_grid_over_fourier_scale_with_encoding_none_runs_one_trial_per_seed():
    spec = validate_spec({**BREAKS, "grid": {"fourier_scale": [1.0, 3.0, 10.0]}, "seeds": [0, 1]}, "test")
    trials = expand(spec)
    assert len(trials) == 2 and grid_trials(spec) == 6  # one per seed: without a Fourier encoding the scale changes nothing
    assert all(t.config["fourier_scale"] is None and t.config["fourier_features"] is None for t in trials)
    # ... and the unused value is not in the id: any fixed scale gives the same trials.
    other = validate_spec({**BREAKS, "workload": {**BREAKS["workload"], "fourier_scale": 7.0}, "seeds": [0, 1]}, "test")
    assert [t.trial_id for t in expand(other)] == [t.trial_id for t in trials]
    # With the encoding, every scale is a trial of its own.
    encoded = {**BREAKS["workload"], "encoding": "fourier"}
    fourier = validate_spec({**BREAKS, "grid": {"fourier_scale": [1.0, 3.0, 10.0]}, "workload": encoded}, "test")
    assert [t.config["fourier_scale"] for t in expand(fourier)] == [1.0, 3.0, 10.0]


def test_a_collapsed_trial_still_trains_the_net_it_describes():
    from workloads import REGISTRY

    [trial] = expand(validate_spec({**BREAKS, "grid": {"sine_omega": [10.0, 30.0]}}, "test"))
    config = REGISTRY["learning_order"].parse(trial.config)  # the null takes its default: it changes nothing
    assert config.sine_omega == 30.0 and config.activation == "relu"


@pytest.mark.parametrize("grid, expected", [
    pytest.param({"activation": ["relu", "sine"], "learning_rate": [1e-4, 3e-4]},
                 [("relu", 1e-4, 30), ("relu", 3e-4, 30), ("sine", 1e-4, 30), ("sine", 3e-4, 30)], id="product"),
    pytest.param([{"activation": ["relu"]}, {"activation": ["sine"], "learning_rate": [1e-4, 3e-4]}],
                 [("relu", 3e-4, 30), ("sine", 1e-4, 30), ("sine", 3e-4, 30)], id="union"),
    pytest.param([{"activation": ["relu", "sine"]}, {"activation": ["sine"], "learning_rate": [3e-4, 1e-4]}],
                 [("relu", 3e-4, 30), ("sine", 3e-4, 30), ("sine", 1e-4, 30)], id="union-sharing-a-point-runs-it-once"),
    pytest.param({"zip": {"activation": ["relu", "sine"], "learning_rate": [3e-4, 1e-4]}},
                 [("relu", 3e-4, 30), ("sine", 1e-4, 30)], id="zip"),
    pytest.param({"activation": ["relu", "sine"], "zip": {"learning_rate": [1e-4, 3e-4], "steps": [20, 10]}},
                 [("relu", 1e-4, 20), ("relu", 3e-4, 10), ("sine", 1e-4, 20), ("sine", 3e-4, 10)], id="zip-crossed-with-an-axis"),
    pytest.param({"zip": [{"activation": ["relu", "sine"]}, {"learning_rate": [1e-4, 3e-4], "steps": [20, 10]}]},
                 [("relu", 1e-4, 20), ("relu", 3e-4, 10), ("sine", 1e-4, 20), ("sine", 3e-4, 10)], id="two-zip-groups"),
    pytest.param([{"activation": ["relu"]}, {"activation": ["sine"], "zip": {"learning_rate": [1e-4, 3e-4], "steps": [20, 10]}}],
                 [("relu", 3e-4, 80_000), ("sine", 1e-4, 20), ("sine", 3e-4, 10)], id="zip-inside-a-union"),
])
def test_unions_and_zipped_axes_expand_to_exactly_the_trials_they_name(grid, expected):
    workload = {**BREAKS["workload"], **({} if "steps" in str(grid) else {"steps": 30})}  # steps 30 where no grid sets it
    got = [(p["activation"], p["learning_rate"], p["steps"]) for p in points_of({**BREAKS, "workload": workload, "grid": grid})]
    assert got == expected


def test_label_noise_at_amplitude_0_is_one_run_for_every_noise_frequency():
    data = {"name": "n", "experiment": "label_noise", "grid": {"noise_frequency": [0.3, 6.0], "noise_amplitude": [0.0, 1.0]}}
    assert [(p["noise_frequency"], p["noise_amplitude"]) for p in points_of(data)] == [(None, 0.0), (0.3, 1.0), (6.0, 1.0)]


@pytest.mark.parametrize("text, key, line", [
    pytest.param("grid:\n  - {k: [5]}\n  - 3\n", "grid[1]", 5, id="a-union-of-something-else"),
    pytest.param("grid:\n  L: [0]\n  zip: {k: [5, 40], threshold: [0.5]}\n", "grid.zip", 5, id="zipped-axes-of-other-lengths"),
    pytest.param("grid:\n  k: [5]\n  zip: {k: [40]}\n", "grid.zip.k", 5, id="an-axis-both-crossed-and-zipped"),
    pytest.param("grid:\n  zip: [3]\n", "grid.zip", 4, id="zip-of-no-mapping"),
    pytest.param("grid:\n  - {k: [5]}\n  - {kk: [5]}\n", "grid[1].kk", 5, id="an-unknown-axis-in-a-union"),
    pytest.param("grid:\n  zip: {k: [5, 5], L: [0, 0]}\n", "grid.zip", 4, id="zipped-pairs-repeated"),
    pytest.param("grid: []\n", "grid", 3, id="an-empty-union"),
])
def test_a_bad_grid_form_is_one_error_naming_its_file_line_and_key(tmp_path, text, key, line):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nexperiment: manifold_classification\n" + text)
    with pytest.raises(SpecError) as raised:
        load_spec(path)
    assert raised.value.key == key and raised.value.line == line, str(raised.value)
    assert str(raised.value).startswith(f"{path}:{line}: {key}: ") and "\n" not in str(raised.value)


def test_the_dry_run_shows_the_grids_of_a_union_and_how_many_points_collapsed(tmp_path):
    union = CliRunner().invoke(cli, ["launch", "sweeps/spectral_bias_breaks_cpu.yaml", "--dry-run"])
    assert union.exit_code == 0 and "48 trials" in union.output
    assert "grid[0]: encoding (1) x activation (2) x learning_rate (2) = 4 points" in union.output
    product = CliRunner().invoke(cli, ["launch", "sweeps/spectral_bias_breaks_cpu.yaml", "--dry-run", "--set",
                                       "grid={encoding: [none, fourier], fourier_scale: [1.0, 3.0, 10.0], activation: [relu, sine], "
                                       "learning_rate: [1.0e-4, 3.0e-4]}"])
    assert product.exit_code == 0 and "48 trials (72 grid points x seeds; 24 of them the same trial as another" in product.output


def test_linspace_and_logspace_give_exactly_numpys_values_on_random_ranges():
    rng = np.random.default_rng(7)
    for _ in range(3000):
        start, stop = (float(v) for v in np.round(rng.uniform(-8, 8, 2), int(rng.integers(0, 6))))
        num = int(rng.integers(1, 40))
        assert expand_range("grid.x", {"linspace": [start, stop, num]}) == np.linspace(start, stop, num).tolist()
        assert expand_range("grid.x", {"logspace": [start, stop, num]}) == np.logspace(start, stop, num).tolist()
    assert expand_range("grid.x", {"logspace": [0, 5.001, 100]}) == np.logspace(0, 5.001, 100).tolist()
    assert expand_range("grid.L", {"linspace": [0, 20, 5]}) == [0, 5, 10, 15, 20]  # whole values between whole bounds: ints
