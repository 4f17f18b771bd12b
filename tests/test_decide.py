"""Confidence that is true: the verdicts' intervals cover the true value on simulated seeds, the
sequential rule of `sbsweep decide` errs at most 5% across its looks, and a decide run adds seeds
to the sweeps that need them, stores every look, and resumes after an interruption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import stored_sweep

from orchestrator.cli import cli
from orchestrator.decide import DecideConflict, decide
from orchestrator.launcher import launch
from orchestrator.looks import look_confidence
from orchestrator.store import stored_trial_ids
from orchestrator.verify import verify_store
from workloads.claims import Evidence


def test_the_looks_levels_err_at_most_5_percent_over_every_look_where_the_naive_rule_errs_more():
    """A claim `mean >= 0.3` whose truth is 0.3 less a hair, judged at 3, 5, 7, 9 and 11 seeds: how
    often is it ever declared pass? decide, verify and the report judge look j at 1 - 0.05/(j(j+1))."""
    rng = np.random.default_rng(11)
    looks = [3, 5, 7, 9, 11]
    wrong = {"naive": 0, "looks": 0}
    reps = 1500
    for _ in range(reps):
        x = rng.normal(0.3, 0.1, looks[-1])
        for rule in wrong:
            for j, n in enumerate(looks, start=1):
                confidence = 0.95 if rule == "naive" else look_confidence(j)
                low, high = Evidence(lambda w, x=x[:n]: float(w[0] @ x), (n,)).interval(confidence)[0]
                if low >= 0.3 + 1e-9:
                    wrong[rule] += 1
                    break
                if high < 0.3 + 1e-9:
                    break
    assert wrong["looks"] / reps <= 0.05 and wrong["looks"] < wrong["naive"], wrong


def test_the_levels_of_the_looks_spend_at_most_5_percent_however_many_looks():
    assert look_confidence(1) == 0.975 and look_confidence(2) == pytest.approx(1 - 0.05 / 6)
    assert sum(1 - look_confidence(j) for j in range(1, 100_000)) < 0.05


SWEEP = """\
name: grow
experiment: manifold_classification
grid:
  k: [3, 10, 20]
  L: [0, 8]
seeds: [0, 1]
workload: {width: 8, depth: 2, n_points: 64, steps: 40, eval_every_steps: 20}
"""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, pressed while decide launches its first round of seeds."""


def test_decide_adds_seeds_to_the_sweeps_of_undecided_claims_stores_every_look_and_resumes_after_an_interruption(local_ray, write_sweep, tmp_path):
    store, _ = stored_sweep(tmp_path, SWEEP, write_sweep)  # two seeds, stored as a launch leaves them
    before = CliRunner().invoke(cli, ["verify", str(store)])
    assert before.exit_code == 4 and "unreplicated" in before.output  # two seeds: no verdict either way

    def launch_sweep(spec, interrupt: bool):
        if interrupt:
            raise Interrupted()
        return launch(spec, store, plot=False, echo=lambda line: None)

    settings = dict(budget_seeds=2, seeds_per_look=1, sweeps=("grow",))  # at most 3 looks
    with pytest.raises(Interrupted):
        decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=True), echo=lambda line: None, **settings)
    with pytest.raises(DecideConflict):  # an unfinished run is finished with its own settings, never mixed with others
        decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=False), echo=lambda line: None, budget_seeds=5)
    report = decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=False), echo=lambda line: None, **settings)

    looks = pd.read_parquet(store / "decisions")
    assert report.looks == looks["look"].nunique() == looks["look"].max() + 1 >= 2  # each look once, the first before any seed was added
    first, last = looks[looks["look"] == 0], looks[looks["look"] == looks["look"].max()]
    # 2 seeds decide nothing and are no look; 3 seeds are each verdict's look 1, 4 seeds its look 2.
    replicated = looks[looks["low"].notna()]
    assert np.allclose(replicated["confidence"], [look_confidence(seeds - 2) for seeds in replicated["seeds"]])
    assert set(first["seeds"]) == {2} and set(first["outcome"]) == {"unreplicated"}
    assert set(last["seeds"]) == {2 + len(report.added["grow"])} and 1 <= len(report.added["grow"]) <= 2
    assert set(report.added["grow"]) == set(range(2, 2 + len(report.added["grow"])))  # new seeds, never one the sweep had
    assert len(stored_trial_ids(store, sweeps=["grow"])) == 6 * (2 + len(report.added["grow"]))  # the added seeds' trials, once each
    judged = {v.claim_id: v.outcome for v in report.verdicts if v.sweep == "grow" and v.outcome != "no data"}  # C3b: no k >= 150 here
    assert judged and all(outcome in ("pass", "fail", "inconclusive") for outcome in judged.values())  # replicated now, whatever they say
    assert report.why_stopped

    # One verdict for one store: verify after decide agrees with decide's last look, and a second
    # run goes on counting the same verdicts' looks where the first stopped.
    def judged(verdicts):
        return {(v.claim_id, v.group): (v.outcome, v.interval, v.confidence, v.look) for v in verdicts if v.sweep == "grow"}

    assert judged(verify_store(store)) == judged(report.verdicts)
    again = decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=True), echo=lambda line: None, budget_seeds=1,
                   seeds_per_look=1, max_looks=1, sweeps=("grow",))  # one look, no seeds: it must not launch
    first_look = pd.read_parquet(store / "decisions").query("run_id == @again.run_id and look == 0 and low.notna()")
    assert len(first_look) and np.allclose(first_look["confidence"], look_confidence(len(report.added["grow"])))  # not look 1 again
    assert judged(again.verdicts) == judged(report.verdicts)  # the same trials: the same look, the same verdicts


def test_decide_needs_a_budget_and_says_so_in_one_line(tmp_path):
    from orchestrator.store import open_store

    result = CliRunner().invoke(cli, ["decide", str(open_store(tmp_path / "store"))])
    assert result.exit_code == 2 and "needs a budget" in result.output and len(result.output.strip().splitlines()) == 1


def test_a_second_decide_on_a_store_whose_decide_is_running_is_one_line_and_touches_nothing(tmp_path):
    from conftest import snapshot

    from orchestrator.lock import decide_lock
    from orchestrator.store import open_store

    store = open_store(tmp_path / "store")
    with decide_lock(store):
        before = snapshot(store)
        result = CliRunner().invoke(cli, ["decide", str(store), "--seeds", "2"])
        assert snapshot(store) == before
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert "sbsweep decide is already running on this store" in result.output and "Traceback" not in result.output
