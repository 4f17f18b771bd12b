"""The single-sided, amplitude-scaled DFT used to read a function's spectrum on the latent grid."""

from __future__ import annotations

import torch


def single_sided_magnitude(values: torch.Tensor) -> torch.Tensor:
    """|F(k)| = (2/N) |rfft(values)[k]| for k = 0..N//2, along the last dimension.

    Scaled so that a pure sinusoid A sin(2 pi k z + phi) sampled on the N-point latent grid reads
    A at its integer frequency k (0 < k < N/2) and ~0 elsewhere. Leading dimensions are batch
    dimensions: (..., N) -> (..., N//2 + 1). The DC and Nyquist bins read twice their amplitude
    under this scaling; no experiment reads them.
    """
    n_points = values.shape[-1]
    return torch.fft.rfft(values.double(), dim=-1).abs().mul(2.0 / n_points).float()


def normalized_magnitude(values: torch.Tensor, frequencies: torch.Tensor, amplitudes: torch.Tensor) -> torch.Tensor:
    """|F(k_i)| / A_i: how much of each target frequency a function on the grid carries.

    `values` is (..., N); `frequencies` and `amplitudes` are (n_freq,); returns (..., n_freq).
    """
    magnitude = single_sided_magnitude(values)
    return magnitude[..., frequencies.long()] / amplitudes.to(magnitude.dtype)


def magnitude_at(values: torch.Tensor, frequencies: list[int]) -> torch.Tensor:
    """|F(k)| of `values` (..., N) at each of `frequencies`: (..., n_freq), on the values' device."""
    return single_sided_magnitude(values)[..., frequencies]


def spectrum_rows(step: int, magnitudes: list[float], frequencies: list[int], amplitudes: list[float]) -> list[dict[str, float | int]]:
    """One spectra-table row per target frequency: k, A, |F(k)| and |F(k)|/A, from the host values
    of magnitude_at (read back with the rest of an eval's readings: training.Reading)."""
    return [
        {"step": step, "k": int(k), "amplitude": float(a), "magnitude": m, "normalized_magnitude": m / float(a)}
        for k, a, m in zip(frequencies, amplitudes, magnitudes)
    ]


def single_sided_spectrum(values: torch.Tensor) -> torch.Tensor:
    """The complex spectrum (2/N) rfft(values) along the last dimension: (..., N) -> (..., N//2 + 1).

    Its magnitude is single_sided_magnitude; being linear, the spectrum of a mean of functions is
    the mean of their spectra.
    """
    return torch.fft.rfft(values.double(), dim=-1).mul(2.0 / values.shape[-1])


def radial_spectrum(values: torch.Tensor) -> torch.Tensor:
    """zeta(r) of a map sampled on a P x P grid (the paper's eq. 31): the magnitude of its 2-D DFT,
    integrated over the angle at each radial frequency r = 0, 1, ..., P // 2 (cycles per side of
    the grid); returns (P // 2 + 1,).

    The map's mean is taken out first, so zeta(0) is 0 and the spectrum is of its variations; the
    DFT is divided by P^2, so a plane wave of amplitude A along an axis puts A in its bin.
    """
    side = values.shape[-1]
    magnitude = torch.fft.fft2(values.double() - values.double().mean()).abs() / side**2
    frequency = torch.fft.fftfreq(side, d=1.0 / side, dtype=torch.float64)  # cycles per side
    radius = torch.sqrt(frequency[:, None] ** 2 + frequency[None, :] ** 2).round().long()
    inside = radius <= side // 2
    return torch.zeros(side // 2 + 1, dtype=torch.float64).index_add_(0, radius[inside], magnitude[inside]).float()
