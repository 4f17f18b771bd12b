"""The sweep file: one typed spec, loaded from YAML, validated at the edge.

A sweep file says what to run; nothing else in sbsweep reads YAML. Example (sweeps/smoke.yaml):

    name: smoke
    experiment: manifold_classification
    grid: {k: [5, 40], L: [0, 8]}        # axes: the cartesian product is the grid (grid.py: unions, zips)
    seeds: [0]                           # every grid point runs once per seed
    workload: {width: 16, steps: 300}    # fixed values for every trial
    resources: {cpu: 1}                  # what each trial asks Ray for

Every error is a SpecError that names the file (or the --set override), the line where YAML
gives one, and the dotted key.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import typing
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, TypeAdapter, ValidationError, ValidationInfo, field_validator

from orchestrator import grid as grids
from orchestrator.grid import GridError
from results_schema import SWEEP_NAME_PATTERN
from workloads import REGISTRY, Experiment
from workloads.config import parse_config, to_data

DEFAULT_MAX_TRIALS = 100_000
MAX_INT64 = 2**63 - 1
"""The largest whole number the store's 64-bit integer columns hold (seeds, and every whole
config value)."""
MAX_SWEEP_FILE_BYTES = 1_000_000
"""A sweep file is a page of YAML; a bigger one is refused before it is parsed."""
MAX_YAML_NODES = 200_000
"""Values a sweep file may hold once its aliases (*name) are expanded: a few aliases can otherwise
expand to billions ('billion laughs') and take the machine's memory."""
MAX_SHOWN_CHARS = 80
"""An error quotes at most this much of a bad value, so it stays one readable line."""


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
    """No node of the Ray cluster could ever run a trial: names the spec key and the shortfall (and,
    where several sweeps launch together, the sweep)."""

    def __init__(self, key: str, message: str, sweep: str | None = None) -> None:
        self.key, self.message, self.sweep = key, message, sweep
        super().__init__(f"{key}: {message}" + (f" (sweep '{sweep}')" if sweep else ""))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


RESOURCE_UNIT = 1e-4
"""Ray counts resources in units of 0.0001: a smaller non-zero amount is refused when the first
trial is scheduled, so the sweep file's check refuses it first."""


def _resource_amount(key: str, amount: float) -> float:
    if amount < 0:
        raise ValueError(f"{key} cannot be negative, got {amount!r}")
    if 0 < amount < RESOURCE_UNIT:
        raise ValueError(f"{key} is counted by Ray in units of {RESOURCE_UNIT:g}: use 0 or at least {RESOURCE_UNIT:g}, got {amount!r}")
    return amount


class Resources(_Strict):
    """What each trial asks Ray for. Fractional GPUs let several trials share one device."""

    cpu: float = Field(1.0, gt=0, le=1e6)
    """CPUs per trial; torch in the trial uses this many threads (at least 1)"""
    gpu: float = Field(0.0, ge=0, le=1e6)
    """GPUs per trial; 0.25 packs four trials on one GPU"""
    custom: dict[str, float] = Field(default_factory=dict)
    """Ray custom resources per trial, e.g. {big_memory: 1}"""

    @field_validator("cpu", "gpu")
    @classmethod
    def _countable(cls, amount: float, info: ValidationInfo) -> float:
        return _resource_amount(str(info.field_name), amount)

    @field_validator("custom")
    @classmethod
    def _custom(cls, custom: dict[str, float]) -> dict[str, float]:
        for name, amount in custom.items():
            if not name or name in ("CPU", "GPU", "cpu", "gpu", "memory", "object_store_memory"):
                raise ValueError(f"custom resource {name!r} is not a custom resource's name (CPUs and GPUs are resources.cpu and resources.gpu)")
            if amount > 1e6:
                raise ValueError(f"custom resource {name!r}: {amount!r} is more than any node has")
            _resource_amount(f"custom resource {name!r}", amount)
        return custom


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
    flush_every_s: float = Field(60.0, ge=0, le=86_400)
    """seconds finished trials wait in the driver before a flush writes them together (one part
    file per table): every reader sees a finished trial within about this long, and a killed
    driver loses at most this much finished work; the launch merges its parts when it ends"""
    compile: Literal["default", "reduce-overhead", "max-autotune"] | None = None
    """torch.compile each training step's forward pass and loss with this mode ('reduce-overhead'
    adds CUDA graphs on a GPU); null runs eagerly. Results equal the eager ones up to float
    rounding; the trials table's compile_s says what compiling cost"""
    matmul_precision: Literal["highest", "high", "medium"] = "highest"
    """torch's float32 matmul precision on the workers: 'highest' (full float32, no TF32 on a GPU,
    whatever the image's environment sets) keeps GPU results within rounding of the CPU's; 'high'
    lets an NVIDIA GPU use TF32, faster, with about 3 decimal digits per matmul. Recorded per trial"""


