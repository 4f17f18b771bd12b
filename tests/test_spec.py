"""Sweep files: what loads, what is refused (naming file, line and key), and stable trial ids."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from orchestrator.grid import points as grid_points
from orchestrator.plan import expand
from orchestrator.spec import SpecError, load_spec
from workloads.manifold_classification.config import ManifoldClassificationConfig

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sweep_file", sorted((REPO / "sweeps").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_sweep_file_is_valid(sweep_file):
    spec = load_spec(sweep_file)
    assert expand(spec)


def test_the_paper_scale_sweep_is_the_papers_88_cell_grid():
    spec = load_spec(REPO / "sweeps" / "manifold.yaml")
    assert spec.grid["k"] == list(range(50, 401, 50))
    assert spec.grid["L"] == list(range(0, 21, 2))
    assert len(grid_points(spec.grid)) == 88
    assert len(expand(spec)) == 88 * len(spec.seeds)


def test_a_grid_expands_to_the_product_of_its_axes_times_seeds_seeds_outermost(write_sweep):
    spec = load_spec(write_sweep(), ["seeds=[0, 1, 2]"])
    trials = expand(spec)
    assert len(trials) == 2 * 2 * 3
    assert [t.config["seed"] for t in trials] == [0] * 4 + [1] * 4 + [2] * 4
    assert {(t.config["k"], t.config["L"]) for t in trials[:4]} == {(3, 0), (3, 6), (20, 0), (20, 6)}


def test_a_trial_config_holds_every_field_with_defaults_filled_in(write_sweep):
    trial = expand(load_spec(write_sweep()))[0]
    assert set(trial.config) == {f.name for f in dataclasses.fields(ManifoldClassificationConfig)}
    assert trial.config["learning_rate"] == 3e-4 and trial.config["width"] == 8


def test_the_same_point_always_gets_the_same_trial_id(write_sweep, tmp_path):
    ids = [t.trial_id for t in expand(load_spec(write_sweep()))]
    reordered = write_sweep(
        "name: tiny\nexperiment: manifold_classification\nresources: {cpu: 1}\nseeds: [0]\n"
        "workload: {eval_every_steps: 10, steps: 40, n_points: 64, depth: 2, width: 8}\n"
        "grid: {L: [6, 0], k: [20, 3]}\n",
        name="reordered.yaml",
    )
    assert sorted(t.trial_id for t in expand(load_spec(reordered))) == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("tiny-") for i in ids)


@pytest.mark.parametrize(
    "override",
    ["workload.width=9", "workload.depth=3", "workload.n_points=66", "workload.steps=41", "workload.learning_rate=0.002",
     "workload.threshold=0.4", "workload.eval_every_steps=20", "seeds=[1]", "grid.k=[4]", "grid.L=[7]"],
)
def test_the_trial_id_changes_when_any_config_value_does(write_sweep, override):
    base = {t.trial_id for t in expand(load_spec(write_sweep()))}
    changed = {t.trial_id for t in expand(load_spec(write_sweep(), [override]))}
    assert not (base & changed) or override.startswith("grid.")
    if override.startswith("grid."):  # only the points on the changed axis value are new
        assert changed - base


def test_resources_do_not_change_what_a_trial_computes_so_not_its_id(write_sweep):
    base = [t.trial_id for t in expand(load_spec(write_sweep()))]
    assert [t.trial_id for t in expand(load_spec(write_sweep(), ["resources.cpu=2", "resources.gpu=0.5"]))] == base


def test_yaml_exponent_floats_read_as_numbers(write_sweep):
    assert load_spec(write_sweep(), ["workload.learning_rate=1e-2"]).workload["learning_rate"] == 0.01


BAD_SPECS = [
    # (id, yaml text, overrides, key named in the message, line named or None)
    ("unknown-top-key", "name: x\nexperiment: manifold_classification\ngirdd: {}\n", [], "girdd", 3),
    ("misspelled-workload-key", "name: x\nexperiment: manifold_classification\nworkload:\n  widht: 8\n", [], "workload.widht", 4),
    ("unknown-experiment", "name: x\nexperiment: manifold_clasification\n", [], "experiment", 2),
    ("missing-name", "experiment: manifold_classification\n", [], "name", None),
    ("wrong-type", "name: x\nexperiment: manifold_classification\nworkload: {steps: many}\n", [], "workload.steps", 3),
    ("float-for-int", "name: x\nexperiment: manifold_classification\nworkload: {width: 8.5}\n", [], "workload.width", 3),
    ("non-positive-steps", "name: x\nexperiment: manifold_classification\nworkload: {steps: 0}\n", [], "workload.steps", 3),
    ("negative-lr", "name: x\nexperiment: manifold_classification\nworkload: {learning_rate: -0.1}\n", [], "workload.learning_rate", 3),
    ("empty-axis", "name: x\nexperiment: manifold_classification\ngrid: {k: []}\n", [], "grid.k", 3),
    ("duplicate-axis-values", "name: x\nexperiment: manifold_classification\ngrid: {k: [5, 5]}\n", [], "grid.k", 3),
    ("bad-axis-value", "name: x\nexperiment: manifold_classification\ngrid:\n  L: [0,\n   -2]\n", [], "grid.L[1]", 5),
    ("unknown-axis", "name: x\nexperiment: manifold_classification\ngrid: {kk: [5]}\n", [], "grid.kk", 3),
    ("aliasing-k", "name: x\nexperiment: manifold_classification\ngrid: {k: [100, 600]}\n", [], "grid.k", 3),
    ("seed-not-int", "name: x\nexperiment: manifold_classification\nseeds: [0, one]\n", [], "seeds[1]", 3),
    ("duplicate-seeds", "name: x\nexperiment: manifold_classification\nseeds: [1, 1]\n", [], "seeds", 3),
    ("sweep-name-escapes", "name: ../../x\nexperiment: manifold_classification\n", [], "name", 1),
    ("yaml-syntax", "name: x\nexperiment: [unclosed\n", [], "", 3),
    ("duplicate-key", "name: x\nname: y\nexperiment: manifold_classification\n", [], "name", 2),
    ("not-a-mapping", "- just\n- a list\n", [], "", None),
    ("negative-gpu", "name: x\nexperiment: manifold_classification\nresources: {gpu: -1}\n", [], "resources.gpu", 3),
    ("unknown-resource-key", "name: x\nexperiment: manifold_classification\nresources: {cpus: 1}\n", [], "resources.cpus", 3),
    ("too-many-trials", "name: x\nexperiment: manifold_classification\nexecution: {max_trials: 3}\ngrid: {k: [1, 2], L: [0, 1]}\n", [],
     "execution.max_trials", 3),
    ("grid-not-a-mapping", "name: x\nexperiment: manifold_classification\ngrid: 12\n", [], "grid", 3),
    ("grid-list-of-non-mappings", "name: x\nexperiment: manifold_classification\ngrid: [1, 2]\n", [], "grid[0]", 3),
    ("seeds-not-a-list", "name: x\nexperiment: manifold_classification\nseeds: 3\n", [], "seeds", 3),
    ("nan-learning-rate", "name: x\nexperiment: manifold_classification\nworkload: {learning_rate: .nan}\n", [], "workload.learning_rate", 3),
    ("bool-for-int", "name: x\nexperiment: manifold_classification\nworkload: {width: true}\n", [], "workload.width", 3),
    ("seed-as-axis", "name: x\nexperiment: manifold_classification\ngrid: {seed: [0, 1]}\n", [], "grid.seed", 3),
    ("axis-and-fixed-value", "name: x\nexperiment: manifold_classification\ngrid: {k: [5]}\nworkload: {k: 5}\n", [], "grid.k", 3),
    ("negative-L-fixed", "name: x\nexperiment: manifold_classification\nworkload: {L: -1}\n", [], "workload.L", 3),
    ("zero-concurrency", "name: x\nexperiment: manifold_classification\nexecution: {max_concurrent_trials: 0}\n", [],
     "execution.max_concurrent_trials", 3),
    ("zero-n-points", "name: x\nexperiment: manifold_classification\nworkload: {n_points: 0}\n", [], "workload.n_points", 3),
    ("negative-delta", "name: x\nexperiment: perturbation\ngrid: {delta: [0.0, -1.0]}\n", [], "grid.delta[1]", 3),
    ("pack-without-training", "name: x\nexperiment: perturbation\nexecution: {pack: 4}\n", [], "execution.pack", None),
    ("compile-without-training", "name: x\nexperiment: perturbation\nexecution: {compile: default}\n", [], "execution.compile", None),
    ("unknown-compile-mode", "name: x\nexperiment: manifold_classification\nexecution: {compile: fastest}\n", [], "execution.compile", 3),
    ("pack-zero", "name: x\nexperiment: manifold_classification\nexecution: {pack: 0}\n", [], "execution.pack", 3),
    ("python-object-tag", "name: x\nexperiment: !!python/object/apply:os.getcwd []\n", [], "", 2),
    # Values that once passed validation and failed after the store was written, or hung:
    ("seed-past-64-bits", "name: x\nexperiment: manifold_classification\nseeds: [1000000000000000000000000000000]\n", [], "seeds[0]", 3),
    ("negative-seed", "name: x\nexperiment: manifold_classification\nseeds: [-1]\n", [], "seeds[0]", 3),
    ("steps-past-64-bits", "name: x\nexperiment: manifold_classification\nworkload: {steps: 100000000000000000000}\n", [], "workload.steps", 3),
    ("axis-value-past-64-bits", "name: x\nexperiment: manifold_classification\ngrid: {L: [1, 100000000000000000000]}\n", [], "grid.L[1]", 3),
    ("cpu-below-rays-unit", "name: x\nexperiment: manifold_classification\nresources: {cpu: 0.00001}\n", [], "resources.cpu", 3),
    ("gpu-below-rays-unit", "name: x\nexperiment: manifold_classification\nresources: {gpu: 0.00001}\n", [], "resources.gpu", 3),
    ("negative-custom-resource", "name: x\nexperiment: manifold_classification\nresources: {custom: {big: -1}}\n", [], "resources.custom", 3),
    ("custom-resource-named-cpu", "name: x\nexperiment: manifold_classification\nresources: {custom: {CPU: 1}}\n", [], "resources.custom", 3),
    ("alias-inside-itself", "name: x\nexperiment: manifold_classification\ngrid: &a {k: *a}\n", [], "", 3),
    ("alias-list-inside-itself", "name: x\nexperiment: manifold_classification\nseeds: &a [*a]\n", [], "", 3),
    ("aliases-that-expand-to-billions", "name: x\nexperiment: manifold_classification\na: &a [1,1,1,1,1,1,1,1,1,1]\n"
     + "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n" for p, c in zip("abcdefgh", "bcdefghi")), [], "", None),
    ("range-too-long", "name: x\nexperiment: manifold_classification\ngrid: {L: {linspace: [0, 1, 100000000000]}}\n", [], "grid.L.linspace", 3),
    ("nested-too-deep", "name: x\nexperiment: manifold_classification\ndescription: " + "[" * 5000 + "]" * 5000 + "\n", [], "", None),
    ("override-unknown-key", "name: x\nexperiment: manifold_classification\n", ["workload.stepz=5"], "workload.stepz", None),
    ("override-bad-value", "name: x\nexperiment: manifold_classification\n", ["workload.depth=-1"], "workload.depth", None),
    ("override-not-key-value", "name: x\nexperiment: manifold_classification\n", ["workload.depth"], "workload.depth", None),
    ("override-into-scalar", "name: x\nexperiment: manifold_classification\n", ["name.inner=1"], "name", None),
]


@pytest.mark.parametrize(("text", "overrides", "key", "line"), [c[1:] for c in BAD_SPECS], ids=[c[0] for c in BAD_SPECS])
def test_a_bad_spec_is_one_error_naming_file_line_and_key(write_sweep, text, overrides, key, line):
    path = write_sweep(text)
    with pytest.raises(SpecError) as caught:
        load_spec(path, overrides)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert caught.value.key == key
    if key:
        assert f": {key}: " in message
    if line is not None:
        assert caught.value.line == line and f"{path}:{line}:" in message
    for override in overrides:
        assert f"--set {override}" in message


def test_yaml_is_safe_loaded_so_a_spec_cannot_run_code(write_sweep, tmp_path):
    witness = tmp_path / "ran"
    path = write_sweep(f"name: x\nexperiment: !!python/object/apply:pathlib.Path.touch [!!python/object/apply:pathlib.Path ['{witness}']]\n")
    with pytest.raises(SpecError, match="YAML"):
        load_spec(path)
    assert not witness.exists()


def test_a_misspelled_key_gets_the_closest_valid_one_suggested(write_sweep):
    with pytest.raises(SpecError, match=r"did you mean 'steps'"):
        load_spec(write_sweep(), ["workload.stpes=5"])


def test_a_missing_sweep_file_is_a_spec_error(tmp_path):
    with pytest.raises(SpecError, match="cannot read sweep file"):
        load_spec(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("axis", "expected"),
    [
        pytest.param({"linspace": [0, 5.001, 100]}, "numpy", id="the-authors-perturbation-norms"),
        pytest.param({"logspace": [-4, -2, 5]}, "numpy", id="learning-rates"),
        pytest.param({"linspace": [0, 20, 5]}, [0, 5, 10, 15, 20], id="whole-values-are-ints"),
    ],
)
def test_an_axis_written_as_a_range_expands_to_numpys_values(write_sweep, axis, expected):
    import json

    import numpy as np

    name = "delta" if "logspace" not in axis and expected == "numpy" else ("learning_rate" if "logspace" in axis else "L")
    experiment = "perturbation" if name == "delta" else "manifold_classification"
    spec = load_spec(write_sweep(f"name: r\nexperiment: {experiment}\ngrid: {{{name}: {json.dumps(axis)}}}\n"))
    kind, (start, stop, num) = next(iter(axis.items()))
    values = getattr(np, kind)(start, stop, num).tolist() if expected == "numpy" else expected
    assert spec.grid[name] == values and [type(v) for v in spec.grid[name]] == [type(v) for v in values]


@pytest.mark.parametrize(
    "axis", ["{linspace: [0, 1]}", "{linspace: [0, 1, 0]}", "{linspace: [0, .inf, 3]}", "{arange: [0, 1, 3]}", "{linspace: [0, 1, 2.5]}"]
)
def test_a_malformed_range_names_the_axis(write_sweep, axis):
    with pytest.raises(SpecError, match=r"grid\.delta"):
        load_spec(write_sweep(f"name: r\nexperiment: perturbation\ngrid: {{delta: {axis}}}\n"))


def test_an_error_quotes_a_huge_value_in_a_few_words_not_megabytes(write_sweep):
    huge = "x" * 500_000
    with pytest.raises(SpecError) as caught:
        load_spec(write_sweep(f"name: x\nexperiment: manifold_classification\ngrid: {{k: [5, {huge}]}}\n"))
    assert "grid.k[1]" in str(caught.value) and len(str(caught.value)) < 400
