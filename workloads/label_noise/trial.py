"""What one trial of the label-noise experiment computes: a net fits real images' +-1 labels plus
radial noise, and is read on clean held-out images as it trains."""

from __future__ import annotations

import math

import torch

from workloads.config import training_schedule
from workloads.images import binary_images
from workloads.label_noise.config import LabelNoiseConfig
from workloads.nets import build_net
from workloads.training import NetView, Problem, Reading


def radial_noise(images: torch.Tensor, frequency: float, amplitude: float) -> torch.Tensor:
    """beta sin(2 pi k ||x||) for each row x of `images`: noise that depends on an image's norm alone
    (the notebook's get_radial_noise), (N,)."""
    return amplitude * torch.sin(2 * math.pi * frequency * images.double().norm(dim=1)).float()


def split(config: LabelNoiseConfig) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(training images, their labels, validation images, their labels): the first
    validation_split of the images train, the rest validate, in the data set's order."""
    images, labels = binary_images(config.dataset, config.classes, config.n_points)
    cut = int(config.validation_split * len(images))
    return images[:cut], labels[:cut], images[cut:], labels[cut:]


def problem(config: LabelNoiseConfig, device: torch.device) -> Problem:
    """One run as a training problem: MSE on the noisy training labels; at every eval the loss on
    the clean training labels and on the clean validation images."""
    train, labels, held_out, held_out_labels = (t.to(device) for t in split(config))
    targets = labels + radial_noise(train, config.noise_frequency, config.noise_amplitude).to(device)
    def evaluate(step: int, output: torch.Tensor, net: NetView) -> Reading:
        validation = net.forward(held_out)
        return Reading({
            "clean_training_loss": ((output - labels) ** 2).mean(), "validation_loss": ((validation - held_out_labels) ** 2).mean(),
            "validation_accuracy": (torch.sign(validation) == held_out_labels).float().mean(),
            "accuracy": (torch.sign(output) == labels).float().mean(),
        }, lambda host: {"accuracy": host.pop("accuracy"), "validation_curves": [{**host, "step": step}]})

    def summarize(rows: list[dict]) -> dict:
        readings = [r["validation_curves"][0] for r in rows]
        best = min(readings, key=lambda r: r["validation_loss"])
        return {"best_validation_loss": best["validation_loss"], "best_validation_step": best["step"],
                "final_validation_loss": readings[-1]["validation_loss"]}

    return Problem(
        model=build_net(train.shape[1], config).to(device),
        inputs=train,
        target=targets,
        evaluate=evaluate,
        **training_schedule(config),
        tables=("validation_curves",),
        summarize=summarize,
    )
