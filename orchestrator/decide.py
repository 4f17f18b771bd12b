"""Seeds until decided: while some claims of a store are inconclusive or unreplicated, launch more
seeds of exactly the sweeps those claims read, judge again, and stop when every claim is decided
or the budget is spent.

Judging again after every batch of seeds is a sequence of looks at the same claim, and a rule that
takes the first look whose 95% interval clears the threshold errs more often than 5%: every look
is another chance to be wrong. Every look is judged by `verify_store`, at the level of its look in
the store's whole history (orchestrator/looks.py: look j at 1 - 0.05 / (j (j + 1))), so the chance
that a claim whose true value lies on one side of its threshold is ever declared on the other stays
at most 0.05 over every look of every run, verify's and the report's included
(`python benchmarks/coverage.py` measures it against the naive rule). A run's `max_looks` only
bounds how many rounds of seeds it adds.

A run keeps its state and its looks in the store (STORE/decisions/), so an interrupted run goes on
where it stopped when the same command is given again, and anyone can read how each verdict was
reached: pd.read_parquet(STORE / "decisions").
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from orchestrator.lock import decide_lock
from orchestrator.looks import LEDGER
from orchestrator.paths import inside, regular_file
from orchestrator.spec import RESOLVED_KEY, VERSION_KEY, SpecError, SweepSpec, validate_spec
from orchestrator.store import check_store, saved_sweep
from orchestrator.store.files import write_atomic
from results_schema import DECISIONS_DIR, LOOKS, StoreError, to_arrow
from workloads.claims import Verdict

DEFAULT_MAX_LOOKS = 4
"""Looks of a run with a time budget and no --max-looks (one, then three rounds of seeds)."""

UNDECIDED = ("inconclusive", "unreplicated")


class DecideConflict(Exception):
    """An unfinished run of decide has other settings than the ones given. str() is one line."""


@dataclass
class DecideRun:
    """A run's settings and how far it got: STORE/decisions/_<run_id>.json."""

    run_id: str
    max_looks: int
    seeds_per_look: int
    budget_seeds: int | None
    budget_s: float | None
    sweeps: list[str]
    looks_done: int = 0
    added: dict[str, list[int]] = field(default_factory=dict)
    """sweep -> the seeds this run added to it so far (launched, or being launched)"""
    growing: list[str] = field(default_factory=list)
    """sweeps whose added seeds are being launched before the next look"""
    spent_s: float = 0.0
    finished: bool = False

    @property
    def settings(self) -> tuple[object, ...]:
        """What a resumed run must be given again to be the same run."""
        return self.max_looks, self.seeds_per_look, self.budget_seeds, self.budget_s, sorted(self.sweeps)


@dataclass(frozen=True)
class DecideReport:
    """Where every claim stands when a run ends."""

    run_id: str
    looks: int
    verdicts: list[Verdict]
    added: dict[str, list[int]]
    spent_s: float
    why_stopped: str


def _folder(store: Path) -> Path:
    return inside(store, store / DECISIONS_DIR)


def _state_path(store: Path, run_id: str) -> Path:
    return regular_file(_folder(store) / f"_{run_id}.json")


def _unfinished(store: Path) -> DecideRun | None:
    folder = _folder(store)
    for path in sorted(folder.glob("_*.json")) if folder.is_dir() else []:
        if path.name == LEDGER:  # the store's record of looks (orchestrator/looks.py), not a run
            continue
        try:
            run = DecideRun(**json.loads(regular_file(path).read_text()))
        except (OSError, ValueError, TypeError) as error:
            raise StoreError(f"{path}: unreadable decide run ({error})") from None
        if not run.finished:
            return run
    return None


def _save(store: Path, run: DecideRun) -> None:
    _folder(store).mkdir(exist_ok=True)
    write_atomic(store, _state_path(store, run.run_id), json.dumps(asdict(run), indent=2).encode())


def _record(store: Path, run: DecideRun, verdicts: list[Verdict]) -> None:
    """Append this look's verdicts to the run's looks file (rewritten whole: it is small)."""
    path = regular_file(_folder(store) / f"{run.run_id}.parquet")
    now = datetime.now(UTC)
    rows = [
        dict(run_id=run.run_id, look=run.looks_done, claim_id=v.claim_id, sweep=v.sweep, grp=v.group, seeds=v.seeds, value=v.value,
             low=v.interval[0] if v.interval else None, high=v.interval[1] if v.interval else None, confidence=v.confidence,
             outcome=v.outcome, agreeing=v.agreeing, decided_at=now)
        for v in verdicts if v.sweep and v.outcome != "no data"
    ]
    table = to_arrow(LOOKS, rows)
    if path.exists():
        table = pa.concat_tables([pq.read_table(path, schema=LOOKS.schema).filter(pc.field("look") < run.looks_done), table])
    _folder(store).mkdir(exist_ok=True)
    write_atomic(store, path, _parquet_bytes(table))


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def stored_spec(store: Path, sweep: str) -> SweepSpec:
    """The spec a sweep was last launched with, as a SweepSpec (without the execution keys an
    earlier sbsweep may have had, if they no longer validate: they change no trial id)."""
    raw = saved_sweep(store, sweep)
    if raw is None:
        raise StoreError(f"{store}: sweep '{sweep}' has no saved spec, so decide cannot add seeds to it")
    written = {k: v for k, v in raw.items() if k not in (RESOLVED_KEY, VERSION_KEY)}
    source = f"{store}/sweeps/{sweep}.json"
    try:
        return validate_spec(written, source)
    except SpecError:
        try:
            return validate_spec({k: v for k, v in written.items() if k != "execution"}, source)
        except SpecError as error:
            raise StoreError(f"{error} (the saved spec of sweep '{sweep}')") from None


