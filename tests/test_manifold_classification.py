"""Experiment 3's workload at tiny sizes: the real code path, seconds not minutes."""

from __future__ import annotations

import dataclasses

import torch

from workloads import REGISTRY
from workloads.manifold_classification.config import ManifoldClassificationConfig

run = REGISTRY["manifold_classification"].compute

TINY = ManifoldClassificationConfig(k=3, L=0, n_points=128, width=32, depth=3, steps=300, eval_every_steps=100)
CPU = torch.device("cpu")


def test_a_trial_reports_final_accuracy_loss_baseline_and_its_learning_curve():
    result = run(TINY, CPU)
    assert set(result.summary) == {"accuracy", "loss", "baseline_accuracy", "parameters"}  # its steps are its config's
    width, hidden_layers = TINY.width, TINY.depth - 2  # Linear(2, w), (depth - 2) x Linear(w, w), Linear(w, 1)
    assert result.summary["parameters"] == (2 * width + width) + hidden_layers * (width * width + width) + (width + 1)
    assert 0.0 <= result.summary["accuracy"] <= 1.0
    assert result.tables["curves"][-1]["step"] == 300  # it trained every step it was asked to
    curve = result.tables["curves"]
    assert [row["step"] for row in curve] == [0, 100, 200, 300]
    assert curve[-1]["accuracy"] == result.summary["accuracy"]
    assert curve[-1]["loss"] < curve[0]["loss"]


def test_the_majority_baseline_reflects_the_one_to_two_class_split_of_threshold_half():
    # sin > 0.5 holds on a third of each period, so the majority class is about 2/3.
    result = run(dataclasses.replace(TINY, k=10, n_points=600, steps=1), CPU)
    assert abs(result.summary["baseline_accuracy"] - 2 / 3) < 0.02


def test_a_trial_is_reproducible_from_its_config_and_seed_alone():
    torch.manual_seed(1234)  # whatever ran before in the worker must not matter
    first = run(TINY, CPU)
    torch.manual_seed(4321)
    second = run(TINY, CPU)
    assert first == second
    assert run(dataclasses.replace(TINY, seed=1), CPU).tables["curves"] != first.tables["curves"]


def test_a_low_frequency_is_fit_better_than_a_high_one_in_the_same_budget():
    low = run(dataclasses.replace(TINY, k=2), CPU).summary
    high = run(dataclasses.replace(TINY, k=30), CPU).summary
    assert low["accuracy"] > high["accuracy"] + 0.1


def test_a_trial_resumed_from_a_checkpoint_ends_exactly_where_an_uninterrupted_one_does():
    from workloads.training import Checkpointing

    saved: list[dict] = []
    uninterrupted = run(TINY, CPU, Checkpointing(every_steps=70, save=saved.append))
    assert [state["step"] for state in saved] == [70, 140, 210, 280]
    resumed = run(TINY, CPU, Checkpointing(every_steps=70, save=lambda state: None, saved=saved[1]))
    assert resumed.resumed_from_step == 140 and uninterrupted.resumed_from_step == 0
    assert resumed.summary == uninterrupted.summary
    assert resumed.tables == uninterrupted.tables
