"""What each experiment's trials are: one frozen dataclass per experiment, plain data, no torch.

A config's fields are the keys a sweep file may set (under `workload:` or as grid axes); their
defaults are the paper's, the authors' released code's where the paper is silent, and ASSUMED
marks a default neither gives. These live apart
from the experiments' code so that reading and validating a sweep file (the CLI, the driver)
never imports torch, which costs over a second at every start; the experiment modules re-export
their config, so `workloads.learning_order.LearningOrderConfig` works too.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Literal

from annotated_types import Ge, Gt, MinLen


@dataclass(frozen=True)
class LearningOrderConfig:
    """One grid point of Experiment 1. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    amplitudes: Literal["equal", "increasing"] = "equal"
    """'equal': every A_i = 1; 'increasing': A_i = i/n, so the highest frequency is the loudest"""
    seed: int = 0
    """draws the phases phi_i and the net's initial weights"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(5, 51, 5))
    """the target's frequencies k_i"""
    n_points: Annotated[int, Gt(0)] = 200
    """N, latent grid size"""
    width: Annotated[int, Gt(0)] = 256
    """units per hidden layer"""
    depth: Annotated[int, Gt(0)] = 6
    """number of Linear layers: depth - 1 hidden layers and the output layer (the paper's 6, as
    the authors' code builds it)"""
    steps: Annotated[int, Gt(0)] = 80_000
    """full-batch Adam steps"""
    learning_rate: Annotated[float, Gt(0)] = 3e-4
    """Adam learning rate: 3e-4, as in the authors' code"""
    eval_every_steps: Annotated[int, Gt(0)] = 100
    """steps between spectrum, loss and spectral-norm readings"""
    power_iterations: Annotated[int, Gt(0)] = 10
    """power-iteration rounds per spectral norm"""
    function_steps: tuple[Annotated[int, Gt(0)], ...] = (100, 1000, 10_000, 80_000)
    """steps at which the whole learned function is stored (Figure 6), each a multiple of
    eval_every_steps; the last step always is, steps past it are skipped"""


@dataclass(frozen=True)
class ManifoldRegressionConfig:
    """One grid point of Experiment 2. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    L: Annotated[int, Ge(0)] = 0
    """number of petals of the manifold gamma_L; 0 is the unit circle"""
    seed: int = 0
    """draws the phases phi_i and the net's initial weights"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(20, 201, 20))
    """the target's frequencies k_i, every amplitude 1"""
    n_points: Annotated[int, Gt(0)] = 1000
    """N, latent grid size"""
    width: Annotated[int, Gt(0)] = 256
    """units per hidden layer"""
    depth: Annotated[int, Gt(0)] = 6
    """number of Linear layers: depth - 1 hidden layers and the output layer (the paper's 6, as
    the authors' code builds it)"""
    steps: Annotated[int, Gt(0)] = 50_000
    """full-batch Adam steps"""
    learning_rate: Annotated[float, Gt(0)] = 3e-4
    """Adam learning rate: 3e-4, as in the authors' code"""
    eval_every_steps: Annotated[int, Gt(0)] = 100
    """steps between spectrum and loss readings"""


@dataclass(frozen=True)
class ManifoldClassificationConfig:
    """One grid point of Experiment 3. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    k: Annotated[int, Gt(0)] = 200
    """frequency of the sine wave in the latent variable z (cycles over [0, 1))"""
    L: Annotated[int, Ge(0)] = 0
    """number of petals of the manifold gamma_L; 0 is the unit circle"""
    seed: int = 0
    """draws the phase phi and the net's initial weights"""
    n_points: Annotated[int, Gt(0)] = 1000
    """N, latent grid size. ASSUMED: 1000, as in Experiment 2"""
    width: Annotated[int, Gt(0)] = 256
    """units per hidden layer"""
    depth: Annotated[int, Gt(0)] = 6
    """number of Linear layers: depth - 1 hidden layers and the output layer (the paper's 6, as
    the authors' code builds it)"""
    steps: Annotated[int, Gt(0)] = 10_000
    """full-batch Adam steps. ASSUMED: 10 000 (the paper does not say)"""
    learning_rate: Annotated[float, Gt(0)] = 3e-4
    """Adam learning rate: 3e-4, as in the authors' code"""
    threshold: float = 0.5
    """label is 1 where the sine exceeds this; 0.5 is the paper's and makes the classes 1:2 (the
    authors' notebook used 0, balanced classes)"""
    eval_every_steps: Annotated[int, Gt(0)] = 100
    """steps between learning-curve rows"""


