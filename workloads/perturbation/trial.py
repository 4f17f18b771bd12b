"""What Experiment 4 computes: theta* trained once per seed (`prepare`), then perturbed by delta
along random directions (`run`), the spectrum read over the directions."""

from __future__ import annotations

import io

import torch
from torch.func import functional_call, vmap

from workloads.config import training_schedule
from workloads.nets import build_net, count_parameters
from workloads.perturbation.config import PerturbationConfig
from workloads.randomness import Stream, generator
from workloads.signals import draw_phases, latent_grid, sinusoid_sum
from workloads.spectrum import single_sided_spectrum
from workloads.training import Checkpointing, Problem, WorkloadResult, solve


def _target(config: PerturbationConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    z = latent_grid(config.n_points)
    frequencies = torch.tensor(config.frequencies, dtype=torch.float32)
    amplitudes = torch.ones(len(config.frequencies))
    return z, frequencies, amplitudes, sinusoid_sum(z, frequencies, amplitudes, draw_phases(config.seed, len(config.frequencies)))


def network(config: PerturbationConfig, device: torch.device) -> torch.nn.Module:
    """The net theta* parametrises, at its initialisation: a ReLU MLP on the 1-D latent z."""
    return build_net(1, config).to(device)


def prepare(config: PerturbationConfig, device: torch.device, checkpointing: Checkpointing | None = None) -> bytes:
    """Train theta* on the Experiment 1 target (equal amplitudes); return it with its final loss."""
    z, _, _, target = _target(config)
    model = network(config, device)
    result = solve(Problem(model=model, inputs=z[:, None].to(device), target=target.to(device), **training_schedule(config)), checkpointing)
    buffer = io.BytesIO()
    torch.save({"model": {k: v.cpu() for k, v in model.state_dict().items()}, "loss": result.summary["loss"]}, buffer)
    return buffer.getvalue()


def unit_directions(count: int, size: int, seed: int) -> torch.Tensor:
    """`count` directions uniform on the unit sphere of R^size (normalized Gaussians), (count, size).

    Drawn from the directions' stream of `seed`: every delta of a run uses the same directions, so
    the curve over delta is not blurred by redrawing them, and none reuses the initial weights' draws.
    """
    gaussian = torch.randn(count, size, generator=generator(seed, Stream.DIRECTIONS))
    return gaussian / gaussian.norm(dim=1, keepdim=True)


def perturbed_outputs(model: torch.nn.Module, inputs: torch.Tensor, displacements: torch.Tensor) -> torch.Tensor:
    """f at theta* + d for every row d of `displacements` (count, P), in one batched pass: (count, N).

    theta is the trainable parameters (count_parameters'); what does not train (a Fourier
    encoding's B) is not perturbed."""
    trained = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    names, shapes = [name for name, _ in trained], [p.shape for _, p in trained]
    theta = torch.cat([p.detach().reshape(-1) for _, p in trained])

    def forward(vector: torch.Tensor) -> torch.Tensor:
        pieces = torch.split(vector, [s.numel() for s in shapes])
        params = {name: piece.view(shape) for name, piece, shape in zip(names, pieces, shapes)}
        return functional_call(model, params, (inputs,)).squeeze(-1)

    with torch.no_grad():
        return vmap(forward)(theta[None, :] + displacements)


def run(config: PerturbationConfig, device: torch.device, prepared: bytes | None, checkpointing: Checkpointing | None = None) -> WorkloadResult:
    """Perturb theta* by `delta` along `directions` unit directions; both spectrum readings per k."""
    z, frequencies, amplitudes, _ = _target(config)
    state = torch.load(io.BytesIO(prepared or b""), map_location=device, weights_only=True)
    model = network(config, device)
    model.load_state_dict(state["model"])
    inputs = z[:, None].to(device)
    size = count_parameters(model)
    directions = unit_directions(config.directions, size, config.seed).to(device)
    outputs = perturbed_outputs(model, inputs, config.delta * directions)  # (directions, N)
    with torch.no_grad():
        unperturbed = single_sided_spectrum(model(inputs).squeeze(-1))[frequencies.long()].abs()
    spectra = single_sided_spectrum(outputs)[:, frequencies.long()]  # (directions, n_freq), complex
    magnitude = spectra.mean(dim=0).abs()  # |F_E(theta)|: magnitude of the mean spectrum
    mean_magnitude = spectra.abs().mean(dim=0)  # the mean of the magnitudes
    rows = [
        {
            "delta": config.delta, "k": int(k), "amplitude": float(a), "unperturbed_magnitude": float(u),
            "magnitude": float(m), "normalized_magnitude": float(m / u),
            "mean_magnitude": float(mm), "normalized_mean_magnitude": float(mm / u),
        }
        for k, a, u, m, mm in zip(frequencies.tolist(), amplitudes.tolist(), unperturbed.cpu(), magnitude.cpu(), mean_magnitude.cpu())
    ]
    summary = {"loss": state["loss"], "parameters": size}
    return WorkloadResult(summary=summary, tables={"perturbation_spectra": rows})
