"""A sweep's grid: the forms a sweep file may write it in, and the points they make. Pure: no I/O.

    grid: {k: [50, 100], L: [0, 20]}                  # a product of axes: 2 x 2 = 4 points

    grid:                                             # a union of products (a list of grids): 2 + 6 points
      - {encoding: [none], activation: [relu, sine]}
      - {encoding: [fourier], fourier_scale: [1, 3, 10], activation: [relu, sine]}

    grid:                                             # zipped axes, paired value by value: 2 x 2 points
      activation: [relu, sine]
      zip: {learning_rate: [1.0e-4, 3.0e-4], steps: [16000, 8000]}

A product crosses every axis with every other. A union runs each of its grids (a point two of them
share runs once). A `zip:` inside a grid pairs its axes' values in order (all of one length) and
crosses the pairs with the grid's other axes; `zip:` may also be a list of such groups. An axis is
a list of values or a range, {linspace: [start, stop, num]} or {logspace: [start, stop, num]}, whose
values are exactly numpy's (numpy.linspace, numpy.logspace); whole values between whole bounds come
out as ints, so `L: {linspace: [0, 20, 5]}` is 0, 5, 10, 15, 20.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

ZIP = "zip"
"""The key of a grid whose value pairs axes instead of crossing them."""
RANGES = ("linspace", "logspace")
MAX_AXIS_VALUES = 10_000_000
"""The most values a range may make: more would take the memory before max_trials could refuse the sweep."""

Grid = dict[str, Any] | list[dict[str, Any]]


class GridError(ValueError):
    """A grid written in no form sbsweep reads: `key` is the dotted key of the part at fault."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key, self.message = key, message


def parts(grid: Grid) -> list[tuple[str, dict[str, Any]]]:
    """The products a grid is the union of, each with its dotted key: one for a mapping."""
    return [(f"grid[{i}]", part) for i, part in enumerate(grid)] if isinstance(grid, list) else [("grid", grid)]


def zip_groups(key: str, value: Any) -> list[tuple[str, Any]]:
    """The groups of axes a grid's `zip:` pairs (a mapping, or a list of them), each with its dotted key."""
    return [(f"{key}.{ZIP}[{i}]", group) for i, group in enumerate(value)] if isinstance(value, list) else [(f"{key}.{ZIP}", value)]


