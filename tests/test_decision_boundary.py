"""Figure 2 at toy size: two real nets read over the box, the figure drawn from a real store, and
`verify`'s count of where their classes differ."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from conftest import stored_sweep, verdicts_of

from orchestrator.figures import draw_figures
from orchestrator.results import StoredSweep
from workloads import REGISTRY
from workloads.signals import box_grid

CPU = torch.device("cpu")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_box_grid_covers_the_box_row_by_row():
    grid = box_grid(1.6, 5)
    assert grid.shape == (25, 2)
    assert grid[0].tolist() == pytest.approx([-1.6, -1.6]) and grid[-1].tolist() == pytest.approx([1.6, 1.6])
    assert grid[1].tolist() == pytest.approx([-0.8, -1.6])  # x runs fastest


FIGURE_2 = """\
name: fig2
experiment: decision_boundary
seeds: [0, 1]
workload: {k: 3, L: 2, width: 16, depth: 3, n_points: 128, steps: 300, learning_rate: 1.0e-2, eval_every_steps: 100, box_points: 24}
"""


def test_figure_2_reads_two_nets_over_the_box_and_the_claims_count_where_their_classes_differ(tmp_path, write_sweep):
    store, sweep = stored_sweep(tmp_path, FIGURE_2, write_sweep)
    maps = StoredSweep(store, sweep).table("decision_maps", "seed")
    assert maps.groupby(["seed", "region"]).size().to_dict() == {(0, "box"): 24**2, (0, "manifold"): 128, (1, "box"): 24**2, (1, "manifold"): 128}
    manifold = maps[maps["region"] == "manifold"]
    by_seed = manifold.pivot_table(index=["x", "y"], columns="seed", values="label")
    assert (by_seed[0] == by_seed[1]).all() and by_seed[0].nunique() == 2  # two nets, one task: the same points and labels
    labels = manifold.groupby("seed").apply(lambda rows: ((rows["logit"] > 0) == (rows["label"] == 1)).mean(), include_groups=False)
    accuracy = pd.read_parquet(store / "decision_boundary").set_index("seed")["accuracy"]
    assert labels.to_dict() == pytest.approx(accuracy.to_dict())  # the stored logits are the trained nets'

    verdicts = verdicts_of(store, "C5a", "C5b")
    for (claim, _), region in ((("C5a", None), "manifold"), (("C5b", None), "box")):
        rows = maps[maps["region"] == region].pivot_table(index=["x", "y"], columns="seed", values="logit")
        assert verdicts[(claim, None)].value == pytest.approx(float(((rows[0] > 0) != (rows[1] > 0)).mean()))
        assert verdicts[(claim, None)].outcome == "unreplicated" and verdicts[(claim, None)].series.keys() == {"0-1"}  # one pair
    [png, pdf] = draw_figures(store, sweep)
    assert png.name == "figure2_fig2.png" and png.read_bytes()[:8] == PNG_MAGIC and pdf.stat().st_size > 1000


def test_one_seed_is_no_pair_of_nets_so_figure_2s_claims_have_no_data(tmp_path, write_sweep):
    store, _ = stored_sweep(tmp_path, FIGURE_2.replace("seeds: [0, 1]", "seeds: [0]"), write_sweep)
    assert {v.outcome for v in verdicts_of(store, "C5a", "C5b").values()} == {"no data"}


def test_the_two_nets_differ_in_their_initial_weights_alone():
    experiment = REGISTRY["decision_boundary"]
    small = {"k": 3, "L": 2, "width": 8, "depth": 2, "n_points": 64}
    one, two, other_data = (experiment.problem(experiment.parse({**small, **extra}), CPU) for extra in ({"seed": 0}, {"seed": 1}, {"data_seed": 1}))
    assert not torch.equal(one.model[0].weight, two.model[0].weight)
    assert torch.equal(one.model[0].weight, other_data.model[0].weight)
    logits = torch.linspace(-1, 1, 64)
    assert float(one.loss_of_output(logits)) == float(two.loss_of_output(logits)) != float(other_data.loss_of_output(logits))


def test_a_figure_2_sweep_over_a_grid_pairs_only_nets_that_differ_in_their_seed(tmp_path, write_sweep):
    text = FIGURE_2.replace("seeds: [0, 1]", "grid: {width: [8, 16]}\nseeds: [0, 1]").replace("width: 16, ", "")
    store, sweep = stored_sweep(tmp_path, text, write_sweep)
    maps = StoredSweep(store, sweep).table("decision_maps", "seed", "width")
    by_pair = {}
    for width, rows in maps[maps["region"] == "box"].groupby("width"):
        logits = rows.pivot_table(index=["x", "y"], columns="seed", values="logit")
        by_pair[width] = float(((logits[0] > 0) != (logits[1] > 0)).mean())
    # One verdict per width (a grid axis C5 does not use), each on its one pair of seeds, never across widths.
    verdicts = verdicts_of(store, "C5b")
    assert sorted(verdicts) == [("C5b", "width: 16"), ("C5b", "width: 8")]
    for width, expected in by_pair.items():
        c5b = verdicts[("C5b", f"width: {width}")]
        assert c5b.axes == {"width": width} and c5b.series == {"0-1": pytest.approx(expected)} and c5b.value == pytest.approx(expected)
    png, *_ = draw_figures(store, sweep)  # then its PDF, and the verdicts per width
    assert png.read_bytes()[:8] == PNG_MAGIC


def test_figure_2_trains_until_its_nets_fit_and_reads_them_where_they_stopped(tmp_path, write_sweep):
    """fit_accuracy ends each net's training at the first eval at which it fits that share of its
    points (steps is then the most): its last curve row is that eval, and its maps are read there."""
    until_fit = FIGURE_2.replace("steps: 300", "steps: 3000").replace("box_points: 24}", "box_points: 8, fit_accuracy: 0.9}").replace(
        "eval_every_steps: 100", "eval_every_steps: 20")
    store, sweep = stored_sweep(tmp_path, until_fit, write_sweep)
    curves = StoredSweep(store, sweep).table("curves", "seed")
    last = curves.sort_values("step").groupby("seed").tail(1).set_index("seed")
    assert (last["accuracy"] >= 0.9).all() and (last["step"] < 3000).all()  # stopped when fitted, well before the limit
    assert ((curves.merge(last[["step"]], left_on="seed", right_index=True, suffixes=("", "_last"))
             .query("step < step_last")["accuracy"]) < 0.9).all()  # and not before
    maps = StoredSweep(store, sweep).table("decision_maps", "seed")
    assert maps.groupby("seed").size().to_dict() == {0: 8**2 + 128, 1: 8**2 + 128}
    accuracy = pd.read_parquet(store / "decision_boundary").set_index("seed")["accuracy"]
    assert (accuracy >= 0.9).all()
