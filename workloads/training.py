"""The full-batch training loop shared by every experiment, and what a workload returns."""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import torch
from torch import nn
from torch.func import stack_module_state

from workloads.nets import count_parameters, stacked_forward

# What an experiment computes from the net's output on the whole grid at an eval step: scalars
# for the learning curve, and optionally lists of rows for other tables (see split_tables).
Evaluate = Callable[[int, torch.Tensor, torch.Tensor], dict[str, Any]]


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite; the trial cannot go on.

    `parameters` is the diverged net's trainable parameter count, so its trials row still says
    which net it was (None where the loop that raised does not know the net's trial).
    """

    def __init__(self, message: str, parameters: int | None = None) -> None:
        super().__init__(message)
        self.parameters = parameters


def split_tables(rows: list[dict[str, Any]], *tables: str) -> dict[str, list[dict[str, Any]]]:
    """Eval rows -> {"curves": scalar rows, table: rows} for each named table nested in the rows.

    An evaluate function that returns {"spectra": [...]} beside its scalars keeps those rows in
    the loop's own rows, so they travel inside checkpoints like everything else.
    """
    out: dict[str, list[dict[str, Any]]] = {table: [] for table in tables}
    curves = []
    for row in rows:
        for table in tables:
            out[table].extend(row.get(table, []))
        curves.append({key: value for key, value in row.items() if key not in tables})
    return {"curves": curves, **out}


@dataclass(frozen=True)
class Checkpointing:
    """How a training loop saves its state and where it resumes from; given by whoever runs it.

    The loop knows nothing of where a checkpoint goes: `save` receives a plain dict (tensors,
    numbers, lists) every `every_steps` steps; `saved`, when given, is such a dict to resume from.
    Full-batch Adam has no randomness while training, so a resumed run computes exactly what an
    uninterrupted one would.
    """

    every_steps: int
    save: Callable[[dict[str, Any]], None]
    saved: dict[str, Any] | None = None


@dataclass(frozen=True)
class WorkloadResult:
    """What one trial computed: final scalars and per-step rows, as plain Python values.

    `summary` holds the trial's final numbers (one row of the trials table); `tables` maps a
    table name of the store's contract to its rows for this trial.
    """

    summary: dict[str, float | int]
    tables: dict[str, list[dict[str, float | int]]] = field(default_factory=dict)
    resumed_from_step: int = 0
    """the step training resumed from (0: trained from scratch)"""


def resumed_step(checkpointing: Checkpointing | None) -> int:
    """The step training starts from: the saved state's, or 0 for a fresh start."""
    return checkpointing.saved["step"] if checkpointing and checkpointing.saved else 0


def adam(parameters: Iterable[torch.Tensor], learning_rate: float) -> torch.optim.Adam:
    """The optimizer of every experiment: Adam with PyTorch's defaults but fused, one kernel over
    all parameters instead of a dozen small ops per parameter (on a CPU it cut a 6x64 net's step
    by about a fifth). The same update as the unfused Adam, rounded differently."""
    return torch.optim.Adam(parameters, lr=learning_rate, fused=True)


def train_full_batch(
    model: nn.Module,
    inputs: torch.Tensor,
    loss_of_output: Callable[[torch.Tensor], torch.Tensor],
    steps: int,
    learning_rate: float,
    eval_every_steps: int,
    evaluate: Evaluate,
    checkpointing: Checkpointing | None = None,
) -> list[dict[str, float]]:
    """Train `model` on the whole of `inputs` with Adam for `steps` steps; return the eval rows.

    Each step is one forward pass over the full batch (no minibatch noise, as in the paper).
    Evaluation reuses that forward pass: at step s (after s updates) the output is exactly the
    function theta_s computes, so an eval costs no extra forward. Steps 0, every
    `eval_every_steps`, and the last step are evaluated; `evaluate(step, output, loss)` returns
    a row's metrics and the row gains `step` and `loss`. Only eval steps read values back to
    the host, so a GPU never waits on a sync inside the loop.

    With `checkpointing`, the state (weights, Adam's moments, rows so far, next step) is saved
    every `checkpointing.every_steps` steps, and training starts from `checkpointing.saved`.

    Raises DivergedError when the loss is NaN or infinite at an eval step.
    """
    optimizer = adam(model.parameters(), learning_rate)
    rows: list[dict[str, float]] = []
    if checkpointing and checkpointing.saved:
        model.load_state_dict(checkpointing.saved["model"])
        optimizer.load_state_dict(checkpointing.saved["optimizer"])
        rows = list(checkpointing.saved["rows"])
    for step in range(resumed_step(checkpointing), steps + 1):
        output = model(inputs).squeeze(-1)  # (N,)
        loss = loss_of_output(output)
        if step % eval_every_steps == 0 or step == steps:
            loss_value = float(loss.detach())
            if not math.isfinite(loss_value):
                raise DivergedError(f"loss became {loss_value} at step {step}")
            with torch.no_grad():
                rows.append({"step": step, "loss": loss_value, **evaluate(step, output.detach(), loss.detach())})
        if step == steps:
            break
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if checkpointing and (step + 1) % checkpointing.every_steps == 0 and step + 1 < steps:
            # A snapshot: state_dict() holds references to tensors the next step changes in place.
            checkpointing.save(
                copy.deepcopy({"step": step + 1, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "rows": rows})
            )
    return rows


@dataclass(frozen=True)
class Problem:
    """One net's full-batch training task, as an experiment describes it.

    Everything the loop needs and nothing about where it runs: the net, the inputs, the loss,
    what to read out at eval steps, the schedule, and how the eval rows become the trial's
    result. A Problem can be trained alone (`solve`) or stacked with others of the same shape
    into one batched model (`solve_packed`).
    """

    model: nn.Module
    inputs: torch.Tensor
    """(N, d): the whole training set, one full batch"""
    loss_of_output: Callable[[torch.Tensor], torch.Tensor]
    evaluate: Evaluate
    steps: int
    learning_rate: float
    eval_every_steps: int
    finish: Callable[[list[dict[str, Any]], int], WorkloadResult]
    """(eval rows, step resumed from) -> the trial's result"""


def solve(problem: Problem, checkpointing: Checkpointing | None = None, compile_mode: str | None = None) -> WorkloadResult:
    """Train one problem's net alone (see train_full_batch) and return its result.

    With `compile_mode` (a torch.compile mode), the net is compiled in place first: the same
    parameters and state_dict keys, so checkpoints work either way.
    """
    parameters = count_parameters(problem.model)
    if compile_mode:
        problem.model.compile(mode=compile_mode)
    try:
        rows = train_full_batch(
            problem.model, problem.inputs, problem.loss_of_output, problem.steps, problem.learning_rate,
            problem.eval_every_steps, problem.evaluate, checkpointing,
        )
    except DivergedError as error:
        raise DivergedError(str(error), parameters) from None
    return _with_parameters(problem.finish(rows, resumed_step(checkpointing)), parameters)


def _with_parameters(result: WorkloadResult, parameters: int) -> WorkloadResult:
    """`result` with its net's trainable parameter count in the summary (the trials row's `parameters`)."""
    return dataclasses.replace(result, summary={**result.summary, "parameters": parameters})


def _pack_shape(problem: Problem) -> tuple[Any, ...]:
    params = tuple((name, tuple(p.shape)) for name, p in problem.model.named_parameters())
    return params, tuple(problem.inputs.shape), problem.steps, problem.learning_rate, problem.eval_every_steps


def solve_packed(
    problems: list[Problem], checkpointing: Checkpointing | None = None, compile_mode: str | None = None
) -> list[WorkloadResult | DivergedError]:
    """Train G problems whose nets have one shape as one stacked model; return each one's result.

    The G parameter sets are stacked along a new leading axis and the forward pass runs over
    all of them at once (nets.stacked_forward), so one step is a few batched matmuls instead of
    G rounds of small ones.
    The loss is the sum of the G losses: each net's gradient is that of its own loss alone, and
    Adam is elementwise, so each net follows the trajectory it would follow alone, up to float
    rounding of the batched matmuls. A net whose loss becomes NaN or infinite gets a
    DivergedError and the others train on (its gradients never reach them).
    """
    if len({_pack_shape(p) for p in problems}) != 1:
        raise ValueError("a pack needs nets of one shape, inputs of one shape, and one schedule")
    first = problems[0]
    params, _ = stack_module_state([p.model for p in problems])
    inputs = torch.stack([p.inputs for p in problems])  # (G, N, d)
    forward = stacked_forward(first.model)
    if compile_mode:
        forward = torch.compile(forward, mode=compile_mode)
    optimizer = adam(params.values(), first.learning_rate)
    rows: list[list[dict[str, Any]]] = [[] for _ in problems]
    diverged: dict[int, str] = {}
    start = resumed_step(checkpointing)
    if checkpointing and checkpointing.saved:
        with torch.no_grad():
            for name, value in checkpointing.saved["params"].items():
                params[name].copy_(value)
        optimizer.load_state_dict(checkpointing.saved["optimizer"])
        rows, diverged = [list(r) for r in checkpointing.saved["rows"]], dict(checkpointing.saved["diverged"])
    for step in range(start, first.steps + 1):
        outputs = forward(params, inputs).squeeze(-1)  # (G, N)
        losses = torch.stack([p.loss_of_output(outputs[g]) for g, p in enumerate(problems)])
        if step % first.eval_every_steps == 0 or step == first.steps:
            for g, loss_value in enumerate(losses.detach().tolist()):  # one host sync per eval, not per net
                if g in diverged:
                    continue
                if not math.isfinite(loss_value):
                    diverged[g] = f"loss became {loss_value} at step {step}"
                    continue
                with torch.no_grad():
                    _load_net(problems[g].model, params, g)  # an evaluate may read the net's weights
                    rows[g].append({"step": step, "loss": loss_value, **problems[g].evaluate(step, outputs[g].detach(), losses[g].detach())})
            if len(diverged) == len(problems):
                break
        if step == first.steps:
            break
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
        if checkpointing and (step + 1) % checkpointing.every_steps == 0 and step + 1 < first.steps:
            checkpointing.save(copy.deepcopy(
                {"step": step + 1, "params": params, "optimizer": optimizer.state_dict(), "rows": rows, "diverged": diverged}
            ))
    parameters = count_parameters(first.model)  # one shape for the whole pack
    return [
        DivergedError(diverged[g], parameters) if g in diverged else _with_parameters(p.finish(rows[g], start), parameters)
        for g, p in enumerate(problems)
    ]


def _load_net(model: nn.Module, params: dict[str, torch.Tensor], index: int) -> None:
    for name, parameter in model.named_parameters():
        parameter.copy_(params[name][index])
