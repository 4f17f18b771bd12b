"""The sweep file: one typed spec, loaded from YAML, validated at the edge.

A sweep file says what to run; nothing else in sbsweep reads YAML. Example (sweeps/smoke.yaml):

    name: smoke
    experiment: manifold_classification
    grid: {k: [5, 40], L: [0, 8]}        # axes: the cartesian product is the grid
    seeds: [0]                           # every grid point runs once per seed
    workload: {width: 16, steps: 300}    # fixed values for every trial
    resources: {cpu: 1}                  # what each trial asks Ray for

Every error is a SpecError that names the file (or the --set override), the line where YAML
gives one, and the dotted key.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import math
import re
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workloads import REGISTRY, Experiment
from workloads.config import parse_config, to_data

SWEEP_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
"""Sweep names become file names in the store: letters, digits, '_', '.', '-', no path parts."""

DEFAULT_MAX_TRIALS = 100_000


def one_line(text: str) -> str:
    """`text` with newlines and other control characters escaped, so it prints as one line."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


class SpecError(Exception):
    """A sweep file or override that cannot run. str() is the one-line message for the user."""

    def __init__(self, source: str, key: str, message: str, line: int | None = None) -> None:
        self.source, self.key, self.message, self.line = source, key, message, line
        where = f"{source}:{line}" if line else source
        # Keys and values come from the user's file: escape them, never let them break the line.
        super().__init__(one_line(f"{where}: {key}: {message}" if key else f"{where}: {message}"))


class ResourceError(Exception):
    """No node of the Ray cluster could ever run a trial: names the spec key and the shortfall."""

    def __init__(self, key: str, message: str) -> None:
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Resources(_Strict):
    """What each trial asks Ray for. Fractional GPUs let several trials share one device."""

    cpu: float = Field(1.0, gt=0)
    """CPUs per trial; torch in the trial uses this many threads (at least 1)"""
    gpu: float = Field(0.0, ge=0)
    """GPUs per trial; 0.25 packs four trials on one GPU"""
    custom: dict[str, float] = Field(default_factory=dict)
    """Ray custom resources per trial, e.g. {big_memory: 1}"""


class Execution(_Strict):
    """How the sweep is scheduled, as opposed to what each trial computes."""

    max_concurrent_trials: int | None = Field(None, gt=0)
    """cap on batches running at once; null lets the resources decide"""
    max_failures: int = Field(2, ge=0)
    """retries of a batch whose worker died (from its checkpoint, its reported trials skipped),
    before its unfinished trials are recorded as crashed"""
    checkpoint_every_steps: int = Field(1000, gt=0)
    """steps between a trial's checkpoints: a crashed or interrupted trial resumes from the last"""
    checkpoint_min_interval_s: float = Field(30.0, ge=0)
    """a batch writes a checkpoint at most this often: each costs a round trip through Tune and a
    directory on its storage (about half a second), more than short trials are worth redoing. A
    crash loses at most this much work beyond checkpoint_every_steps; 0 checkpoints at every chance"""
    max_trials: int = Field(DEFAULT_MAX_TRIALS, gt=0)
    """a sweep that expands to more trials than this is refused (raise it on purpose)"""
    pack: int = Field(1, gt=0)
    """grid points trained together as one stacked model inside one Ray trial (same net shape);
    1 runs each trial alone. Each packed trial still writes its own rows, as if run alone"""
    batch_size: int | None = Field(None, gt=0)
    """trials per batch (one Ray Tune trial runs a batch, one unit after another); null sizes
    batches from an estimate of each trial's work: about 30 s each, at most 400 per sweep"""
    flush_every_s: float = Field(30.0, ge=0)
    """seconds finished trials wait in the driver before the first flush writes them together (one
    part file per table); later flushes wait longer, see flush_growth"""
    flush_growth: float = Field(0.2, ge=0, le=1)
    """each flush waits at least this fraction of the launch's time so far (and flush_every_s), so
    a launch of any length writes tens of flushes, not thousands, and nothing has to merge them
    under a reader; a killed driver loses at most that share of the launch's finished work"""
    compile: Literal["default", "reduce-overhead", "max-autotune"] | None = None
    """torch.compile the net's forward pass with this mode ('reduce-overhead' adds CUDA graphs on
    a GPU); null runs eagerly. Results equal the eager ones up to float rounding"""


RESOLVED_KEY = "resolved_workload"
"""The key of a stored spec (see SweepSpec.stored_form) that holds its fixed config as the
experiment's code resolved it."""

