"""The full-batch training loop every experiment shares, for one net or a pack of them, and what a
trial returns."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

import torch
from torch import nn
from torch.func import stack_module_state

from workloads.nets import count_parameters, stacked_forward

LossKind = Literal["mse", "bce"]
"""A net's training loss against its target: mean squared error, or binary cross-entropy on logits."""


def net_losses(kind: LossKind, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each net's loss over its points: outputs and targets (G, N) -> (G,). The same few operations
    for one net or a pack of any size, so a pack's training step costs no more launches than one net's."""
    if kind == "bce":
        return nn.functional.binary_cross_entropy_with_logits(outputs, targets, reduction="none").mean(dim=-1)
    return ((outputs - targets) ** 2).mean(dim=-1)


@dataclass(frozen=True)
class NetView:
    """One net of a training loop at its current weights, for an evaluation that reads more than its
    outputs on the training points (the net over a box, on held-out images, its weight matrices).
    In a pack these are views into the stacked weights: nothing is copied."""

    forward: Callable[[torch.Tensor], torch.Tensor]
    """the net's function on other inputs: (M, d) -> (M,)"""
    weights: Callable[[], list[torch.Tensor]]
    """the Linear layers' weight matrices, input layer first"""


@dataclass(frozen=True)
class Reading:
    """What an evaluation reads off one net, in two halves: device tensors, read back to the host
    together with every other net's of the pack in one transfer, and then `rows`, which makes the
    eval's scalars and table rows of their host values (floats; nested lists for tensors with dims)."""

    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    rows: Callable[[dict[str, Any]], dict[str, Any]] = dict


def no_reading(step: int, output: torch.Tensor, net: NetView) -> Reading:
    """An evaluation that reads nothing beyond the loss."""
    return Reading()


# What an experiment reads at an eval step from the net's output on its whole training set (N,):
# scalars for the learning curve, and optionally lists of rows for other tables (see Problem.tables).
Evaluate = Callable[[int, torch.Tensor, NetView], Reading]


class DivergedError(RuntimeError):
    """The training loss became NaN or infinite; the trial cannot go on.

    `parameters` is the diverged net's trainable parameter count, so its trials row still says
    which net it was. `status` is the trial's status in the store.
    """

    status = "diverged"

    def __init__(self, message: str, parameters: int | None = None) -> None:
        super().__init__(message)
        self.parameters = parameters


class CollapsedError(DivergedError):
    """The net fitted its target and then lost the fit (see `collapse`): a training failure, not
    a result about spectral bias, so the trial is recorded as collapsed and judged by no claim."""

    status = "collapsed"


COLLAPSE_FITTED = 0.1
"""A net has fitted its target once its training loss is at most this share of its loss at step 0
(nine tenths of the target's variance explained, for a regression). ASSUMED: no source gives one."""
COLLAPSE_LOST = 0.5
"""... and has collapsed if its loss is back at this share of its loss at step 0 or more when its
training ends: more than half of what it had fitted lost, and not regained. A spike it recovers
from (Adam's, at times up to the start's loss and down again) leaves a trained net, whose
readings are results. ASSUMED, as COLLAPSE_FITTED."""


def collapse(rows: list[dict[str, Any]]) -> str | None:
    """Why a learning curve (eval rows with `step` and `loss`, in order) collapsed, or None: its
    loss fell to COLLAPSE_FITTED of its start, and at its last eval it is back at COLLAPSE_LOST of
    it or more."""
    if not rows or not rows[0]["loss"] > 0:
        return None
    start, last = rows[0]["loss"], rows[-1]
    low_row = min(rows, key=lambda row: row["loss"])
    if low_row["loss"] <= COLLAPSE_FITTED * start and last["loss"] >= COLLAPSE_LOST * start:
        return (f"collapsed: the loss fell from {start:.4g} to {low_row['loss']:.4g} by step {low_row['step']} and was back at "
                f"{last['loss']:.4g} at step {last['step']}, its last eval (a fit lost, not a result: lower the learning rate)")
    return None


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

    `summary` holds the trial's final numbers (`loss` and `parameters` for the trials table, the
    experiment's own columns for its table); `tables` maps a table name to this trial's rows.
    """

    summary: dict[str, float | int]
    tables: dict[str, list[dict[str, float | int]]] = field(default_factory=dict)
    resumed_from_step: int = 0
    """the step training resumed from (0: trained from scratch)"""
    compile_s: float | None = None
    """seconds the first training step took where the step was compiled (torch.compile traces and
    builds its kernels then): the compilation's cost, apart from training; None when run eagerly"""


def resumed_step(checkpointing: Checkpointing | None) -> int:
    """The step training starts from: the saved state's, or 0 for a fresh start."""
    return checkpointing.saved["step"] if checkpointing and checkpointing.saved else 0


def adam(parameters: Iterable[torch.Tensor], learning_rate: float) -> torch.optim.Adam:
    """The paper's optimizer: Adam with PyTorch's defaults but fused, one kernel over all
    parameters instead of a dozen small ops per parameter (on a CPU it cut a 6x64 net's step by
    about a fifth). The same update as the unfused Adam, rounded differently."""
    return torch.optim.Adam(parameters, lr=learning_rate, fused=True)


def optimizer_for(parameters: Iterable[torch.Tensor], learning_rate: float, name: str = "adam", momentum: float = 0.0) -> torch.optim.Optimizer:
    """The optimizer a problem asks for: 'adam' (fused Adam, the paper's) or 'sgd' (plain
    full-batch SGD with `momentum`, PyTorch's: v = momentum v + g, p -= learning_rate v)."""
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=learning_rate, momentum=momentum)
    return adam(parameters, learning_rate)


