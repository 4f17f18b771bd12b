"""A suite: the sweep files that together reproduce the paper at one scale (sweeps/suites/*.yaml).

    name: cpu
    description: the paper's claims on CPU-sized nets
    sweeps:
      - ../learning_order_cpu.yaml       # paths relative to the suite file
      - ../manifold_cpu.yaml

`sbsweep reproduce --scale cpu` runs sweeps/suites/cpu.yaml: every sweep into one store in one Ray
session, then the verdicts (and `decide`, within a budget), then the report. Each run of a suite
is recorded in the store (STORE/suites/<name>.json: when, how long, which sweeps), for the report.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from orchestrator.paths import inside, regular_file
from orchestrator.spec import SpecError, SweepSpec, _Context, _Strict, load_spec, read_yaml_file
from orchestrator.store.files import write_atomic
from results_schema import SUITES_DIR, SWEEP_NAME_PATTERN, StoreError

SUITE_FOLDER = Path(__file__).resolve().parents[1] / "sweeps" / "suites"
"""Where `--scale NAME` finds its suite file: sweeps/suites/NAME.yaml of this checkout."""


class SuiteSpec(_Strict):
    """A suite file: its name and the sweep files it runs together."""

    name: str = Field(pattern=SWEEP_NAME_PATTERN)
    """the suite's name (the scale `--scale` names), recorded in the store"""
    description: str = ""
    sweeps: list[str] = Field(min_length=1)
    """sweep files, relative to the suite file"""


def scales() -> list[str]:
    """The suites `--scale` can name."""
    return sorted(path.stem for path in SUITE_FOLDER.glob("*.yaml"))


def suite_file(scale: str) -> Path:
    """The suite file of `scale` (sweeps/suites/<scale>.yaml); SpecError if there is none."""
    path = SUITE_FOLDER / f"{scale}.yaml"
    if scale not in scales():
        raise SpecError(str(path), "", f"no suite '{scale}' (suites: {', '.join(scales()) or 'none'})")
    return path


def load_suite(path: str | Path, overrides: tuple[str, ...] | list[str] = ()) -> tuple[SuiteSpec, list[SweepSpec]]:
    """Read and validate a suite file and every sweep file it names (each with `overrides`, as
    `launch --set` would apply them). SpecError names the file, line and key at fault."""
    source = str(path)
    raw, lines = read_yaml_file(path, "suite file")
    context = _Context(source, lines, {})
    if not isinstance(raw, dict):
        raise context.error("", "a suite file is a mapping with 'name' and 'sweeps'")
    try:
        suite = SuiteSpec.model_validate(raw)
    except ValidationError as error:
        raise context.from_validation(error, (), list(SuiteSpec.model_fields)) from None
    specs: list[SweepSpec] = []
    for index, relative in enumerate(suite.sweeps):
        sweep_file = Path(path).parent / relative
        if not sweep_file.is_file():
            raise context.error(f"sweeps[{index}]", f"no sweep file {relative} (next to {source})")
        specs.append(load_spec(sweep_file, overrides))
    names = [spec.name for spec in specs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise context.error("sweeps", f"two sweep files name the sweep {twice[0]!r}: a suite runs each sweep once")
    return suite, specs


@dataclass
class SuiteRun:
    """One run of a suite into a store, as STORE/suites/<name>.json records it."""

    name: str
    description: str
    sweeps: list[str]
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    launch_s: float | None = None
    """seconds the sweeps' launch took (Ray's start included)"""
    decide_s: float | None = None
    """seconds `decide` took, where it ran"""
    wall_s: float | None = None
    """seconds the whole run took, the verdicts and the report included"""
    finished: bool = False
    trials_run: int | None = None
    """trials this run ran (the rest were stored already)"""
    earlier: list[dict[str, Any]] = field(default_factory=list)
    """the earlier runs of this suite into the store (started_at, launch_s, decide_s, wall_s,
    trials_run each), oldest first: a rerun that finds everything stored takes seconds, and the
    record keeps the runs that did the work"""
    began: float = field(default_factory=time.monotonic, repr=False)

    def save(self, store: Path) -> None:
        """Write the record into the store (atomically; inside the store whatever its name),
        keeping the earlier runs' times."""
        folder = inside(store, store / SUITES_DIR)
        folder.mkdir(exist_ok=True)
        path = regular_file(folder / f"{self.name}.json")
        if not self.earlier and path.exists():
            before = next((run for run in suite_runs(store) if run.get("name") == self.name), None)
            if before and before.get("started_at") != self.started_at:
                self.earlier = [*before.get("earlier", []), {key: before.get(key) for key in SESSION_KEYS}]
        data = {k: v for k, v in asdict(self).items() if k != "began"}
        write_atomic(store, path, json.dumps(data, indent=2).encode())


SESSION_KEYS = ("started_at", "launch_s", "decide_s", "wall_s", "trials_run")


def suite_runs(store: Path) -> list[dict[str, Any]]:
    """Every suite run recorded in the store, newest first."""
    folder = inside(store, store / SUITES_DIR)
    runs = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            run = json.loads(regular_file(path).read_text())
        except (OSError, ValueError) as error:
            raise StoreError(f"{path}: unreadable suite record ({error})") from None
        if not isinstance(run, dict) or not all(isinstance(run.get(key, ""), str) for key in ("started_at", "name", "description")) \
                or not all(isinstance(run.get(key) or 0, int | float) for key in ("wall_s", "launch_s")) \
                or not isinstance(run.get("earlier", []), list) \
                or not all(isinstance(one, dict) and all(isinstance(one.get(key) or 0, int | float) for key in SESSION_KEYS[1:])
                           for one in run.get("earlier", [])):
            raise StoreError(f"{path}: not a suite record sbsweep wrote (a JSON object: text started_at, name, description; seconds wall_s); "
                             "move it away")
        runs.append(run)
    return sorted(runs, key=lambda run: run.get("started_at", ""), reverse=True)
