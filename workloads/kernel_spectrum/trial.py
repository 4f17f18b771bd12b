"""What one trial of the kernel-spectrum experiment computes: a net fits real images' labels plus
noise, and its function is read in the eigenbasis of a Gaussian kernel on the images."""

from __future__ import annotations

import torch

from workloads.config import training_schedule
from workloads.images import binary_images
from workloads.kernel_spectrum.config import KernelSpectrumConfig
from workloads.nets import build_net
from workloads.randomness import Stream, generator
from workloads.training import NetView, Problem, Reading


def kernel_eigenbasis(images: torch.Tensor, width: float, unit: str = "median_distance") -> torch.Tensor:
    """The eigenvectors of the Gaussian RBF kernel K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2)) on
    the images, sigma = `width` median distances between two images (or `width` itself, for the
    unit 'pixels'), as the columns of an orthonormal (N, N) float64 matrix sorted by decreasing
    eigenvalue: column n is 'frequency' n."""
    points = images.double()
    distances = torch.cdist(points, points)
    upper = torch.triu_indices(len(points), len(points), offset=1)
    sigma = width if unit == "pixels" else width * distances[upper[0], upper[1]].median()
    _, eigenvectors = torch.linalg.eigh(torch.exp(-(distances**2) / (2 * sigma**2)))  # ascending eigenvalues
    return eigenvectors.flip(1)


def index_bins(count: int, bins: int) -> list[torch.Tensor]:
    """Indices 0..count-1 in `bins` runs of consecutive indices, as equal as they come."""
    return list(torch.arange(count).tensor_split(min(bins, count)))


def target_noise(config: KernelSpectrumConfig, basis: torch.Tensor) -> torch.Tensor:
    """The noise added to the labels, (N,) float64: white, U(-1, 1) per image from the trial's
    noise stream; or high-frequency, the eigenvectors weighted by (n / (N - 1))^noise_exponent."""
    count = basis.shape[0]
    if config.target_noise == "white":
        uniform = torch.rand(count, generator=generator(config.seed, Stream.NOISE_TARGETS), dtype=torch.float64)
        return config.noise_amplitude * (2 * uniform - 1)
    weights = torch.linspace(0, 1, count, dtype=torch.float64) ** config.noise_exponent
    return config.noise_amplitude * (basis @ weights)


def binned_magnitude(coefficients: torch.Tensor, bins: list[torch.Tensor]) -> torch.Tensor:
    """The Euclidean norm of the coefficients in each bin, (bins,)."""
    return torch.stack([coefficients[b].norm() for b in bins])


def problem(config: KernelSpectrumConfig, device: torch.device) -> Problem:
    """One run as a training problem: MSE on the noisy labels of every image; at every eval the
    output's spectrum in the kernel's eigenbasis (binned over n, against the target's) and the loss
    against the clean labels."""
    images, labels = binary_images(config.dataset, config.classes, config.n_points)
    basis = kernel_eigenbasis(images, config.kernel_width, config.kernel_width_unit)
    target = labels.double() + target_noise(config, basis)
    bins = index_bins(len(images), config.spectrum_bins)
    target_magnitude = binned_magnitude(basis.T @ target, bins).tolist()
    basis_on, labels_on, target_on = basis.to(device), labels.to(device), target.float().to(device)
    bins_on = [b.to(device) for b in bins]

    def evaluate(step: int, output: torch.Tensor, net: NetView) -> Reading:
        def rows(host: dict) -> dict:
            spectra = [
                {"step": step, "bin": i, "first_index": int(b[0]), "last_index": int(b[-1]), "magnitude": m,
                 "target_magnitude": t, "normalized_magnitude": m / t}
                for i, (b, m, t) in enumerate(zip(bins, host["magnitude"], target_magnitude))
            ]
            return {"accuracy": host["accuracy"], "kernel_spectra": spectra, "clean_curves": [{"step": step, "clean_loss": host["clean_loss"]}]}

        return Reading({
            "magnitude": binned_magnitude(basis_on.T @ output.double(), bins_on), "clean_loss": ((output - labels_on) ** 2).mean(),
            "accuracy": (torch.sign(output) == labels_on).float().mean(),
        }, rows)

    return Problem(
        model=build_net(images.shape[1], config).to(device),
        inputs=images.to(device),
        target=target_on,
        evaluate=evaluate,
        **training_schedule(config),
        tables=("kernel_spectra", "clean_curves"),
        summarize=lambda rows: {"best_clean_loss": min(r["clean_curves"][0]["clean_loss"] for r in rows)},
    )