@dataclass(frozen=True)
class Problem:
    """One net's full-batch training task, as an experiment describes it.

    Everything the loop needs and nothing about where it runs: the net, the inputs, the loss,
    what to read at eval steps, the schedule, and what the trial reports beside its curve. A
    Problem is trained alone (`solve`) or stacked with others of the same shape (`solve_packed`).
    """

    model: nn.Module
    inputs: torch.Tensor
    """(N, d): the whole training set, one full batch"""
    target: torch.Tensor
    """(N,): what the net is trained to output (regression values, or 0/1 labels for 'bce')"""
    evaluate: Evaluate = no_reading
    """what the loop reads at each eval step beyond the loss (see Reading)"""
    _: KW_ONLY
    steps: int
    learning_rate: float
    eval_every_steps: int
    loss: LossKind = "mse"
    tables: tuple[str, ...] = ()
    """tables whose rows `evaluate` returns under their name (e.g. 'spectra'); its scalars are the curve"""
    summarize: Callable[[list[dict[str, Any]]], dict[str, Any]] = lambda rows: {}
    """the experiment's own results from the eval rows (e.g. the final accuracy)"""
    optimizer: str = "adam"
    """'adam' or 'sgd' (see optimizer_for)"""
    momentum: float = 0.0
    """SGD's momentum (unused by Adam)"""
    early_evals: bool = False
    """also evaluate at steps 1, 2, 4, 8, ... below eval_every_steps (see eval_steps)"""
    done: Callable[[dict[str, Any]], bool] | None = None
    """given an eval row, whether the net has trained enough (e.g. fits its points): its training
    ends at that eval, which is its last row; `steps` is then the most it trains"""
    last: Evaluate | None = None
    """a further reading at the net's last eval only (where `done` stopped it, or at `steps`),
    merged into that row: for what costs too much to read at every eval (Figure 2's box)"""

    def loss_of_output(self, output: torch.Tensor) -> torch.Tensor:
        """The training loss of one output on the training points, (N,) -> a scalar."""
        return net_losses(self.loss, output[None], self.target[None])[0]


def eval_steps(steps: int, every: int, early: bool = False) -> set[int]:
    """The steps a loop evaluates at: 0, every `every` steps, the last, and with `early` the
    powers of two below `every` (1, 2, 4, ...): where a fast learner's order is decided."""
    at = {*range(0, steps + 1, every), steps}
    if early:
        at |= {2**i for i in range(max(every, 1).bit_length()) if 2**i < every}
    return at


def finish(problem: Problem, rows: list[dict[str, Any]], resumed_from_step: int, compile_s: float | None = None) -> WorkloadResult:
    """A trained problem's result: its curve and nested tables, final loss, steps, parameters and
    the experiment's own results (and, compiled, its share of the compilation's seconds)."""
    tables: dict[str, list[dict[str, Any]]] = {table: [] for table in problem.tables}
    curve = []
    for row in rows:
        for table in problem.tables:
            tables[table].extend(row.get(table, []))
        curve.append({key: value for key, value in row.items() if key not in problem.tables})
    summary = {"loss": rows[-1]["loss"], "parameters": count_parameters(problem.model), **problem.summarize(rows)}
    return WorkloadResult(summary=summary, tables={"curves": curve, **tables}, resumed_from_step=resumed_from_step, compile_s=compile_s)