VERSION_KEY = "experiment_version"
"""The key of a stored spec that holds the version of the experiment's code that computed its
trials (Experiment.version); a spec stored without it was computed by version 1."""


class SweepSpec(_Strict):
    """A whole sweep: which experiment, which grid and seeds, fixed values, resources."""

    name: str = Field(pattern=SWEEP_NAME_PATTERN)
    """the sweep's name in the store; part of every trial id"""
    experiment: str
    """a workload name from workloads.REGISTRY"""
    description: str = ""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """axis name -> values; axis names are fields of the experiment's config"""
    seeds: list[int] = Field(default_factory=lambda: [0])
    """every grid point runs once per seed"""
    workload: dict[str, Any] = Field(default_factory=dict)
    """fixed config values for every trial; unset fields take the experiment's defaults"""
    resources: Resources = Field(default_factory=Resources)
    execution: Execution = Field(default_factory=Execution)

    @property
    def experiment_entry(self) -> Experiment:
        """The registry entry of this sweep's experiment."""
        return REGISTRY[self.experiment]

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain JSON-able data."""
        return self.model_dump(mode="json")

    def stored_form(self) -> dict[str, Any]:
        """The spec as the store keeps it: as written, and its fixed config as the experiment's code
        resolves it today (defaults filled in) and the experiment's version, so a later launch sees a
        change of the code's defaults, fields or computation as a change of what the trials compute."""
        fixed = resolve_config(self, {}, 0)
        resolved = {k: v for k, v in fixed.items() if k not in self.grid and k != "seed"}
        return {**self.to_dict(), RESOLVED_KEY: resolved, VERSION_KEY: self.experiment_entry.version}


# --- YAML ---------------------------------------------------------------------------------------


class _SweepLoader(yaml.SafeLoader):
    """Safe loader (no Python objects) that also reads `1e-3` as a float, as YAML 1.2 does."""


_SweepLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _line_index(node: yaml.Node, prefix: str, lines: dict[str, int], source: str) -> None:
    """Record the 1-based line of every dotted key under `node`; reject duplicate keys."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            path = f"{prefix}.{key}" if prefix else key
            if key in seen:
                raise SpecError(source, path, "duplicate key", key_node.start_mark.line + 1)
            seen.add(key)
            lines[path] = key_node.start_mark.line + 1
            _line_index(value_node, path, lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[f"{prefix}[{i}]"] = item.start_mark.line + 1
            _line_index(item, f"{prefix}[{i}]", lines, source)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """YAML text -> (data, {dotted key: line}). Syntax errors become a SpecError with the line."""
    try:
        root = yaml.compose(text, Loader=_SweepLoader)
        lines: dict[str, int] = {}
        if root is not None:
            _line_index(root, "", lines, source)
        return yaml.load(text, Loader=_SweepLoader), lines
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        if isinstance(error, yaml.constructor.ConstructorError):
            # Safe loading refuses tags such as !!python/object: a sweep file is plain data.
            raise SpecError(source, "", f"YAML tag not allowed in a sweep file: {error.problem}", line) from None
        raise SpecError(source, "", f"YAML syntax error: {error.problem or error}", line) from None
    except yaml.YAMLError as error:
        raise SpecError(source, "", f"YAML error: {error}") from None


# --- overrides ----------------------------------------------------------------------------------


def apply_override(raw: dict[str, Any], override: str, file: str) -> str:
    """Set one `dotted.key=value` override in `raw` (in place); return the dotted key.

    The value is read as YAML, so `--set workload.steps=500` sets an int and
    `--set grid.k=[50,100]` a list. Errors name `file` and the override.
    """
    source = f"{file} (--set {override})"
    key, sep, text = override.partition("=")
    key = key.strip()
    if not sep or not key or any(not part for part in key.split(".")):
        raise SpecError(source, key, "overrides look like dotted.key=value")
    value, _ = parse_yaml(text, source)
    node = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise SpecError(source, ".".join(parts[: depth + 1]), "is not a mapping, so it has no sub-keys")
        node = child
    node[parts[-1]] = value
    return key


# --- validation ---------------------------------------------------------------------------------


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _suggest(key: str, valid: list[str], noun: str = "valid keys") -> str:
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else f" ({noun}: {', '.join(sorted(valid))})"


class _Context:
    """Where a dotted key came from: a line of the file, or a --set override."""

    def __init__(self, source: str, lines: dict[str, int], overridden: dict[str, str]) -> None:
        self.source, self.lines, self.overridden = source, lines, overridden

    def error(self, key: str, message: str) -> SpecError:
        for prefix, override in self.overridden.items():
            if key == prefix or key.startswith(prefix + ".") or key.startswith(prefix + "["):
                return SpecError(f"{self.source} (--set {override})", key, message)
        line = self.lines.get(key)
        parent = key
        while line is None and parent:
            parent = parent.rpartition(".")[0] if "." in parent else ""
            line = self.lines.get(parent)
        return SpecError(self.source, key, message, line)

    def from_validation(self, error: ValidationError, prefix: tuple[Any, ...], valid: list[str]) -> SpecError:
        first = error.errors()[0]
        key = _dotted(prefix + tuple(first["loc"]))
        message = first["msg"]
        if first["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
            message = f"unknown key{_suggest(str(first['loc'][-1]), valid)}"
        elif first["type"] == "missing":
            message = "required key is missing"
        elif "input" in first and first["type"] not in {"dict_type", "model_type"}:
            message = f"{message}, got {first['input']!r}"
        more = len(error.errors()) - 1
        return self.error(key, message + (f" (and {more} more error{'s' * (more > 1)})" if more else ""))


def validate_spec(raw: Any, source: str, lines: dict[str, int] | None = None, overridden: dict[str, str] | None = None) -> SweepSpec:
    """Raw YAML data -> a SweepSpec whose every trial is a valid config of its experiment."""
    context = _Context(source, lines or {}, overridden or {})
    if not isinstance(raw, dict):
        raise context.error("", "a sweep file is a mapping with at least 'name' and 'experiment'")
    experiment = raw.get("experiment")
    if isinstance(experiment, str) and experiment not in REGISTRY:
        raise context.error("experiment", f"unknown experiment '{experiment}'{_suggest(experiment, list(REGISTRY), 'known experiments')}")
    unknown = sorted(map(str, set(raw) - set(SweepSpec.model_fields)))
    if unknown:
        raise context.error(unknown[0], f"unknown key{_suggest(unknown[0], list(SweepSpec.model_fields))}")
    if isinstance(raw.get("grid"), dict):
        raw = {**raw, "grid": {axis: _axis_values(str(axis), values, context) for axis, values in raw["grid"].items()}}
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as error:
        nested = {"resources": list(Resources.model_fields), "execution": list(Execution.model_fields)}
        loc0 = error.errors()[0]["loc"][0] if error.errors()[0]["loc"] else ""
        raise context.from_validation(error, (), nested.get(str(loc0), list(SweepSpec.model_fields))) from None
    spec = _validate_workload(spec, context)
    _validate_trials(spec, context)
    return spec


AXIS_RANGES = ("linspace", "logspace")
"""Grid axes may be written as a range instead of a list: {linspace: [start, stop, num]} (num
evenly spaced values, both ends included, as numpy.linspace) or {logspace: [start, stop, num]}
(10 ** each of those, as numpy.logspace). Whole values between whole bounds come out as ints, so
`L: {linspace: [0, 20, 5]}` is 0, 5, 10, 15, 20."""


def _axis_values(axis: str, values: Any, context: _Context) -> Any:
    """An axis as its list of values: a range ({linspace: ...}, {logspace: ...}) expanded, a list as is."""
    if not isinstance(values, dict):
        return values  # a list, or something SweepSpec's own validation names
    key = f"grid.{axis}"
    if len(values) != 1 or next(iter(values)) not in AXIS_RANGES:
        raise context.error(key, "an axis is a list of values, or one of {linspace: [start, stop, num]}, {logspace: [start, stop, num]}")
    kind, bounds = next(iter(values.items()))
    numbers = isinstance(bounds, list) and len(bounds) == 3 and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if not numbers or not all(math.isfinite(b) for b in bounds) or not isinstance(bounds[2], int) or bounds[2] < 1:
        raise context.error(f"{key}.{kind}", f"needs [start, stop, num]: two finite numbers and a count of at least 1, got {bounds!r}")
    start, stop, num = bounds
    # numpy.linspace's arithmetic, step by step, so the values are the ones numpy would give.
    step = (stop - start) / (num - 1) if num > 1 else 0.0
    points = [float(start + i * step) for i in range(num - 1)] + [float(stop if num > 1 else start)]
    values = [10.0**p for p in points] if kind == "logspace" else points
    if isinstance(start, int) and isinstance(stop, int) and all(v.is_integer() for v in values):
        return [int(v) for v in values]  # whole numbers between whole bounds: an integer axis works too
    return values


def _validate_trials(spec: SweepSpec, context: _Context) -> None:
    """Checks that need the expanded grid: its size and the experiment's cross-field rules."""
    points = grid_points(spec.grid)
    n_trials = len(spec.seeds) * len(points)
    if n_trials > spec.execution.max_trials:
        raise context.error(
            "execution.max_trials",
            f"the sweep expands to {n_trials} trials, more than max_trials={spec.execution.max_trials}; "
            f"raise it (--set execution.max_trials={n_trials}) if you mean it",
        )
    if spec.execution.pack > 1 and not spec.experiment_entry.trains_one_net:
        raise context.error("execution.pack", f"experiment '{spec.experiment}' cannot be packed (it trains no net per trial); use 1")
    if spec.execution.compile and not spec.experiment_entry.trains_one_net:
        raise context.error("execution.compile", f"experiment '{spec.experiment}' trains no net per trial, so there is nothing to compile; use null")
    config_type, constraints = spec.experiment_entry.config, spec.experiment_entry.constraints
    for point in points:  # the seed never makes a config impossible: one seed checks them all
        for field, why in constraints(config_type(**resolve_config(spec, point, spec.seeds[0]))).items():
            raise context.error(f"grid.{field}" if field in spec.grid else f"workload.{field}", why)


