"""The paper's claims as numbers, computed from a store with pandas alone.

Each experiment declares its claims and how to check them on one of its sweeps
(workloads/<name>/claims.py; the shared statistics are in workloads/claims.py). This module
checks every sweep of every registered experiment, and prints the verdicts.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from orchestrator.looks import judge_looks
from orchestrator.results import StoredSweep
from orchestrator.status import read_trials, sweep_standing
from orchestrator.store import check_store, damaged_flushes, stored_sweeps
from results_schema import StoreError, TrialStatus
from workloads import REGISTRY, TABLES, Experiment
from workloads.claims import MIN_SEEDS, OUTCOMES, Claim, Verdict, applied, hashable, varying_fields, verdict

CLAIMS: tuple[Claim, ...] = tuple(claim for experiment in REGISTRY.values() for claim in experiment.claims.CLAIMS)
"""Every claim `sbsweep verify` checks, in the order it prints them (the registry's)."""


def verify_store(store: Path, sweeps: tuple[str, ...] = (), record: bool = True) -> list[Verdict]:
    """Every claim on every sweep of its experiment in the store (or in `sweeps`), using the trials
    that ended ok, with a verdict per value of each grid axis the claim does not use (see
    `varying_axes`). A claim whose experiment has no such trials gets one "no data" verdict; with
    `sweeps`, only the claims of those sweeps' experiments are judged.

    Each verdict is judged at the level of its look (orchestrator/looks.py): the first set of
    trials it is judged on is look 1, at 97.5%; each later set one more, at a higher level. The
    look is recorded in the store unless `record` is False."""
    check_store(store)
    for sweep in sweeps or stored_sweeps(store):
        # A verdict is never drawn from a sweep with a flush that cannot be trusted, even one its
        # claims would not read: the counts behind "n seeds" would be wrong.
        for flush, why in damaged_flushes(store, sweep, TABLES).items():
            raise StoreError(f"{why} (sweep '{sweep}', flush {flush}); `sbsweep status` lists what is damaged, and launching '{sweep}' "
                             "again sets it aside and reruns its trials")
    trials = read_trials(store, list(sweeps) or None)
    ok = trials[trials["status"] == TrialStatus.OK]
    verdicts: list[Verdict] = []
    asked = set(trials["experiment"]) if sweeps else set(REGISTRY)  # with --sweep, only the claims of those sweeps' experiments
    for name, experiment in REGISTRY.items():
        if name not in asked:
            continue
        found = []
        for sweep in sorted(set(ok.loc[ok["experiment"] == name, "sweep"])):
            standing = sweep_standing(trials, sweep)
            left_out = ", ".join(f"{count} {status.value}" for status, count in standing.counts.items() if count and status is not TrialStatus.OK)
            for result in check_sweep(experiment, StoredSweep(store, sweep)):
                if left_out:
                    result.notes.append(f"trials of the sweep that did not end ok left out: {left_out}")
                found.append(result)
        claims = experiment.claims.CLAIMS
        checked = {v.claim_id for v in found}
        found += [verdict(c, None, ok.iloc[:0]) for c in claims if c.claim_id not in checked]
        verdicts += sorted(found, key=lambda v: [c.claim_id for c in claims].index(v.claim_id))
    return judge_looks(store, verdicts, trials, {claim.claim_id: claim for claim in CLAIMS}, record)


def varying_axes(experiment: Experiment, data: StoredSweep) -> list[str]:
    """The config fields (seed aside) that take more than one value among the sweep's ok trials:
    its grid axes, in the config's order."""
    return varying_fields(data.trials, [f.name for f in dataclasses.fields(experiment.config) if f.name != "seed"])


def splits(experiment: Experiment, data: StoredSweep) -> bool:
    """Whether some claim of the sweep's experiment gets a verdict per value of an axis (a grid
    axis it does not use): what check_sweep would find, without checking anything."""
    axes = set(varying_axes(experiment, data))
    return any(axes - set(claim.uses) for claim in experiment.claims.CLAIMS)


def check_sweep(experiment: Experiment, data: StoredSweep) -> list[Verdict]:
    """The experiment's claims on one sweep: one run of its check over the whole sweep for a claim
    that uses every axis that varies, else one per value of the axes it does not use (seeds are
    always averaged), each verdict carrying those values in `axes` and in its group."""
    axes = varying_axes(experiment, data)
    by_axes: dict[tuple[str, ...], list[Verdict]] = {}
    verdicts = []
    for claim in experiment.claims.CLAIMS:
        split = tuple(a for a in axes if a not in claim.uses)
        if split not in by_axes:
            by_axes[split] = _check_per_value(experiment, data, split)
        verdicts += [v for v in by_axes[split] if v.claim_id == claim.claim_id]
    return verdicts


def _check_per_value(experiment: Experiment, data: StoredSweep, axes: tuple[str, ...]) -> list[Verdict]:
    if not axes:
        return experiment.claims.check(data)
    keys = data.trials[list(axes)].map(hashable)
    verdicts = []
    for values, rows in keys.groupby(list(axes), sort=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        named = {axis: _plain(value) for axis, value in applied(axes, values).items()}  # the axes that apply to this group
        label = ", ".join(f"{axis}: {_show(value)}" for axis, value in named.items())
        for result in experiment.claims.check(data.subset(data.trials.loc[rows.index, "trial_id"])):
            result.axes = named
            result.group = label + (f"; {result.group}" if result.group else "")
            verdicts.append(result)
    return verdicts


def _plain(value: object) -> object:
    """An axis value as JSON takes it: whole floats (pandas' reading of an int column with nulls) as ints."""
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "item"):
        value = value.item()  # numpy scalars
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _show(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


INCONCLUSIVE_EXIT = 3
"""verify's exit code when no verdict fails but one is inconclusive."""
UNREPLICATED_EXIT = 4
"""verify's exit code when no verdict fails or is inconclusive but one is unreplicated."""
NO_EVIDENCE_EXIT = 5
"""verify's exit code when no claim has any data: nothing was shown to hold."""
EXIT_CODES = (
    (0, "every verdict with data passed"), (1, "a verdict failed"), (2, "a bad store, sweep name or argument"),
    (INCONCLUSIVE_EXIT, "none failed, one is inconclusive"), (UNREPLICATED_EXIT, "none failed or is inconclusive, one is unreplicated"),
    (NO_EVIDENCE_EXIT, "no claim has data"),
)


def all_hold(verdicts: list[Verdict]) -> bool:
    """True when every verdict with data passed, and one did."""
    return exit_code(verdicts) == 0


def exit_code(verdicts: list[Verdict]) -> int:
    """0 when every verdict with data passed; else the first of: 1 one failed, INCONCLUSIVE_EXIT
    one is inconclusive, UNREPLICATED_EXIT one is unreplicated, NO_EVIDENCE_EXIT none has data."""
    outcomes = {v.outcome for v in verdicts}
    for outcome, code in (("fail", 1), ("inconclusive", INCONCLUSIVE_EXIT), ("unreplicated", UNREPLICATED_EXIT)):
        if outcome in outcomes:
            return code
    return 0 if "pass" in outcomes else NO_EVIDENCE_EXIT


def counts(verdicts: list[Verdict]) -> dict[str, int]:
    """How many verdicts came to each outcome (every outcome named, zeros included)."""
    return {outcome: sum(v.outcome == outcome for v in verdicts) for outcome in OUTCOMES}


def _number(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.4g}"


def _interval(verdict: Verdict) -> str:
    if verdict.interval is not None:
        return f"[{verdict.interval[0]:+.3f}, {verdict.interval[1]:+.3f}]"
    return "-" if verdict.value is None else f"none ({verdict.seeds} seed{'s' if verdict.seeds != 1 else ''})"


def _agreeing(verdict: Verdict) -> str:
    defined = [v for v in verdict.per_seed if v is not None]
    return "-" if verdict.agreeing is None else f"{verdict.agreeing}/{len(defined)}"


def _where(verdict: Verdict) -> str:
    return (verdict.sweep or "") + (f" ({verdict.group})" if verdict.group else "")


def level(verdict: Verdict) -> str:
    """The level a verdict's interval was judged at, and its look ('97.5%, look 1'); '-' without an interval."""
    if verdict.interval is None:
        return "-"
    return f"{100 * verdict.confidence:.4g}%" + (f", look {verdict.look}" if verdict.look else "")


def report_lines(verdicts: list[Verdict]) -> list[str]:
    """The verdicts as a table (one row each), then what each statistic is and the values behind
    it, then the count of each outcome; each interval at the level of its look."""
    table = pd.DataFrame(
        {
            "claim": v.claim_id, "result": v.outcome, "value": "-" if v.value is None else f"{v.value:+.3f}",
            "interval": _interval(v), "level": level(v), "seeds agree": _agreeing(v), "threshold": f"{v.comparison} {v.threshold:+g}",
            "trials": v.trials, "seeds": v.seeds, "sweep": _where(v) or "-",
        }
        for v in verdicts
    )
    lines = table.to_string(index=False).splitlines()
    lines.append("")
    judged = {v.claim_id for v in verdicts}
    for claim in (c for c in CLAIMS if c.claim_id in judged):
        lines.append(f"{claim.claim_id}: {claim.statement}; statistic: {claim.statistic}")
        for v in (v for v in verdicts if v.claim_id == claim.claim_id and v.sweep):
            never = {str(k) for k in v.never_crossed}
            values = ", ".join(f"{axis}: {_number(value)}{' (never 0.5)' if axis in never else ''}" for axis, value in v.series.items())
            lines.append(f"  {_where(v)}: {v.series_label}: {values}" if values else f"  {_where(v)}:")
            if v.per_seed and any(x is not None for x in v.per_seed):
                lines.append("    each seed on its own: " + ", ".join("-" if x is None else f"{x:+.3f}" for x in v.per_seed))
            lines += [f"    note: {note}" for note in v.notes]
    tally = counts(verdicts)
    named = {outcome: [f"{v.claim_id} on {_where(v)}" if v.sweep else v.claim_id for v in verdicts if v.outcome == outcome]
             for outcome in ("fail", "inconclusive", "unreplicated", "no data")}
    lines.append("")
    lines.append(
        f"{len(verdicts)} verdicts: {tally['pass']} pass, {tally['fail']} fail, {tally['inconclusive']} inconclusive, "
        f"{tally['unreplicated']} unreplicated, {tally['no data']} no data"
        + "".join(f"; {outcome}: {', '.join(names)}" for outcome, names in named.items() if names)
        + ". value: each claim's statistic on the seed means; interval: for a statistic of an order (a rank correlation, a share of "
        "pairs or of steps), the range of the statistic over every order its pairs' simultaneous intervals allow (pairwise "
        "projection); for a mean or a ratio, jackknife-t over the seeds; level: look j of a verdict (its j-th set of trials, "
        "whichever command judged it) at 1 - 0.05 / (j (j + 1)), so that every look together errs at most 5%; pass or fail only "
        f"when the interval lies wholly on one side of the threshold; unreplicated: fewer than {MIN_SEEDS} seeds; "
        "no data: the store has no sweep of the claim's experiment, or one too small to compute its statistic (its notes say why)."
    )
    return lines