RESOLVED_KEY = "resolved_workload"
"""The key of a stored spec (see SweepSpec.stored_form) that holds its fixed config as the
experiment's code resolved it."""

OVERRIDES_KEY = "overrides"
"""The key of a stored spec that holds the `--set` overrides its last launch applied to the sweep
file (what they set is in the spec itself), for the report."""

VERSION_KEY = "experiment_version"
"""The key of a stored spec that holds the version of the experiment's code that computed its
trials (Experiment.version); a spec stored without it was computed by version 1."""


class SweepSpec(_Strict):
    """A whole sweep: which experiment, which grid and seeds, fixed values, resources."""

    _overrides: tuple[str, ...] = PrivateAttr(default=())
    """the `--set` overrides load_spec applied to the sweep file (not part of the spec's meaning)"""

    name: str = Field(pattern=SWEEP_NAME_PATTERN)
    """the sweep's name in the store; part of every trial id"""
    experiment: str
    """a workload name from workloads.REGISTRY"""
    description: str = ""
    grid: dict[str, Any] | list[dict[str, Any]] = Field(default_factory=dict)
    """axis name -> values (their product), or a list of such grids (their union), with axes
    paired under `zip:` (grid.py); axis names are fields of the experiment's config"""
    seeds: list[Annotated[int, Field(ge=0, le=MAX_INT64)]] = Field(default_factory=lambda: [0])
    """every grid point runs once per seed (whole numbers from 0 to 2^63 - 1: the store keeps them as 64-bit integers)"""
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
        axes = set(grids.fields(self.grid))
        resolved = {k: v for k, v in fixed.items() if k not in axes and k != "seed"}
        stored = {**self.to_dict(), RESOLVED_KEY: resolved, VERSION_KEY: self.experiment_entry.version}
        return {**stored, OVERRIDES_KEY: list(self._overrides)} if self._overrides else stored


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


def _expanded_size(root: yaml.Node, source: str) -> int:
    """How many values the document holds once its aliases are expanded; a SpecError for an alias
    inside its own anchor (a value that contains itself). Each shared node is counted once per
    use but walked once, so this is fast however far aliases expand."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in on_path:
            raise SpecError(source, "", "a YAML alias refers to the value it is part of (a value that contains itself)", node.start_mark.line + 1)
        on_path.add(id(node))
        children = [child for pair in node.value for child in pair] if isinstance(node, yaml.MappingNode) else (
            node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1 + sum(size(child) for child in children)
        on_path.discard(id(node))
        sizes[id(node)] = total
        return total

    return size(root)


def parse_yaml(text: str, source: str) -> tuple[Any, dict[str, int]]:
    """YAML text -> (data, {dotted key: line}). Syntax errors become a SpecError with the line;
    so do a file too large, aliases that expand past MAX_YAML_NODES values or contain themselves,
    and nesting too deep to read."""
    if len(text) > MAX_SWEEP_FILE_BYTES:
        raise SpecError(source, "", f"{len(text)} characters: a sweep file is at most {MAX_SWEEP_FILE_BYTES}")
    try:
        root = yaml.compose(text, Loader=_SweepLoader)
        lines: dict[str, int] = {}
        if root is not None:
            expanded = _expanded_size(root, source)
            if expanded > MAX_YAML_NODES:
                raise SpecError(source, "", f"its aliases (*name) expand to {expanded} values, more than the {MAX_YAML_NODES} a sweep file may hold")
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
        raise SpecError(source, "", f"YAML error: {shorten(str(error))}") from None
    except RecursionError:
        raise SpecError(source, "", "values nested too deeply to read") from None


def shorten(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """`text` cut to `limit` characters (with '...'), so an error quoting it stays one short line."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown(value: Any) -> str:
    """A user's value as an error quotes it: its repr, shortened."""
    try:
        return shorten(repr(value))
    except RecursionError:
        return "<a value that contains itself>"


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
            message = f"{shorten(message)}, got {shown(first['input'])}"
        else:
            message = shorten(message, 4 * MAX_SHOWN_CHARS)
        more = len(error.errors()) - 1
        return self.error(key, message + (f" (and {more} more error{'s' * (more > 1)})" if more else ""))


