"""Inputs and targets on the latent grid: z_i = i/N, sums of sinusoids, the manifold gamma_L, and
the grid of a box around it.

Every function here is pure: tensors in, tensors out, randomness only through an explicit seed.
"""

from __future__ import annotations

import math

import torch

from workloads.randomness import Stream, generator


def latent_grid(n_points: int) -> torch.Tensor:
    """The N latent points z_i = i/N, i = 0..N-1, shape (N,), float32.

    The grid is uniform on [0, 1) (the endpoint 1 is left out), so a DFT over it is exact for
    integer frequencies: sin(2 pi k z) completes exactly k periods.
    """
    return torch.arange(n_points, dtype=torch.float64).div(n_points).float()


def draw_phases(seed: int, count: int) -> torch.Tensor:
    """`count` phases phi ~ U(0, 2 pi), drawn from the phases' stream of `seed`, shape (count,).

    A private generator keeps the draw independent of torch's global RNG, so the phases of a
    trial do not depend on what else ran in the same worker process, nor on its net's weights.
    """
    return torch.rand(count, generator=generator(seed, Stream.PHASES), dtype=torch.float64).mul(2 * math.pi).float()


def sinusoid_sum(
    z: torch.Tensor,
    frequencies: torch.Tensor,
    amplitudes: torch.Tensor,
    phases: torch.Tensor,
) -> torch.Tensor:
    """lambda(z) = sum_i A_i sin(2 pi k_i z + phi_i), evaluated at every z, shape (N,)."""
    angles = 2 * math.pi * z[:, None].double() * frequencies[None, :].double() + phases[None, :].double()
    return (amplitudes[None, :].double() * torch.sin(angles)).sum(dim=1).float()  # (N, n_freq) -> (N,)


def gamma(z: torch.Tensor, L: int) -> torch.Tensor:
    """The manifold embedding gamma_L(z) = R_L(z) (cos 2 pi z, sin 2 pi z), shape (N, 2).

    R_L(z) = 1 + 0.5 sin(2 pi L z): L = 0 is the unit circle, larger L gives a flower with L
    petals, a curve that wiggles more in input space for the same latent frequency.
    """
    z64 = z.double()
    radius = 1 + 0.5 * torch.sin(2 * math.pi * L * z64)
    return torch.stack((radius * torch.cos(2 * math.pi * z64), radius * torch.sin(2 * math.pi * z64)), dim=1).float()


def box_grid(half_width: float, points: int) -> torch.Tensor:
    """The points x, y in linspace(-b, b, points) of the box [-b, b]^2, row by row: (points^2, 2)."""
    axis = torch.linspace(-half_width, half_width, points, dtype=torch.float64)
    ys, xs = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack((xs.reshape(-1), ys.reshape(-1)), dim=1).float()
