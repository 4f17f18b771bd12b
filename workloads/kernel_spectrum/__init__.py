"""The ICML paper's kernel-spectrum experiment (the slides' projection on a Gaussian kernel's eigenfunctions).

A net fits the digits' binary labels (3 -> -1, 8 -> +1) plus noise, on every image. The
eigenvectors of a Gaussian RBF kernel on the images, sorted by decreasing eigenvalue, stand in for
the Fourier basis: index n is a "frequency". Every eval step the store gets the projection of the
net's function on them, binned over n, and the loss against the clean labels. The paper uses MNIST;
offline, scikit-learn's bundled 8x8 digits stand in. The claims (C9a, C9b): the spectrum fills from
low n to high n, and with noise of high n only the best clean loss is lower than with white noise.
"""

from __future__ import annotations

import pyarrow as pa

from results_schema import CURVES, Column, Table
from workloads.experiment import Experiment
from workloads.images import binary_images_constraints, needs_fetch, pixels
from workloads.kernel_spectrum.config import KernelSpectrumConfig, resolve, unused_fields

KERNEL_SPECTRA = Table(
    name="kernel_spectra",
    doc="One row per (trial, eval step, bin of n) of the kernel-spectrum experiment: the net's function in the kernel's eigenbasis.",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done"),
        Column("bin", pa.int64(), "the bin, 0 = the eigenvectors of the largest eigenvalues"),
        Column("first_index", pa.int64(), "the bin's first eigenvector index n (0 = the largest eigenvalue)"),
        Column("last_index", pa.int64(), "the bin's last index n"),
        Column("magnitude", pa.float64(), "Euclidean norm of the net's coefficients on the bin's eigenvectors"),
        Column("target_magnitude", pa.float64(), "the same of the (noisy) training target"),
        Column("normalized_magnitude", pa.float64(), "magnitude / target_magnitude: 1 when the bin is fitted in size"),
    ),
)

CLEAN_CURVES = Table(
    name="clean_curves",
    doc="One row per (trial, eval step) of the kernel-spectrum experiment: the loss against the clean labels.",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("step", pa.int64(), "optimizer steps done"),
        Column("clean_loss", pa.float64(), "MSE of the net against the clean +-1 labels (the curves table's loss is against the noisy target)"),
    ),
)


def constraints(config: KernelSpectrumConfig) -> dict[str, str]:
    """The images' checks, and no more bins than eigenvectors."""
    if config.spectrum_bins > config.n_points:
        return {"spectrum_bins": f"{config.spectrum_bins} bins of n_points={config.n_points} eigenvectors"}
    return binary_images_constraints(config)


EXPERIMENT = Experiment(
    name="kernel_spectrum",
    summary="ICML real data: digits' or MNIST's labels plus white or high-n noise, the net's spectrum in a Gaussian kernel's eigenbasis",
    config=KernelSpectrumConfig,
    unused=unused_fields,
    columns=(Column("best_clean_loss", pa.float64(), "the lowest loss against the clean labels over the eval steps"),),
    tables=(CURVES, KERNEL_SPECTRA, CLEAN_CURVES),
    constraints=constraints,
    input_dim=pixels,
    resolve=resolve,
    data=needs_fetch,
    figures=("the ICML slides' kernel-eigenbasis spectra",),
)