def _validate_workload(spec: SweepSpec, context: _Context) -> SweepSpec:
    """Check the fixed values and every axis value against the experiment's config; return the
    spec with them normalized to the config's types (1 -> 1.0 for a float), so that two spellings
    of one value never make two trial ids."""
    config_type = spec.experiment_entry.config
    fields = [f.name for f in dataclasses.fields(config_type) if f.name != "seed"]
    if "seed" in spec.workload or "seed" in spec.grid:
        where = "workload.seed" if "seed" in spec.workload else "grid.seed"
        raise context.error(where, "seeds are set with the top-level 'seeds' list")
    try:
        fixed = to_data(parse_config(config_type, spec.workload))
    except ValidationError as error:
        raise context.from_validation(error, ("workload",), fields) from None
    if len(spec.seeds) != len(set(spec.seeds)):
        raise context.error("seeds", f"duplicate seeds in {spec.seeds}")
    if not spec.seeds:
        raise context.error("seeds", "needs at least one seed")
    grid: dict[str, list[Any]] = {}
    for axis, values in spec.grid.items():
        key = f"grid.{axis}"
        if axis not in fields:
            raise context.error(key, f"unknown axis{_suggest(axis, fields)}")
        if axis in spec.workload:
            raise context.error(key, f"'{axis}' is both a grid axis and a fixed workload value; keep one")
        if not values:
            raise context.error(key, "an axis needs at least one value")
        grid[axis] = []
        for i, value in enumerate(values):
            try:
                grid[axis].append(to_data(parse_config(config_type, {**spec.workload, axis: value}))[axis])
            except ValidationError as error:
                raise context.error(f"{key}[{i}]", f"{error.errors()[0]['msg']}, got {value!r}") from None
        canonical = [json.dumps(v, sort_keys=True) for v in grid[axis]]
        duplicates = sorted({v for v in canonical if canonical.count(v) > 1})
        if duplicates:
            raise context.error(key, f"duplicate values {', '.join(duplicates)}")
    return spec.model_copy(update={"workload": {k: fixed[k] for k in spec.workload}, "grid": grid})


# --- the grid -----------------------------------------------------------------------------------


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of the axes, in the order they are written; {} is one empty point."""
    axes = list(grid)
    return [dict(zip(axes, values)) for values in itertools.product(*(grid[a] for a in axes))]


@cache
def _defaults(config_type: type) -> dict[str, Any]:
    return to_data(config_type())


def resolve_config(spec: SweepSpec, point: dict[str, Any], seed: int) -> dict[str, Any]:
    """The full config of one grid point, JSON-like: experiment defaults <- spec.workload <- point
    <- seed (every value already normalized by validate_spec)."""
    defaults = _defaults(spec.experiment_entry.config)
    merged = {**defaults, **spec.workload, **point, "seed": seed}
    return {key: merged[key] for key in defaults}


def load_spec(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> SweepSpec:
    """Read, override and validate a sweep file. Raises SpecError with a one-line message."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(source, "", f"cannot read sweep file: {getattr(error, 'strerror', None) or error}") from None
    raw, lines = parse_yaml(text, source)
    if raw is None:
        raw = {}
    overridden: dict[str, str] = {}
    for override in overrides:
        if not isinstance(raw, dict):
            break  # validate_spec names the real problem: the file is not a mapping
        overridden[apply_override(raw, override, source)] = override
    return validate_spec(raw, source, lines, overridden)