@dataclass(frozen=True)
class PerturbationConfig:
    """One grid point of Experiment 4. Defaults are the paper's, else the authors' code's;
    ASSUMED marks our own choices."""

    delta: Annotated[float, Ge(0)] = 0.0
    """perturbation size: Euclidean length of the change to the ravelled parameter vector"""
    seed: int = 0
    """draws the phases, the initial weights, and the perturbation directions"""
    frequencies: Annotated[tuple[Annotated[int, Gt(0)], ...], MinLen(1)] = tuple(range(10, 51, 5))
    """the target's frequencies k_i, every amplitude 1"""
    n_points: Annotated[int, Gt(0)] = 200
    """N, latent grid size"""
    width: Annotated[int, Gt(0)] = 256
    """units per hidden layer"""
    depth: Annotated[int, Gt(0)] = 6
    """number of Linear layers: depth - 1 hidden layers and the output layer (the paper's 6, as
    the authors' code builds it)"""
    steps: Annotated[int, Gt(0)] = 80_000
    """full-batch Adam steps to train theta*. ASSUMED: 80 000, as Experiment 1 ('to convergence')"""
    learning_rate: Annotated[float, Gt(0)] = 3e-4
    """Adam learning rate: 3e-4, as in the authors' code"""
    eval_every_steps: Annotated[int, Gt(0)] = 100
    """steps between loss readings while theta* trains"""
    directions: Annotated[int, Gt(0)] = 100
    """random unit directions per delta, evaluated as one batch"""


PERTURBATION_PREPARED_FIELDS = ("seed", "frequencies", "n_points", "width", "depth", "steps", "learning_rate", "eval_every_steps")
"""The PerturbationConfig fields theta* depends on: trials that differ only in delta or
directions share one theta*."""


CPU_FLOPS_PER_S = 3e10
"""Arithmetic one CPU core does per second on a small MLP's full-batch step (measured on the
benchmark machine: about 30 GFLOP/s at widths 64 to 256). Only sizes batches: an estimate."""
STEP_OVERHEAD_S = 1.2e-4
"""Seconds a training step costs per Linear layer whatever its size (dispatch, the optimizer)."""
TRIAL_OVERHEAD_S = 0.01
"""Seconds a trial costs whatever its size (building the net and the data, its rows)."""


def mlp_parameters(in_features: int, width: int, depth: int) -> int:
    """Trainable parameters of nets.build_mlp(in_features, width, depth): weights and biases."""
    fan_ins = [in_features] + [width] * (depth - 1)
    fan_outs = [width] * (depth - 1) + [1]
    return sum(i * o + o for i, o in zip(fan_ins, fan_outs))


def training_seconds(in_features: int, width: int, depth: int, n_points: int, steps: int) -> float:
    """An estimate of the seconds one CPU core takes to train nets.build_mlp(in_features, width,
    depth) on n_points for `steps` full-batch steps (a forward and backward pass is about 6
    flops per parameter and point)."""
    flops = 6.0 * n_points * mlp_parameters(in_features, width, depth) * steps
    return TRIAL_OVERHEAD_S + steps * depth * STEP_OVERHEAD_S + flops / CPU_FLOPS_PER_S


@cache
def field_docs(config_type: type) -> dict[str, str]:
    """Each field's docstring (the string literal under it in the class body), as one line.

    Read from the source, as documentation tools do: the docstrings are where a field's meaning,
    unit and the reason for its default are written, and `sbsweep experiments` prints them.
    """
    body = ast.parse(textwrap.dedent(inspect.getsource(config_type))).body[0].body  # type: ignore[attr-defined]
    docs = {}
    for field, after in zip(body, body[1:]):
        if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name):
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                docs[field.target.id] = " ".join(after.value.value.split())
    return docs
