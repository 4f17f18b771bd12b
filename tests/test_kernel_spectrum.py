"""The ICML kernel-spectrum experiment at toy size on the real digits: the kernel's eigenbasis, the
two noises, what a trial stores, the figure, and verify's claims computed by hand."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from conftest import stored_sweep, verdicts_of

from orchestrator.figures import draw_figures
from orchestrator.store import open_store
from tests.test_verify import kernel_spectrum
from workloads.images import binary_images
from workloads.kernel_spectrum.config import KernelSpectrumConfig
from workloads.kernel_spectrum.trial import index_bins, kernel_eigenbasis, target_noise

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_the_kernels_eigenvectors_are_orthonormal_and_sorted_by_decreasing_eigenvalue():
    images, _ = binary_images("digits", (3, 8), 120)
    basis = kernel_eigenbasis(images, 1.0)
    assert torch.allclose(basis.T @ basis, torch.eye(120, dtype=torch.float64), atol=1e-10)
    distances = torch.cdist(images.double(), images.double())
    sigma = distances[torch.triu_indices(120, 120, 1).unbind()].median()
    kernel = torch.exp(-(distances**2) / (2 * sigma**2))
    eigenvalues = torch.einsum("in,ij,jn->n", basis, kernel, basis)  # v_n^T K v_n
    assert (eigenvalues[:-1] >= eigenvalues[1:] - 1e-12).all() and eigenvalues[0] > 10 * eigenvalues[60]


def test_a_target_built_from_eigenvectors_n_projects_back_onto_exactly_those_n():
    images, _ = binary_images("digits", (3, 8), 80)
    basis = kernel_eigenbasis(images, 1.0)
    chosen = {3: 0.7, 17: -1.2, 60: 0.4}
    target = sum(weight * basis[:, n] for n, weight in chosen.items())
    coefficients = basis.T @ target
    assert {n for n in range(80) if abs(float(coefficients[n])) > 1e-9} == set(chosen)
    assert all(float(coefficients[n]) == pytest.approx(w) for n, w in chosen.items())


def test_high_frequency_noise_lives_in_the_high_indices_and_white_noise_everywhere():
    images, _ = binary_images("digits", (3, 8), 100)
    basis = kernel_eigenbasis(images, 1.0)
    high = basis.T @ target_noise(KernelSpectrumConfig(target_noise="high_frequency", n_points=100), basis)
    assert torch.allclose(high, torch.linspace(0, 1, 100, dtype=torch.float64) ** 2)  # (n / (N - 1))^2, exactly
    white = target_noise(KernelSpectrumConfig(target_noise="white", n_points=100, seed=4), basis)
    assert float(white.min()) >= -1 and float(white.max()) <= 1
    assert torch.equal(white, target_noise(KernelSpectrumConfig(target_noise="white", n_points=100, seed=4), basis))  # from the seed alone
    assert [len(b) for b in index_bins(100, 20)] == [5] * 20 and [len(b) for b in index_bins(357, 20)][:2] == [18, 18]


TOY = """\
name: toy_kernel
experiment: kernel_spectrum
grid: {target_noise: [white, high_frequency]}
seeds: [0]
workload: {n_points: 100, width: 16, depth: 3, steps: 60, learning_rate: 1.0e-3, eval_every_steps: 20, spectrum_bins: 5}
"""


def test_a_trial_stores_its_binned_spectrum_and_clean_loss_and_the_figure_comes_from_the_store(tmp_path, write_sweep):
    store, sweep = stored_sweep(tmp_path, TOY, write_sweep)
    spectra = pd.read_parquet(store / "kernel_spectra")
    assert len(spectra) == 2 * 4 * 5  # two trials, steps 0, 20, 40, 60, five bins
    assert sorted(spectra.drop_duplicates("bin")[["first_index", "last_index"]].values.tolist()) == [[0, 19], [20, 39], [40, 59], [60, 79], [80, 99]]
    assert ((spectra["magnitude"] / spectra["target_magnitude"] - spectra["normalized_magnitude"]).abs() < 1e-9).all()
    clean = pd.read_parquet(store / "clean_curves")
    own = pd.read_parquet(store / "kernel_spectrum").set_index("trial_id")
    best = clean.groupby("trial_id")["clean_loss"].min()
    assert (best == own["best_clean_loss"].reindex(best.index)).all()
    [png, _] = draw_figures(store, sweep)
    assert png.name == "kernel_spectrum_toy_kernel.png" and png.read_bytes()[:8] == PNG_MAGIC


def test_the_kernel_claims_by_hand(tmp_path):
    store = open_store(tmp_path / "store")
    kernel_spectrum(store)
    verdicts = verdicts_of(store, "C9a", "C9b")
    # bin b's seed mean rises in a line to 1 at step 200 (b + 1), 0.01 above it: the area above it is the
    # triangle's 100 (b + 1) less the offset's 0.01 over the steps before it meets 1 (1.5 at b = 0, ...).
    white = verdicts[("C9a", "target_noise: white")]
    assert white.series == pytest.approx({"0": 98.5, "1": 196.5, "2": 294.5, "3": 392.5, "4": 490.5}) and white.value == pytest.approx(1.0)
    assert verdicts[("C9b", None)].value == pytest.approx(0.2 / 0.3) and verdicts[("C9b", None)].outcome == "pass"


def test_a_sweep_over_kernel_widths_draws_a_figure_per_width_never_a_mean_over_kernels(tmp_path, write_sweep):
    widths = TOY.replace("grid: {target_noise: [white, high_frequency]}", "grid: {target_noise: [white], kernel_width: [0.5, 1.0]}")
    store, sweep = stored_sweep(tmp_path, widths, write_sweep)
    pngs = sorted(p.name for p in draw_figures(store, sweep) if p.suffix == ".png" and p.name.startswith("kernel"))
    assert pngs == ["kernel_spectrum_toy_kernel_width0.5.png", "kernel_spectrum_toy_kernel_width1.png"]
    verdicts = verdicts_of(store, "C9a")
    assert sorted(group for _, group in verdicts) == ["kernel_width: 0.5; target_noise: white", "kernel_width: 1; target_noise: white"]