def _refuse_before_expanding(raw: dict[str, Any], context: _Context) -> None:
    """The max_trials check on the grid as written, its ranges counted before any is made."""
    execution = raw.get("execution") if isinstance(raw.get("execution"), dict) else {}
    limit = execution.get("max_trials", DEFAULT_MAX_TRIALS)
    seeds = raw.get("seeds", [0])
    counted = grids.counted_size(raw["grid"])
    if counted is None or not isinstance(limit, int) or not isinstance(seeds, list):
        return  # the form is checked next, and says what is wrong
    n_trials = counted * max(len(seeds), 1)
    if n_trials > limit:
        raise context.error(
            "execution.max_trials",
            f"the sweep expands to {n_trials} trials, more than max_trials={limit}; raise it (--set execution.max_trials={n_trials}) if you mean it",
        )


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
    if "grid" in raw:
        _refuse_before_expanding(raw, context)
        try:
            raw = {**raw, "grid": grids.structure(raw["grid"])}
        except GridError as error:
            raise context.error(error.key, error.message) from None
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as error:
        nested = {"resources": list(Resources.model_fields), "execution": list(Execution.model_fields)}
        loc0 = error.errors()[0]["loc"][0] if error.errors()[0]["loc"] else ""
        raise context.from_validation(error, (), nested.get(str(loc0), list(SweepSpec.model_fields))) from None
    n_trials = len(spec.seeds) * grids.size(spec.grid)
    if n_trials > spec.execution.max_trials:  # before anything is expanded: a product can be astronomically large
        raise context.error(
            "execution.max_trials",
            f"the sweep expands to {n_trials} trials, more than max_trials={spec.execution.max_trials}; "
            f"raise it (--set execution.max_trials={n_trials}) if you mean it",
        )
    spec = _validate_workload(spec, context)
    _validate_trials(spec, context)
    return spec


def _validate_trials(spec: SweepSpec, context: _Context) -> None:
    """Checks that need the expanded grid: the experiment's cross-field rules."""
    points = grids.points(spec.grid)
    axes = set(grids.fields(spec.grid))
    if spec.execution.pack > 1 and not spec.experiment_entry.trains_one_net:
        raise context.error("execution.pack", f"experiment '{spec.experiment}' cannot be packed (it trains no net per trial); use 1")
    if spec.execution.compile and not spec.experiment_entry.trains_one_net:
        raise context.error("execution.compile", f"experiment '{spec.experiment}' trains no net per trial, so there is nothing to compile; use null")
    config_type, constraints = spec.experiment_entry.config, spec.experiment_entry.constraints
    for point in points:  # the seed never makes a config impossible: one seed checks them all
        for field, why in constraints(config_type(**resolve_config(spec, point, spec.seeds[0]))).items():
            raise context.error(f"grid.{field}" if field in axes else f"workload.{field}", why)


@cache
def _axis_adapter(config_type: type, axis: str) -> TypeAdapter:
    """A validator of a whole axis of `config_type`'s field `axis`: a list of that field's type,
    strict as parse_config is."""
    field_type = typing.get_type_hints(config_type, include_extras=True)[axis]
    return TypeAdapter(list[field_type], config=ConfigDict(strict=True, allow_inf_nan=False))  # type: ignore[valid-type]


