"""Which look at a claim a verdict is, and the level every command judges that look at.

A verdict that was inconclusive at 3 seeds and is judged again at 5 has been looked at twice, and a
rule that stops at the first look whose 95% interval clears the threshold errs more than 5% of the
time: each look is another chance to be wrong. So the store keeps, for every verdict (a claim on a
sweep, and a group of it), the sets of trials it has been judged on, in order: its looks. Look j
is judged at level 1 - ALPHA / (j (j + 1)) (97.5%, 99.17%, 99.58%, ...). These errors add up to
ALPHA over any number of looks (1/2 + 1/6 + 1/12 + ... = 1), so the chance that a verdict is ever
declared on the wrong side of its threshold, over the store's whole history of looks, by `verify`,
`decide`, `report` or `reproduce`, in one run or many, is at most ALPHA.

A look is a set of trials, not a command: judging the same trials again (verify twice, the report
after decide) is the same look at the same level, so every command gives one verdict for one
store. Only a look that could decide counts (one with enough seeds for an interval). The record is
STORE/decisions/_looks.json (hidden from Parquet readers by its leading '_'): verdict -> the
fingerprints of the trial sets it was judged on, oldest first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pandas as pd

from orchestrator.lock import LOCKS_DIR
from orchestrator.paths import inside, regular_file
from orchestrator.store.files import write_atomic
from results_schema import DECISIONS_DIR, StoreError, TrialStatus
from workloads.claims import Claim, Verdict, at_confidence

ALPHA = 0.05
"""The chance, over every look at a verdict together, of declaring it on the wrong side."""

LEDGER = "_looks.json"


def look_confidence(look: int) -> float:
    """The level of look `look` (1-based): 1 - ALPHA / (look (look + 1))."""
    return 1 - ALPHA / (look * (look + 1))


def verdict_key(verdict: Verdict) -> str:
    """The verdict a look is of: its claim, sweep and group."""
    return f"{verdict.claim_id} | {verdict.sweep or '-'} | {verdict.group or '-'}"


def trial_set(trials: pd.DataFrame, sweeps: list[str]) -> str:
    """A fingerprint of the ok trials of `sweeps`: what a verdict on them was judged on."""
    ok = trials[(trials["status"] == TrialStatus.OK) & trials["sweep"].isin(sweeps)]
    return hashlib.sha256("\n".join(sorted(ok["trial_id"].astype(str))).encode()).hexdigest()[:16]


def _path(store: Path) -> Path:
    return regular_file(inside(store, store / DECISIONS_DIR / LEDGER))


def read_ledger(store: Path) -> dict[str, list[str]]:
    """The store's looks: verdict key -> the trial sets it was judged on, oldest first."""
    path = _path(store)
    if not path.exists():
        return {}
    try:
        ledger = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: unreadable record of looks ({type(error).__name__}: {error}); move it away to start the count again") from None
    if not isinstance(ledger, dict) or not all(isinstance(v, list) and all(isinstance(s, str) for s in v) for v in ledger.values()):
        raise StoreError(f"{path}: not a record of looks (a mapping of verdicts to lists of trial sets); move it away to start the count again")
    return ledger


@contextmanager
def _ledger_lock(store: Path) -> Iterator[None]:
    """Hold the store's lock on the record of looks (two commands may judge at once)."""
    folder = inside(store, store / LOCKS_DIR)
    folder.mkdir(exist_ok=True)
    with open(regular_file(folder / "_looks.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _record(store: Path, new: dict[str, list[str]]) -> None:
    """Add the new looks to the record, merged with whatever another command added meanwhile."""
    with _ledger_lock(store):
        ledger = read_ledger(store)
        for key, sets in new.items():
            known = ledger.setdefault(key, [])
            known += [s for s in sets if s not in known]
        _path(store).parent.mkdir(exist_ok=True)
        write_atomic(store, _path(store), json.dumps(ledger, indent=1, sort_keys=True).encode())


def judge_looks(store: Path, verdicts: list[Verdict], trials: pd.DataFrame, claims: dict[str, Claim], record: bool = True) -> list[Verdict]:
    """Each verdict with an interval judged at the level of its look (see the module docstring),
    the look recorded in the store (unless `record` is False, or the store cannot be written to:
    then the verdicts are the same and a note says the look was not kept)."""
    ledger = read_ledger(store)
    new: dict[str, list[str]] = {}
    judged = []
    for verdict in verdicts:
        evidence = verdict.evidence
        if evidence is None or verdict.value is None or not verdict.sweep or min(evidence.seeds) < evidence.min_seeds:
            judged.append(verdict)  # no interval, so nothing is decided at this look: it does not count
            continue
        key = verdict_key(verdict)
        fingerprint = trial_set(trials, verdict.reads or [verdict.sweep])
        known = ledger.get(key, [])
        if fingerprint not in known:
            new.setdefault(key, []).append(fingerprint)
        look = (known.index(fingerprint) if fingerprint in known else len(known)) + 1
        judged.append(replace(at_confidence(claims[verdict.claim_id], verdict, look_confidence(look)), look=look))
    if new and record:
        try:
            _record(store, new)
        except OSError:  # read-only, or full: the verdicts do not depend on the record, only later looks do
            for verdict in judged:
                if verdict_key(verdict) in new:
                    verdict.notes.append("this look was not recorded: the store is read-only (its level counts it all the same)")
    return judged
