"""What every trained net's config shares, and how a config is read. Plain data, no torch.

An experiment's config is a frozen dataclass whose fields are the keys a sweep file may set
(under `workload:` or as grid axes). Its defaults are the paper's, the authors' released code's
where the paper is silent, and ASSUMED marks a default neither gives. Configs are torch-free so
that reading and validating a sweep file (the CLI, the driver) never imports torch, which costs
over a second at every start.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import textwrap
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, TypeVar

from annotated_types import Ge, Gt, Lt
from pydantic import ConfigDict, TypeAdapter

Config = TypeVar("Config")


@dataclass(frozen=True)
class TrainedNet:
    """The fields of a net trained full-batch: every experiment that trains one has them. The
    defaults are the paper's ReLU net and Adam; encoding, activation and optimizer are where
    spectral bias can be made to break."""

    # Strict: a sweep file's `8.5` is not a width, `true` is not a step count, unknown keys are typos.
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    seed: int = 0
    """draws all of the trial's randomness, each purpose (its data's, its net's initial weights, ...)
    from a stream of its own, so a trial computes the same numbers on any worker"""
    n_points: Annotated[int, Gt(0)] = 1000
    """N, the number of training points (latent grid size)"""
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
    """steps between readings (loss, and what the experiment measures)"""
    encoding: Literal["none", "fourier"] = "none"
    """how the input v reaches the first Linear layer: 'none' as it is (the paper's net);
    'fourier': as [cos(2 pi B v), sin(2 pi B v)], B of shape (fourier_features, input dimension)
    drawn from N(0, fourier_scale^2) (Tancik et al., 2020)"""
    fourier_features: Annotated[int, Gt(0)] = 256
    """rows of B: the encoded input has twice as many coordinates. ASSUMED: 256, Tancik et al.'s"""
    fourier_scale: Annotated[float, Gt(0)] = 10.0
    """standard deviation of B's entries, in periods per unit of input. ASSUMED: 10, Tancik et al.'s
    best scale for images"""
    activation: Literal["relu", "tanh", "sine"] = "relu"
    """the nonlinearity after every Linear layer but the last: 'relu' (the paper's), 'tanh', or
    'sine': sin(sine_omega x) with SIREN's initialisation (Sitzmann et al., 2020)"""
    sine_omega: Annotated[float, Gt(0)] = 30.0
    """omega_0 of the sine activation (SIREN's 30)"""
    optimizer: Literal["adam", "sgd"] = "adam"
    """'adam': full-batch Adam (the paper's); 'sgd': full-batch SGD with momentum"""
    momentum: Annotated[float, Ge(0), Lt(1)] = 0.9
    """SGD's momentum (unused by Adam). ASSUMED: 0.9"""


def unused_net_fields(config: dict[str, Any]) -> set[str]:
    """The trained-net fields of `config` (a trial's config as data) that have no effect on what it
    computes: a Fourier encoding's feature count and scale without a Fourier encoding, sine's omega
    without the sine activation, momentum without SGD. An experiment's `unused` starts from these."""
    unused = set()
    if config.get("encoding") != "fourier":
        unused |= {"fourier_features", "fourier_scale"}
    if config.get("activation") != "sine":
        unused.add("sine_omega")
    if config.get("optimizer") != "sgd":
        unused.add("momentum")
    return unused & set(config)


NET_FIELDS = tuple(f.name for f in dataclasses.fields(TrainedNet) if f.name != "seed")
"""What trials must share to be packed into one stacked model: the net's shape, the data's size,
the schedule (pack_fields of every experiment that trains a net)."""


@cache
def _adapter(config_type: type) -> TypeAdapter:
    return TypeAdapter(config_type)


def parse_config(config_type: type[Config], data: dict[str, Any]) -> Config:
    """`data` (JSON-like: lists where the config has tuples) as a `config_type`, validated strictly:
    types, bounds, unknown keys. Raises pydantic.ValidationError naming the field.

    Read as JSON, which is what a sweep file and a stored config_json are: JSON arrays are a
    config's tuples, and strict JSON still reads an int for a float field.
    """
    return _adapter(config_type).validate_json(json.dumps(data, allow_nan=True), strict=True)


def to_data(config: Any) -> dict[str, Any]:
    """A config as plain JSON-like data (tuples as lists): what a trial's config dict holds."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


@cache
def field_docs(config_type: type) -> dict[str, str]:
    """Each field's docstring (the string literal under it in the class body), as one line,
    inherited ones included.

    Read from the source, as documentation tools do: the docstrings are where a field's meaning,
    unit and the reason for its default are written, and `sbsweep experiments` prints them.
    """
    docs: dict[str, str] = {}
    for cls in reversed(config_type.__mro__[:-1]):  # a subclass's docstring overrides its base's
        if not dataclasses.is_dataclass(cls):
            continue
        body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body  # type: ignore[attr-defined]
        for field, after in zip(body, body[1:]):
            is_field = isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name)
            if is_field and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) and isinstance(after.value.value, str):
                docs[field.target.id] = " ".join(after.value.value.split())
    return docs


def frequencies_below_nyquist(config: Any) -> dict[str, str]:
    """A constraint for configs with `frequencies` and `n_points`: every k below N/2.

    A frequency at or past N/2 aliases on the N-point grid: its spectrum reading would be of
    another frequency.
    """
    too_high = [k for k in config.frequencies if 2 * k >= config.n_points]
    if too_high:
        return {"frequencies": f"{too_high} alias on a grid of n_points={config.n_points}: need every k < n_points/2"}
    return {}


# --- how long a trial takes: only to size the batches the orchestrator schedules ----------------

CPU_FLOPS_PER_S = 3e10
"""Arithmetic one CPU core does per second on a small MLP's full-batch step (measured on the
benchmark machine: about 30 GFLOP/s at widths 64 to 256). Only sizes batches: an estimate."""
STEP_OVERHEAD_S = 1.2e-4
"""Seconds a training step costs per Linear layer whatever its size (dispatch, the optimizer)."""
TRIAL_OVERHEAD_S = 0.01
"""Seconds a trial costs whatever its size (building the net and the data, its rows)."""


def training_schedule(config: Any) -> dict[str, Any]:
    """What the training loop takes from a trained net's config (training.Problem's fields)."""
    return {"steps": config.steps, "learning_rate": config.learning_rate, "eval_every_steps": config.eval_every_steps,
            "optimizer": config.optimizer, "momentum": config.momentum}


def net_inputs(in_features: int, config: dict[str, Any]) -> int:
    """How many inputs the first Linear layer sees: the data's, or twice the Fourier features."""
    return 2 * config.get("fourier_features", 0) if config.get("encoding") == "fourier" else in_features


def mlp_parameters(in_features: int, width: int, depth: int) -> int:
    """Trainable parameters of nets.build_mlp(in_features, width, depth): weights and biases."""
    fan_ins = [in_features] + [width] * (depth - 1)
    fan_outs = [width] * (depth - 1) + [1]
    return sum(i * o + o for i, o in zip(fan_ins, fan_outs))


def training_seconds(in_features: int, config: dict[str, Any]) -> float:
    """An estimate of the seconds one CPU core takes to train nets.build_mlp on a trial's data
    (a forward and backward pass is about 6 flops per parameter and point)."""
    flops = 6.0 * config["n_points"] * mlp_parameters(net_inputs(in_features, config), config["width"], config["depth"]) * config["steps"]
    return TRIAL_OVERHEAD_S + config["steps"] * config["depth"] * STEP_OVERHEAD_S + flops / CPU_FLOPS_PER_S
