"""Every random draw of a trial comes from a stream of its own, derived from the trial's seed and
the draw's purpose.

Seeding a fresh generator with the bare seed for each purpose would hand every purpose the same
numbers: with torch's CPU generator, the phases of the target, the first layer's initial weights
and a perturbation's first direction would all be one Mersenne Twister sequence, rescaled. Hashing
(purpose, seed) into the generator's seed gives each purpose an unrelated sequence, while a trial
stays reproducible from its config alone, on any worker.
"""

from __future__ import annotations

import enum
import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class Stream(enum.StrEnum):
    """What a draw is for: each purpose has its own stream of random numbers per seed."""

    PHASES = "phases"
    """the phases phi_i of a target's sinusoids (and of Experiment 3's labels)"""
    WEIGHTS = "weights"
    """a trained net's initial weights"""
    DIRECTIONS = "directions"
    """Experiment 4's perturbation directions"""
    NOISE_TARGETS = "noise_targets"
    """Experiment 5's white-noise targets"""
    AUTOENCODER_WEIGHTS = "autoencoder_weights"
    """Experiment 5's autoencoder's initial weights"""
    AUTOENCODER_NOISE = "autoencoder_noise"
    """the noise Experiment 5's denoising autoencoder is trained on"""
    DATA_SUBSET = "data_subset"
    """which images of a real data set a trial uses"""
    FLAT_INPUTS = "flat_inputs"
    """Experiment 5's points on the flat subspace"""
    ENCODING = "encoding"
    """the random Fourier features' projection B"""


def stream_seed(seed: int, purpose: Stream) -> int:
    """The 63-bit generator seed of `purpose`'s stream for a trial's `seed` (torch-free)."""
    digest = hashlib.sha256(f"sbsweep/{purpose.value}/{seed}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def generator(seed: int, purpose: Stream, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator on `device` for `purpose`'s stream of a trial's `seed`."""
    import torch

    return torch.Generator(device=device).manual_seed(stream_seed(seed, purpose))