def judge_all(store: Path, sweeps: list[str]) -> list[Verdict]:
    """Every verdict of the store (or of `sweeps`), each at the level of its look."""
    from orchestrator.verify import verify_store

    return verify_store(store, tuple(sweeps))


def decide(store: Path, **options: object) -> DecideReport:
    """Add seeds to the sweeps of undecided claims until every claim is decided or the budget is
    spent, holding the store's decide lock throughout (a second run on a busy store is refused in
    one line: SweepLocked); the options are `decide_run`'s."""
    check_store(store)
    with decide_lock(store):
        return decide_run(store, **options)  # type: ignore[arg-type]


def decide_run(
    store: Path,
    *,
    budget_seeds: int | None = None,
    budget_s: float | None = None,
    seeds_per_look: int = 2,
    max_looks: int | None = None,
    sweeps: tuple[str, ...] = (),
    launch_sweep: Callable[[SweepSpec], object],
    echo: Callable[[str], None] = print,
) -> DecideReport:
    """One decide run, the store's decide lock held (see `decide` and the module docstring); resume
    the store's unfinished run if there is one.

    `budget_seeds`: at most this many seeds added to each sweep; `budget_s`: no new round of seeds
    once this many seconds have gone (over every session of the run). `launch_sweep` runs a
    SweepSpec into the store (the launcher's `launch`, bound to the store and the Ray to use).
    """
    check_store(store)
    if budget_seeds is None and budget_s is None:
        raise ValueError("decide needs a budget: a number of seeds per sweep, a time, or both")
    looks = max_looks or (1 + math.ceil(budget_seeds / seeds_per_look) if budget_seeds is not None else DEFAULT_MAX_LOOKS)
    fresh = DecideRun(f"{datetime.now(UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}", looks, seeds_per_look, budget_seeds, budget_s, sorted(sweeps))
    run = _unfinished(store)
    if run is not None and run.settings != fresh.settings:
        raise DecideConflict(f"{store}: decide run {run.run_id} is unfinished with other settings (at most {run.max_looks} looks, "
                             f"{run.seeds_per_look} seeds a look, budget {run.budget_seeds} seeds / {run.budget_s} s, sweeps {run.sweeps or 'all'}); "
                             "give the same ones to finish it")
    if run is None:
        run = fresh
        _save(store, run)
    else:
        echo(f"decide: resuming run {run.run_id} after look {run.looks_done} of at most {run.max_looks}")
    started = time.monotonic() - run.spent_s
    while True:
        for sweep in run.growing:  # seeds decided on before an interruption are launched first
            spec = stored_spec(store, sweep)
            wanted = sorted(set(spec.seeds) | set(run.added[sweep]))
            echo(f"decide: look {run.looks_done} of {run.max_looks}: sweep '{sweep}' to {len(wanted)} seeds")
            launch_sweep(spec.model_copy(update={"seeds": wanted}))
            run.spent_s = time.monotonic() - started
        run.growing = []
        verdicts = judge_all(store, run.sweeps)
        _record(store, run, verdicts)
        run.looks_done += 1
        run.spent_s = time.monotonic() - started
        undecided = [v for v in verdicts if v.outcome in UNDECIDED and v.sweep]
        why = _why_stop(run, undecided)
        if why is None:
            grow = _next_round(store, run, undecided)
            if grow:
                run.growing = sorted(grow)
                for sweep, seeds in grow.items():
                    run.added[sweep] = sorted(set(run.added.get(sweep, [])) | set(seeds))
                _save(store, run)
                continue
            why = "budget spent: no sweep may take more seeds"
        run.finished = True
        _save(store, run)
        return DecideReport(run.run_id, run.looks_done, verdicts, run.added, run.spent_s, why)


def _why_stop(run: DecideRun, undecided: list[Verdict]) -> str | None:
    """Why the run ends after this look (None: it goes on)."""
    if not undecided:
        return "every claim with data is decided"
    if run.looks_done >= run.max_looks:
        return f"{run.max_looks} looks taken, the most this run planned"
    if run.budget_s is not None and run.spent_s >= run.budget_s:
        return f"time budget spent ({run.spent_s:.0f} s of {run.budget_s:.0f} s)"
    return None


def _next_round(store: Path, run: DecideRun, undecided: list[Verdict]) -> dict[str, list[int]]:
    """sweep -> the seeds to add to it before the next look: `seeds_per_look` new ones for every
    sweep an undecided verdict reads, within the seed budget."""
    grow = {}
    for sweep in sorted({s for v in undecided for s in (v.reads or [v.sweep])}):
        seeds = stored_spec(store, sweep).seeds
        room = run.seeds_per_look if run.budget_seeds is None else min(run.seeds_per_look, run.budget_seeds - len(run.added.get(sweep, [])))
        if room <= 0:
            continue
        taken = set(seeds) | set(run.added.get(sweep, []))
        new, candidate = [], max(taken, default=-1) + 1
        while len(new) < room:
            if candidate not in taken:
                new.append(candidate)
            candidate += 1
        grow[sweep] = new
    return grow
