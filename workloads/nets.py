"""The network every experiment trains: a fully connected ReLU MLP with one linear output."""

from __future__ import annotations

import torch
from torch import nn


def build_mlp(in_features: int, width: int, depth: int, seed: int) -> nn.Sequential:
    """A ReLU MLP with `depth` hidden layers of `width` units and one linear output unit.

    The paper's net is depth 6, width 256. Weights use PyTorch's default initialisation, drawn
    from `seed` inside a forked RNG so building a net never disturbs the caller's random state.
    """
    layers: list[nn.Module] = []
    fan_in = in_features
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for _ in range(depth):
            layers += [nn.Linear(fan_in, width), nn.ReLU()]
            fan_in = width
        layers.append(nn.Linear(fan_in, 1))
        return nn.Sequential(*layers)


def spectral_norm(weight: torch.Tensor, iterations: int = 10, seed: int = 0) -> float:
    """The largest singular value of `weight` by power iteration (`iterations` rounds).

    The start vector comes from `seed` alone, so the estimate is reproducible; 10 rounds (the
    paper's) is an estimate from below that tightens with more rounds.
    """
    matrix = weight.detach().double()
    generator = torch.Generator().manual_seed(seed)
    vector = torch.randn(matrix.shape[1], generator=generator, dtype=torch.float64).to(matrix.device)
    vector = vector / vector.norm()
    for _ in range(iterations):
        vector = matrix.T @ (matrix @ vector)
        vector = vector / vector.norm()
    return float((matrix @ vector).norm())


def layer_spectral_norms(model: nn.Module, iterations: int = 10) -> list[float]:
    """The spectral norm of every Linear layer's weight matrix, input layer first."""
    return [spectral_norm(m.weight, iterations) for m in model.modules() if isinstance(m, nn.Linear)]
