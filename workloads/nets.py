"""The network every experiment trains: a fully connected MLP with one linear output (the paper's
ReLU net by default; Fourier-feature inputs and tanh or sine activations as options)."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.func import functional_call, vmap

from workloads.randomness import Stream, generator, stream_seed


class FourierFeatures(nn.Module):
    """v -> [cos(2 pi B v), sin(2 pi B v)]: random Fourier features (Tancik et al., 2020). B is a
    parameter that does not train (requires_grad False), so packing stacks it with the weights and
    count_parameters leaves it out."""

    def __init__(self, projection: torch.Tensor) -> None:
        super().__init__()
        self.projection = nn.Parameter(projection, requires_grad=False)  # (features, inputs)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """(..., inputs) -> (..., 2 features)."""
        angles = 2 * math.pi * inputs @ self.projection.T
        return torch.cat((torch.cos(angles), torch.sin(angles)), dim=-1)


class Sine(nn.Module):
    """sin(omega x): SIREN's activation (Sitzmann et al., 2020)."""

    def __init__(self, omega: float) -> None:
        super().__init__()
        self.omega = omega

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """Elementwise sin(omega x)."""
        return torch.sin(self.omega * inputs)


def build_mlp(
    in_features: int, width: int, depth: int, seed: int, *, activation: str = "relu", sine_omega: float = 30.0,
    encoding: str = "none", fourier_features: int = 256, fourier_scale: float = 10.0,
) -> nn.Sequential:
    """A MLP of `depth` Linear layers: depth - 1 hidden layers of `width` units, then one linear
    output unit, with `activation` after every Linear layer but the last.

    This is how the authors' code builds the paper's "6-layer deep 256-unit wide" net: depth 6 is
    Linear(in, 256), 4 x Linear(256, 256), Linear(256, 1), 263 937 parameters for a 1-D input.
    Depth 1 is a linear model. Weights use PyTorch's default initialisation (as the authors'
    code), drawn from the weights' stream of the trial's `seed` (randomness.Stream.WEIGHTS), inside
    a forked RNG so building a net never disturbs the caller's random state. The ReLUs work in
    place (Linear's backward does not need its output): the same numbers, without a fresh
    N x width buffer and a pass over it per layer.

    `activation` 'sine' is SIREN's sin(sine_omega x), with its initialisation: the first layer's
    weights U(-1/fan_in, 1/fan_in), the others' U(-sqrt(6/fan_in)/omega, sqrt(6/fan_in)/omega).
    `encoding` 'fourier' puts FourierFeatures before the first Linear layer, B ~ N(0,
    fourier_scale^2) drawn from the encoding's own stream of `seed`.
    """
    layers: list[nn.Module] = []
    fan_in = in_features
    if encoding == "fourier":
        projection = torch.randn(fourier_features, in_features, generator=generator(seed, Stream.ENCODING))
        layers.append(FourierFeatures(fourier_scale * projection))
        fan_in = 2 * fourier_features
    with torch.random.fork_rng(devices=[]):
        # The CPU generator alone, where the layers are built: torch.manual_seed would also seed
        # (lazily, recording a stack trace each time) every accelerator backend, a third of the
        # cost of building a small net.
        torch.default_generator.manual_seed(stream_seed(seed, Stream.WEIGHTS))
        linears = []
        for _ in range(depth - 1):
            linears.append(nn.Linear(fan_in, width))
            layers += [linears[-1], _activation(activation, sine_omega)]
            fan_in = width
        linears.append(nn.Linear(fan_in, 1))
        layers.append(linears[-1])
        if activation == "sine":
            with torch.no_grad():
                for index, linear in enumerate(linears):
                    bound = 1 / linear.in_features if index == 0 else math.sqrt(6 / linear.in_features) / sine_omega
                    linear.weight.uniform_(-bound, bound)
        return nn.Sequential(*layers)


def _activation(name: str, sine_omega: float) -> nn.Module:
    return {"relu": lambda: nn.ReLU(inplace=True), "tanh": nn.Tanh, "sine": lambda: Sine(sine_omega)}[name]()


def build_net(in_features: int, config: Any) -> nn.Sequential:
    """The net a trained-net config (workloads.config.TrainedNet) describes, on `in_features` inputs."""
    return build_mlp(
        in_features, config.width, config.depth, config.seed, activation=config.activation, sine_omega=config.sine_omega,
        encoding=config.encoding, fourier_features=config.fourier_features, fourier_scale=config.fourier_scale,
    )


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of `model` (every weight and bias it trains)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def spectral_norms(weights: list[torch.Tensor], iterations: int = 10, seed: int = 0) -> torch.Tensor:
    """The largest singular value of each weight matrix by power iteration (`iterations` rounds),
    as a float64 tensor on the weights' device, (layers,): no host read, so a training loop reads
    it back with the rest of an eval (training.Reading).

    Each start vector comes from `seed` alone, so the estimate is reproducible; 10 rounds (the
    paper's) is an estimate from below that tightens with more rounds.
    """
    norms = []
    for weight in weights:
        matrix = weight.detach().double()
        generator = torch.Generator().manual_seed(seed)
        vector = torch.randn(matrix.shape[1], generator=generator, dtype=torch.float64).to(matrix.device)
        vector = vector / vector.norm()
        for _ in range(iterations):
            vector = matrix.T @ (matrix @ vector)
            vector = vector / vector.norm()
        norms.append((matrix @ vector).norm())
    return torch.stack(norms)


def spectral_norm(weight: torch.Tensor, iterations: int = 10, seed: int = 0) -> float:
    """The largest singular value of one weight matrix (see spectral_norms), as a float."""
    return float(spectral_norms([weight], iterations, seed)[0])


def linear_weights(model: nn.Module) -> list[torch.Tensor]:
    """Every Linear layer's weight matrix, input layer first."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def layer_spectral_norms(model: nn.Module, iterations: int = 10) -> list[float]:
    """The spectral norm of every Linear layer's weight matrix, input layer first."""
    return spectral_norms(linear_weights(model), iterations).tolist()


def stacked_forward(model: nn.Module) -> Callable[[dict[str, torch.Tensor], torch.Tensor], torch.Tensor]:
    """A forward pass for G stacked copies of `model`'s shape: (params with a leading G axis, as
    torch.func.stack_module_state gives them; inputs (G, N, d)) -> outputs (G, N, out).

    An MLP of Linear and ReLU layers (what build_mlp makes) runs as one batched matmul per layer
    (torch.baddbmm), which on a CPU is about 1.3x faster than vmap's generic batching; any other
    module falls back to torch.func.vmap over functional_call.
    """
    layers = list(model.children()) if isinstance(model, nn.Sequential) else []
    if layers and all(isinstance(layer, (nn.Linear, nn.ReLU)) for layer in layers):

        def mlp(params: dict[str, torch.Tensor], inputs: torch.Tensor) -> torch.Tensor:
            hidden = inputs
            for index, layer in enumerate(layers):
                if isinstance(layer, nn.Linear):
                    weight, bias = params[f"{index}.weight"], params[f"{index}.bias"]
                    hidden = torch.baddbmm(bias.unsqueeze(1), hidden, weight.transpose(1, 2))
                else:
                    hidden = hidden.relu_()  # in place: baddbmm does not need its output for its backward
            return hidden

        return mlp
    base = copy.deepcopy(model).to("meta")  # structure only: the weights come in `params`
    return vmap(lambda params, inputs: functional_call(base, params, (inputs,)))
