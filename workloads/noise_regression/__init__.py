"""Experiment 5 (appendix A.3, Figure 7): noise is fitted faster on a real data manifold.

White noise (targets drawn from U(0, 1), one per sample) is regressed by the same net on two sets
of inputs of one intrinsic dimension d: points of a real data manifold (a denoising autoencoder's
reconstructions of digit images, its code d-dimensional) and points of a flat d-dimensional
subspace. The autoencoder is trained once per seed (the preparation) and shared by both. The
paper uses MNIST (`dataset: mnist`); scikit-learn's bundled 8x8 digits, the default, run offline
and on a laptop. The claim (C6): at equal
steps the loss on the real manifold is the lower.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa

from results_schema import CURVES, Column
from workloads.config import CPU_FLOPS_PER_S, STEP_OVERHEAD_S, TRIAL_OVERHEAD_S
from workloads.experiment import Experiment
from workloads.images import PER_CLASS, PIXELS, needs_fetch, pixels
from workloads.noise_regression.config import NoiseRegressionConfig, resolve, unused_fields


def constraints(config: NoiseRegressionConfig) -> dict[str, str]:
    """No more autoencoder images than the data set has, as many samples as those at most, and a
    code smaller than an image."""
    available, image_pixels = sum(PER_CLASS[config.dataset]), PIXELS[config.dataset]
    images = config.autoencoder_images
    if images > available:
        return {"autoencoder_images": f"autoencoder_images={images}: the {config.dataset} have {available} images"}
    if config.n_points > images:
        return {"n_points": f"n_points={config.n_points}: the autoencoder learns {images} images"}
    if config.code_dim >= image_pixels:
        return {"code_dim": f"code_dim={config.code_dim}: a code must be smaller than the {image_pixels} pixels it encodes"}
    return {}


def autoencoder_seconds(config: dict[str, Any]) -> float:
    """A preparation trains the autoencoder (four Linear layers, pixels-w-d-w-pixels) on its images, full batch."""
    parameters = 2 * config["autoencoder_width"] * (pixels(config) + config["code_dim"])
    flops = 6.0 * config["autoencoder_images"] * parameters * config["autoencoder_steps"]
    return TRIAL_OVERHEAD_S + config["autoencoder_steps"] * 4 * STEP_OVERHEAD_S + flops / CPU_FLOPS_PER_S


EXPERIMENT = Experiment(
    name="noise_regression",
    summary="Experiment 5: white noise on reconstructions of real images or on a flat subspace of one dimension",
    config=NoiseRegressionConfig,
    unused=unused_fields,
    columns=(Column("autoencoder_loss", pa.float64(), "the autoencoder's reconstruction MSE on its clean images (its seed's)"),),
    tables=(CURVES,),
    constraints=constraints,
    input_dim=pixels,
    resolve=resolve,
    data=needs_fetch,
    preparation_seconds_estimate=autoencoder_seconds,
    prepared_fields=tuple(
        f.name for f in dataclasses.fields(NoiseRegressionConfig)
        if f.name in ("seed", "n_points", "dataset") or f.name.startswith(("code", "autoencoder"))
    ),
    figures=("Figure 7",),
)
