"""What Experiment 5 computes: a denoising autoencoder of real images (`prepare`, once per seed),
then a net regressing white noise on its reconstructions or on a flat subspace (`problem`)."""

from __future__ import annotations

import io

import torch
from torch import nn

from workloads.config import training_schedule
from workloads.images import PIXELS, all_images
from workloads.nets import build_net
from workloads.noise_regression.config import NoiseRegressionConfig
from workloads.randomness import Stream, generator, stream_seed
from workloads.training import Checkpointing, Problem, adam


def autoencoder(config: NoiseRegressionConfig) -> tuple[nn.Module, nn.Module]:
    """(encoder pixels -> w -> d, decoder d -> w -> pixels), ReLU hidden layers, sigmoid pixels."""
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(stream_seed(config.seed, Stream.AUTOENCODER_WEIGHTS))
        width, code, pixels = config.autoencoder_width, config.code_dim, PIXELS[config.dataset]
        encoder = nn.Sequential(nn.Linear(pixels, width), nn.ReLU(), nn.Linear(width, code))
        decoder = nn.Sequential(nn.Linear(code, width), nn.ReLU(), nn.Linear(width, pixels), nn.Sigmoid())
        return encoder, decoder


def prepare(config: NoiseRegressionConfig, device: torch.device, checkpointing: Checkpointing | None = None) -> bytes:
    """Train the denoising autoencoder on the data set's first autoencoder_images images (full
    batch; the noise drawn afresh each step from the seed), then reconstruct the run's n_points
    of them; return those and its clean MSE.

    A few seconds of training, so it is not checkpointed.
    """
    images = all_images(config.dataset, config.autoencoder_images)[0].to(device)
    encoder, decoder = (part.to(device) for part in autoencoder(config))
    optimizer = adam([*encoder.parameters(), *decoder.parameters()], config.autoencoder_learning_rate)
    noise = noise_stream(config)
    for _ in range(config.autoencoder_steps):
        corrupted = images + corruption(config, images.shape, noise, device)
        loss = ((decoder(encoder(corrupted)) - images) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    chosen = torch.randperm(len(images), generator=generator(config.seed, Stream.DATA_SUBSET))[: config.n_points]
    with torch.no_grad():
        reconstructions = decoder(encoder(images[chosen.to(device)]))
        clean_loss = float(((decoder(encoder(images)) - images) ** 2).mean())
    buffer = io.BytesIO()
    torch.save({"reconstructions": reconstructions.cpu(), "images": chosen, "loss": clean_loss}, buffer)
    return buffer.getvalue()


def noise_stream(config: NoiseRegressionConfig) -> torch.Generator:
    """The generator of the autoencoder's training noise: on the CPU whatever device trains it, so
    a trial draws the same noise on a CPU and on a GPU (a CUDA generator draws other numbers)."""
    return generator(config.seed, Stream.AUTOENCODER_NOISE)


def corruption(config: NoiseRegressionConfig, shape: torch.Size, noise: torch.Generator, device: torch.device | str) -> torch.Tensor:
    """One step's Gaussian noise for the autoencoder's inputs: drawn on the CPU, then moved."""
    return (config.autoencoder_noise * torch.randn(shape, generator=noise)).to(device)


def nearest_neighbour_distance(points: torch.Tensor) -> float:
    """The mean over points of the distance to the nearest other point."""
    distances = torch.cdist(points.double(), points.double())
    distances.fill_diagonal_(float("inf"))
    return float(distances.min(dim=1).values.mean())


def inputs_of(config: NoiseRegressionConfig, prepared: bytes | None) -> tuple[torch.Tensor, float]:
    """The run's inputs, (n_points, pixels), and its autoencoder's loss: the reconstructions, or points
    uniform in the first code_dim coordinates and zero in the others (scaled, by default, to the
    reconstructions' nearest-neighbour spacing: config.flat_spacing)."""
    state = torch.load(io.BytesIO(prepared or b""), weights_only=True)
    if config.inputs == "manifold":
        return state["reconstructions"], state["loss"]
    flat = torch.zeros(config.n_points, PIXELS[config.dataset])
    flat[:, : config.code_dim] = torch.rand(config.n_points, config.code_dim, generator=generator(config.seed, Stream.FLAT_INPUTS))
    if config.flat_spacing == "matched":
        flat *= nearest_neighbour_distance(state["reconstructions"]) / nearest_neighbour_distance(flat)
    return flat, state["loss"]


def noise_targets(config: NoiseRegressionConfig) -> torch.Tensor:
    """The white-noise targets, one U(0, 1) per sample, (n_points,): the same for both inputs of a
    seed, and drawn from a stream of their own, apart from every net's weights."""
    return torch.rand(config.n_points, generator=generator(config.seed, Stream.NOISE_TARGETS))


def problem(config: NoiseRegressionConfig, device: torch.device, prepared: bytes | None = None) -> Problem:
    """One run as a training problem: regress white noise, U(0, 1) per sample, on the run's inputs."""
    inputs, autoencoder_loss = inputs_of(config, prepared)
    return Problem(
        model=build_net(PIXELS[config.dataset], config).to(device),
        inputs=inputs.to(device),
        target=noise_targets(config).to(device),
        **training_schedule(config),
        summarize=lambda rows: {"autoencoder_loss": autoencoder_loss},
    )