class _Nets:
    """The G nets one loop trains: a single model as it is, or G models of one shape stacked.

    Stacked, the G parameter sets gain a leading axis and each layer is one batched matmul over
    them (nets.stacked_forward); a single net runs exactly the ops it would alone, so results do
    not depend on the loop serving packs too.
    """

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0]
        self.linears = [f"{name}.weight" for name, module in first.model.named_modules() if isinstance(module, nn.Linear)]
        if len(problems) == 1:
            self.params = dict(first.model.named_parameters())
            self._forward = lambda: first.model(first.inputs).squeeze(-1)[None]  # (1, N)
        else:
            if len({_shape(p) for p in problems}) != 1:
                raise ValueError("a pack needs nets of one shape, inputs of one shape, one loss and one schedule")
            self.params, _ = stack_module_state([p.model for p in problems])
            inputs = torch.stack([p.inputs for p in problems])  # (G, N, d)
            self._stacked = stacked_forward(first.model)
            self._forward = lambda: self._stacked(self.params, inputs).squeeze(-1)  # (G, N)
        self.targets = torch.stack([p.target for p in problems])  # (G, N)

    def losses(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every net's output on its whole training set (G, N) and its loss (G,): one training
        step's forward pass, the same operations whatever G (torch.compile compiles this)."""
        outputs = self._forward()
        return outputs, net_losses(self.problems[0].loss, outputs, self.targets)

    def view(self, index: int) -> NetView:
        """Net `index` at its current weights (see NetView)."""
        if len(self.problems) == 1:
            model = self.problems[0].model
            return NetView(lambda inputs: model(inputs).squeeze(-1), lambda: [self.params[name] for name in self.linears])
        def own() -> dict[str, torch.Tensor]:  # (1, ...) views of the stacked weights, taken only where an evaluation reads them
            return {name: value[index : index + 1] for name, value in self.params.items()}

        return NetView(lambda inputs: self._stacked(own(), inputs[None])[0].squeeze(-1),
                       lambda: [self.params[name][index] for name in self.linears])

    def state(self) -> dict[str, torch.Tensor]:
        """The weights, to checkpoint (a snapshot is the caller's to take)."""
        return self.problems[0].model.state_dict() if len(self.problems) == 1 else self.params

    def load(self, state: dict[str, torch.Tensor]) -> None:
        """Restore weights saved by `state`."""
        with torch.no_grad():
            if len(self.problems) == 1:
                self.problems[0].model.load_state_dict(state)
            else:
                for name, value in state.items():
                    self.params[name].copy_(value)


def _shape(problem: Problem) -> tuple[Any, ...]:
    params = tuple((name, tuple(p.shape)) for name, p in problem.model.named_parameters())
    schedule = problem.steps, problem.learning_rate, problem.eval_every_steps, problem.optimizer, problem.momentum, problem.early_evals
    return params, tuple(problem.inputs.shape), tuple(problem.target.shape), problem.loss, *schedule


def to_host(readings: list[dict[str, torch.Tensor]]) -> list[dict[str, Any]]:
    """Every tensor of every reading, read back to the host in one transfer (one device sync,
    however many nets and values): each as a float, or nested lists of floats for a tensor with dims."""
    flat = [tensor.detach().reshape(-1).to(torch.float64) for reading in readings for tensor in reading.values()]
    values = torch.cat(flat).tolist() if flat else []
    out, at = [], 0
    for reading in readings:
        host: dict[str, Any] = {}
        for name, tensor in reading.items():
            host[name] = _nested(values[at : at + tensor.numel()], tuple(tensor.shape))
            at += tensor.numel()
        out.append(host)
    return out


def _nested(values: list[float], shape: tuple[int, ...]) -> Any:
    if not shape:
        return values[0]
    if len(shape) == 1:
        return values
    size = len(values) // shape[0]
    return [_nested(values[i * size : (i + 1) * size], shape[1:]) for i in range(shape[0])]


def _read(problems: list[Problem], nets: _Nets, step: int, outputs: torch.Tensor, losses: torch.Tensor, live: list[int],
          evaluate: Callable[[Problem], Evaluate | None]) -> tuple[list[float], dict[int, dict[str, Any]]]:
    """The losses of every net and the rows of the `live` ones' readings (`evaluate` picks the
    reading of each problem), all read to the host in one transfer."""
    readings = {}
    with torch.no_grad():
        for g in live:
            chosen = evaluate(problems[g])
            if chosen is not None:
                readings[g] = chosen(step, outputs[g].detach(), nets.view(g))
    host = to_host([{"losses": losses.detach()}, *(reading.tensors for reading in readings.values())])
    return host[0]["losses"], {g: reading.rows(values) for (g, reading), values in zip(readings.items(), host[1:])}


def train(
    problems: list[Problem], checkpointing: Checkpointing | None = None, compile_mode: str | None = None
) -> list[WorkloadResult | DivergedError]:
    """Train G problems (one, or G of one net shape stacked) full-batch (Adam, or SGD where they ask); return each one's
    result, or a DivergedError for a net whose loss became NaN or infinite (a CollapsedError for
    one that fitted its target and lost it again: `collapse`).

    Each step is one forward pass over the full batch (no minibatch noise, as in the paper), and
    its loss is computed for all G nets at once (net_losses), so a step costs the same number of
    operations whatever G. Evaluation reuses that pass: at step s (after s updates) the output is
    exactly the function theta_s computes. Steps 0, every `eval_every_steps`, and the last are
    evaluated (and the early powers of two where a problem asks: eval_steps); every net's
    readings are then read back to the host in one transfer, so a GPU never waits on a sync
    between them. The loss of a pack is the sum of its nets' losses: each net's gradient is that
    of its own loss, and Adam is elementwise, so each follows the trajectory it would alone, up to
    the rounding of the batched matmuls; a net that diverges stops there and the others train on.

    A net whose Problem.done says it has trained enough takes no more rows (in a pack, the others
    train on; a lone net's loop ends there).

    With `compile_mode` (a torch.compile mode), the step's forward pass and losses are compiled
    (Nets.losses); the first step's time is the compilation's (WorkloadResult.compile_s).
    With `checkpointing`, the state (weights, Adam's moments, rows so far, next step) is saved
    every `checkpointing.every_steps` steps, and training starts from `checkpointing.saved`.
    """
    first = problems[0]
    nets = _Nets(problems)
    forward = torch.compile(nets.losses, mode=compile_mode) if compile_mode else nets.losses
    compile_s: float | None = None
    optimizer = optimizer_for(nets.params.values(), first.learning_rate, first.optimizer, first.momentum)
    rows: list[list[dict[str, Any]]] = [[] for _ in problems]
    diverged: dict[int, str] = {}
    stopped: set[int] = set()  # nets that trained enough (Problem.done): no more rows
    start = resumed_step(checkpointing)
    if checkpointing and checkpointing.saved:
        nets.load(checkpointing.saved["nets"])
        optimizer.load_state_dict(checkpointing.saved["optimizer"])
        rows, diverged = [list(r) for r in checkpointing.saved["rows"]], dict(checkpointing.saved["diverged"])
        stopped = set(checkpointing.saved.get("stopped", ()))
    evals = eval_steps(first.steps, first.eval_every_steps, first.early_evals)
    for step in range(start, first.steps + 1):
        began = time.perf_counter()
        outputs, losses = forward()
        if step in evals:
            live = [g for g in range(len(problems)) if g not in diverged and g not in stopped]
            values, readings = _read(problems, nets, step, outputs, losses, live, lambda problem: problem.evaluate)
            ending = []
            for g in live:
                if not math.isfinite(values[g]):
                    diverged[g] = f"loss became {values[g]} at step {step}"
                    continue
                rows[g].append({"step": step, "loss": values[g], **readings[g]})
                if problems[g].done is not None and problems[g].done(rows[g][-1]):
                    stopped.add(g)
                if g in stopped or step == first.steps:
                    ending.append(g)
            if any(problems[g].last is not None for g in ending):  # a further read at a net's last eval only
                _, last = _read(problems, nets, step, outputs, losses, ending, lambda problem: problem.last)
                for g, extra in last.items():
                    rows[g][-1].update(extra)
            if len(diverged) + len(stopped) == len(problems):
                break
        if step == first.steps:
            break
        optimizer.zero_grad(set_to_none=True)
        losses.sum().backward()
        optimizer.step()
        if compile_mode and compile_s is None:
            compile_s = time.perf_counter() - began
        if checkpointing and (step + 1) % checkpointing.every_steps == 0 and step + 1 < first.steps:
            # A snapshot: the state holds references to tensors the next step changes in place.
            state = {"step": step + 1, "nets": nets.state(), "optimizer": optimizer.state_dict(), "rows": rows, "diverged": diverged,
                     "stopped": sorted(stopped)}
            checkpointing.save(copy.deepcopy(state))
    parameters = count_parameters(first.model)  # one shape for the whole pack
    outcomes: list[WorkloadResult | DivergedError] = []
    for g, problem in enumerate(problems):
        lost = None if g in diverged else collapse(rows[g])
        outcomes.append(DivergedError(diverged[g], parameters) if g in diverged else CollapsedError(lost, parameters) if lost
                        else finish(problem, rows[g], start, None if compile_s is None else compile_s / len(problems)))
    return outcomes


def solve(problem: Problem, checkpointing: Checkpointing | None = None, compile_mode: str | None = None) -> WorkloadResult:
    """Train one problem's net alone (see `train`); raise DivergedError if its loss diverges
    (CollapsedError if it collapses).

    With `compile_mode` (a torch.compile mode), the training step's forward pass and losses are
    compiled: the same parameters and state_dict keys, so checkpoints work either way.
    """
    [outcome] = train([problem], checkpointing, compile_mode)
    if isinstance(outcome, DivergedError):
        raise outcome
    return outcome


def solve_packed(
    problems: list[Problem], checkpointing: Checkpointing | None = None, compile_mode: str | None = None
) -> list[WorkloadResult | DivergedError]:
    """Train G problems whose nets have one shape as one stacked model (see `train`)."""
    return train(problems, checkpointing, compile_mode)
