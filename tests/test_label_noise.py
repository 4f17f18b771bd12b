"""The ICML label-noise experiment at toy size on the real digits: the split, the radial noise,
what a trial stores, the figure, and verify's two claims on stores built to show and to break them."""

from __future__ import annotations

import math

import pytest
import torch
from conftest import stored_sweep, verdicts_of

from orchestrator.figures import draw_figures
from orchestrator.store import open_store
from tests.test_verify import label_noise
from workloads.digits import DIGITS_PER_CLASS
from workloads.images import binary_images
from workloads.label_noise.config import LabelNoiseConfig
from workloads.label_noise.trial import radial_noise, split
from workloads.spectrum import single_sided_magnitude

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_digits_have_the_class_counts_the_configs_check_against():
    from sklearn.datasets import load_digits

    assert tuple(int((load_digits().target == c).sum()) for c in range(10)) == DIGITS_PER_CLASS
    images, labels = binary_images("digits", (3, 8), 357)
    assert images.shape == (357, 64) and set(labels.tolist()) == {-1.0, 1.0}
    assert float(images.min()) >= 0 and float(images.max()) <= 1


def test_the_split_never_lets_a_validation_image_into_training():
    train, _, held_out, _ = split(LabelNoiseConfig(validation_split=0.8))
    assert (len(train), len(held_out)) == (285, 72)  # int(0.8 * 357) train, in the data set's order
    trained = {tuple(row.tolist()) for row in train}
    assert not any(tuple(row.tolist()) in trained for row in held_out)


def test_the_radial_noise_has_the_frequency_and_amplitude_asked_for():
    # Along a ray the noise is a sinusoid of the norm: k periods per unit of ||x||, amplitude beta.
    n_points, span = 400, 10.0
    ray = torch.zeros(n_points, 64)
    ray[:, 5] = torch.arange(n_points, dtype=torch.float64).div(n_points).mul(span).float()
    for k, beta in ((0.6, 0.5), (1.2, 1.0), (6.0, 0.25)):
        magnitude = single_sided_magnitude(radial_noise(ray, k, beta))
        assert int(magnitude.argmax()) == round(k * span)
        assert float(magnitude.max()) == pytest.approx(beta, rel=1e-3)
    images, _ = binary_images("digits", (3, 8), 357)
    noise = radial_noise(images, 0.6, 0.5)
    assert torch.allclose(noise, 0.5 * torch.sin(2 * math.pi * 0.6 * images.double().norm(dim=1)).float())
    assert float(noise.abs().max()) <= 0.5


TOY = """\
name: toy_noise
experiment: label_noise
grid: {noise_frequency: [0.6, 6.0], noise_amplitude: [0.0, 1.0]}
seeds: [0]
workload: {width: 16, depth: 3, steps: 60, learning_rate: 1.0e-3, eval_every_steps: 20}
"""


def test_a_trial_trains_on_noisy_labels_and_reads_clean_held_out_ones_and_the_figure_comes_from_the_store(tmp_path, write_sweep):
    import pandas as pd

    store, sweep = stored_sweep(tmp_path, TOY, write_sweep)
    curves = pd.read_parquet(store / "validation_curves")
    own = pd.read_parquet(store / "label_noise")
    # beta = 0 at k = 0.6 and at k = 6 is one trial: without noise k changes nothing, so it is null and not in the id.
    assert len(own) == 3 and len(curves) == 3 * 4  # steps 0, 20, 40, 60
    assert own.loc[own["noise_amplitude"] == 0, "noise_frequency"].isna().all() and own["noise_frequency"].notna().sum() == 2
    best = curves.groupby("trial_id")["validation_loss"].min()
    assert (own.set_index("trial_id")["best_validation_loss"] == best.reindex(own["trial_id"]).to_numpy()).all()
    # Without noise the labels trained on are the clean ones: the training loss is the clean training loss.
    clean = own.loc[own["noise_amplitude"] == 0, "trial_id"]
    joined = curves.merge(pd.read_parquet(store / "curves"), on=["trial_id", "step"])
    quiet = joined[joined["trial_id"].isin(clean)]
    assert (quiet["loss"] - quiet["clean_training_loss"]).abs().max() < 1e-5
    noisy = joined[~joined["trial_id"].isin(clean)]
    assert (noisy["loss"] - noisy["clean_training_loss"]).abs().max() > 0.01
    [png, _] = draw_figures(store, sweep)
    assert png.name == "label_noise_toy_noise.png" and png.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(("build", "expected"), [
    ({}, {"C8a": "pass", "C8b": "pass"}),
    ({"low_hurts": False}, {"C8a": "fail", "C8b": "fail"}),  # low-frequency noise costs nothing: no order, no rise to compare with
    ({"high_hurts": True}, {"C8a": "pass", "C8b": "fail"}),
])
def test_the_label_noise_claims_hold_on_a_store_built_to_show_them_and_fail_on_one_built_to_break_them(tmp_path, build, expected):
    store = open_store(tmp_path / "store")
    label_noise(store, **build)
    verdicts = verdicts_of(store, "C8a", "C8b")
    assert {claim: v.outcome for (claim, _), v in verdicts.items()} == expected
    if not build:  # by hand: the best losses 0.102, 0.302, 0.502 (seeds 0.002 apart) rise with beta; (0.05 * 1) / (0.4 * 1)
        assert verdicts[("C8a", None)].value == pytest.approx(1.0)
        assert verdicts[("C8a", None)].series == {"0": pytest.approx(0.102), "0.5": pytest.approx(0.302), "1": pytest.approx(0.502)}
        assert verdicts[("C8b", None)].value == pytest.approx(0.125)
