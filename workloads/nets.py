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