def _check_int64(value: Any, key: str, context: _Context) -> None:
    """A SpecError unless every whole number in `value` fits the store's 64-bit integer columns."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_int64(item, f"{key}[{i}]", context)
    elif isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT64 - 1 <= value <= MAX_INT64:
        raise context.error(key, f"{shown(value)} does not fit a 64-bit integer (at most {MAX_INT64})")


def _validate_workload(spec: SweepSpec, context: _Context) -> SweepSpec:
    """Check the fixed values and every axis value against the experiment's config; return the
    spec with them normalized to the config's types (1 -> 1.0 for a float), so that two spellings
    of one value never make two trial ids."""
    config_type = spec.experiment_entry.config
    fields = [f.name for f in dataclasses.fields(config_type) if f.name != "seed"]
    if "seed" in spec.workload or "seed" in grids.fields(spec.grid):
        where = "workload.seed" if "seed" in spec.workload else "grid.seed"
        raise context.error(where, "seeds are set with the top-level 'seeds' list")
    try:
        fixed = to_data(parse_config(config_type, spec.workload))
    except ValidationError as error:
        raise context.from_validation(error, ("workload",), fields) from None
    for field in spec.workload:
        _check_int64(fixed[field], f"workload.{field}", context)
    duplicate_seeds = sorted(seed for seed, count in Counter(spec.seeds).items() if count > 1)
    if duplicate_seeds:
        raise context.error("seeds", f"duplicate seeds {shorten(str(duplicate_seeds))}")
    if not spec.seeds:
        raise context.error("seeds", "needs at least one seed")
    def axis(key: str, axis: str, values: Any) -> list[Any]:
        if axis not in fields:
            raise context.error(key, f"unknown axis{_suggest(axis, fields)}")
        if axis in spec.workload:
            raise context.error(key, f"'{axis}' is both a grid axis and a fixed workload value; keep one")
        if not values:
            raise context.error(key, "an axis needs at least one value")
        try:  # one validation of the whole axis: linear in its length, whatever it holds
            adapter = _axis_adapter(config_type, axis)
            checked = json.loads(json.dumps(adapter.dump_python(adapter.validate_json(json.dumps(values, allow_nan=True), strict=True), mode="json")))
        except ValidationError as error:
            first = error.errors()[0]
            index = first["loc"][0] if first["loc"] else 0
            value = values[index] if isinstance(index, int) and isinstance(values, list) and index < len(values) else None
            raise context.error(f"{key}[{index}]", f"{shorten(first['msg'])}, got {shown(value)}") from None
        for i, value in enumerate(checked):
            _check_int64(value, f"{key}[{i}]", context)
        if f".{grids.ZIP}" not in key:  # a zipped axis may repeat a value: its pairs are checked below
            _no_duplicates(key, checked, context)
        return checked

    grid = grids.map_axes(spec.grid, axis)
    for key, part in grids.parts(grid):
        if grids.ZIP in part:
            for group_key, group in grids.zip_groups(key, part[grids.ZIP]):
                _no_duplicates(group_key, [list(pair) for pair in zip(*group.values())], context, what="pairs")
    return spec.model_copy(update={"workload": {k: fixed[k] for k in spec.workload}, "grid": grid})


def _no_duplicates(key: str, values: list[Any], context: _Context, what: str = "values") -> None:
    seen = Counter(json.dumps(v, sort_keys=True) for v in values)
    duplicates = sorted(v for v, count in seen.items() if count > 1)
    if duplicates:
        raise context.error(key, f"duplicate {what} {shorten(', '.join(duplicates), 4 * MAX_SHOWN_CHARS)}")


# --- the grid -----------------------------------------------------------------------------------


@cache
def _defaults(config_type: type) -> dict[str, Any]:
    return to_data(config_type())


def resolve_config(spec: SweepSpec, point: dict[str, Any], seed: int) -> dict[str, Any]:
    """The full config of one grid point, JSON-like: experiment defaults <- spec.workload <- point
    <- seed (every value already normalized by validate_spec), with the fields whose default
    depends on others filled in (Experiment.resolve)."""
    defaults = _defaults(spec.experiment_entry.config)
    merged = {**defaults, **spec.workload, **point, "seed": seed}
    return spec.experiment_entry.resolve({key: merged[key] for key in defaults})


def read_yaml_file(path: str | Path, what: str = "sweep file") -> tuple[Any, dict[str, int]]:
    """A YAML file's data and {dotted key: line} (parse_yaml); SpecError if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(str(path), "", f"cannot read {what}: {getattr(error, 'strerror', None) or error}") from None
    return parse_yaml(text, str(path))


def load_spec(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> SweepSpec:
    """Read, override and validate a sweep file. Raises SpecError with a one-line message."""
    source = str(path)
    raw, lines = read_yaml_file(path)
    if raw is None:
        raw = {}
    overridden: dict[str, str] = {}
    for override in overrides:
        if not isinstance(raw, dict):
            break  # validate_spec names the real problem: the file is not a mapping
        overridden[apply_override(raw, override, source)] = override
    spec = validate_spec(raw, source, lines, overridden)
    spec._overrides = tuple(overrides)
    return spec