def _part_entries(key: str, part: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for axis, values in part.items():
        if axis == ZIP:
            for group_key, group in zip_groups(key, values):
                for name, group_values in group.items():
                    yield f"{group_key}.{name}", name, group_values
        else:
            yield f"{key}.{axis}", axis, values


def axis_entries(grid: Grid) -> Iterator[tuple[str, str, Any]]:
    """Every axis of the grid as (its dotted key, its name, its values), zipped ones included."""
    for key, part in parts(grid):
        yield from _part_entries(key, part)


def map_axes(grid: Grid, change: Callable[[str, str, Any], Any]) -> Grid:
    """The grid in the same form, each axis's values replaced by change(key, name, values)."""
    def one(key: str, part: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for axis, values in part.items():
            if axis != ZIP:
                out[axis] = change(f"{key}.{axis}", axis, values)
                continue
            groups = [{name: change(f"{group_key}.{name}", name, v) for name, v in group.items()} for group_key, group in zip_groups(key, values)]
            out[ZIP] = groups if isinstance(values, list) else groups[0]
        return out

    mapped = [one(key, part) for key, part in parts(grid)]
    return mapped if isinstance(grid, list) else mapped[0]


def structure(grid: Any) -> Grid:
    """`grid` as written in a sweep file, checked to be one of the forms above, its ranges expanded.
    Raises GridError naming the first part at fault. The values themselves are checked later,
    against the experiment's config."""
    if isinstance(grid, list):
        if not grid:
            raise GridError("grid", "a list of grids needs at least one grid")
        for key, part in parts(grid):
            if not isinstance(part, dict):
                raise GridError(key, "each grid of a list is a mapping of axes to values")
    elif not isinstance(grid, dict):
        raise GridError("grid", "a mapping of axes to values, or a list of such mappings (their union)")
    for key, part in parts(grid):
        if ZIP in part:
            groups = part[ZIP]
            if not (isinstance(groups, dict) or (isinstance(groups, list) and groups and all(isinstance(g, dict) for g in groups))):
                raise GridError(f"{key}.{ZIP}", "zipped axes are a mapping of axes to values (or a list of such mappings)")
    grid = map_axes(grid, lambda key, axis, values: expand_range(key, values))
    for key, part in parts(grid):
        named: dict[str, str] = {}
        for axis_key, axis, _ in _part_entries(key, part):
            if axis in named:
                raise GridError(axis_key, f"axis '{axis}' is given twice in one grid (also as {named[axis]}); a grid names each axis once")
            named[axis] = axis_key
        if ZIP in part:
            for group_key, group in zip_groups(key, part[ZIP]):
                if not group:
                    raise GridError(group_key, "zipped axes need at least one axis")
                lengths = {name: len(values) for name, values in group.items() if isinstance(values, list)}
                if len(set(lengths.values())) > 1:
                    raise GridError(group_key, "zipped axes pair their values in order, so they need as many each: "
                                    + ", ".join(f"{name} has {count}" for name, count in lengths.items()))
    return grid


def counted_size(grid: Any) -> int | None:
    """How many points the grid as written would make, its ranges counted, not made (so that no
    sweep file can take the memory before max_trials refuses it); None where its form is not one
    `structure` reads (it then says what is wrong)."""
    def count(values: Any) -> int | None:
        if isinstance(values, list):
            return len(values)
        if isinstance(values, dict) and len(values) == 1 and next(iter(values)) in RANGES:
            bounds = next(iter(values.values()))
            if isinstance(bounds, list) and len(bounds) == 3 and isinstance(bounds[2], int) and not isinstance(bounds[2], bool) \
                    and 1 <= bounds[2] <= MAX_AXIS_VALUES:
                return bounds[2]
        return None

    total = 0
    for _, part in parts(grid) if isinstance(grid, dict | list) else []:
        if not isinstance(part, dict):
            return None
        factors = []
        for axis, values in part.items():
            groups = zip_groups("", values) if axis == ZIP else [("", {axis: values})]
            for _, group in groups:
                counts = [count(v) for v in group.values()] if isinstance(group, dict) and group else [None]
                if None in counts:
                    return None
                factors.append(min(counts) if axis == ZIP else counts[0])
        total += math.prod(factors)
    return total


def expand_range(key: str, values: Any) -> Any:
    """An axis as its list of values: a range ({linspace: ...}, {logspace: ...}) expanded as numpy
    does, a list as it is; GridError for anything else (a scalar, a string, null)."""
    if isinstance(values, list):
        if not values:
            raise GridError(key, "an axis needs at least one value")
        return values
    if not isinstance(values, dict):
        shown = repr(values)
        raise GridError(key, f"an axis is a list of values or a range ({{linspace: [start, stop, num]}}, {{logspace: ...}}), "
                        f"got {shown if len(shown) <= 40 else shown[:37] + '...'} ({type(values).__name__}); write [{shown[:20]}] for one value")
    if len(values) != 1 or next(iter(values)) not in RANGES:
        raise GridError(key, "an axis is a list of values, or one of {linspace: [start, stop, num]}, {logspace: [start, stop, num]}")
    kind, bounds = next(iter(values.items()))
    numbers = isinstance(bounds, list) and len(bounds) == 3 and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)
    if not numbers or not all(math.isfinite(b) for b in bounds) or not isinstance(bounds[2], int) or not 1 <= bounds[2] <= MAX_AXIS_VALUES:
        shown = repr(bounds)
        raise GridError(f"{key}.{kind}", f"needs [start, stop, num]: two finite numbers and a count from 1 to {MAX_AXIS_VALUES}, "
                        f"got {shown if len(shown) <= 80 else shown[:77] + '...'}")
    start, stop, num = bounds
    made = (np.linspace if kind == "linspace" else np.logspace)(start, stop, num).tolist()
    if isinstance(start, int) and isinstance(stop, int) and all(float(v).is_integer() for v in made):
        return [int(v) for v in made]  # whole numbers between whole bounds: an integer axis works too
    return made


def _factors(part: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """A product's factors: a crossed axis is one factor of one-field points, a zipped group one of paired points."""
    factors = []
    for axis, values in part.items():
        if axis == ZIP:
            for _, group in zip_groups("", values):
                names = list(group)
                factors.append([dict(zip(names, paired)) for paired in zip(*(group[name] for name in names))])
        else:
            factors.append([{axis: value} for value in values])
    return factors


def points(grid: Grid) -> list[dict[str, Any]]:
    """Every point of the grid, part after part, each product in the order its axes are written; {} is
    one empty point. A point two parts share appears twice (the trials it makes are one: plan.expand)."""
    out = []
    for _, part in parts(grid):
        for combination in itertools.product(*_factors(part)):
            out.append({field: value for piece in combination for field, value in piece.items()})
    return out


def size(grid: Grid) -> int:
    """How many points `points` makes, counted without making them."""
    return sum(math.prod(len(factor) for factor in _factors(part)) for _, part in parts(grid))


def fields(grid: Grid) -> list[str]:
    """Every axis the grid names, in order of first appearance."""
    return list(dict.fromkeys(axis for _, axis, _ in axis_entries(grid)))


def describe(grid: Grid) -> list[str]:
    """A line per product of the grid, for a dry run: its axes with their counts, zipped ones paired."""
    lines = []
    for key, part in parts(grid):
        terms = []
        for axis, values in part.items():
            if axis == ZIP:
                terms += [f"zip({', '.join(group)}) ({len(next(iter(group.values())))})" for _, group in zip_groups("", values)]
            else:
                terms.append(f"{axis} ({len(values)})")
        lines.append(f"{key}: {' x '.join(terms) or 'one point'} = {math.prod(len(f) for f in _factors(part))} points")
    return lines
