"""Confidence that is true: the verdicts' intervals cover the true value on simulated seeds, the
sequential rule of `sbsweep decide` errs at most 5% across its looks, and a decide run adds seeds
to the sweeps that need them, stores every look, and resumes after an interruption."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.decide import DecideConflict, decide, look_confidence
from orchestrator.launcher import launch
from orchestrator.store import stored_trial_ids
from workloads.claims import RHO_BOUNDS, Evidence, first_crossing, rank_correlation

STEPS = np.arange(0, 1100, 100.0)


def rank_evidence(rng: np.random.Generator, n: int) -> Evidence:
    """C1's statistic on simulated seeds: rho(k, first step at which the seed-mean curve reaches
    0.5), curves noisy per seed and step, the highest k never crossing."""
    centres = np.array([100, 250, 400, 550, 700, 850, 2000.0])
    shift = rng.normal(0, 100, (n, 1, len(centres)))
    curves = 1 / (1 + np.exp(-(STEPS[None, :, None] - centres[None, None, :] - shift) / 80)) + rng.normal(0, 0.2, (n, len(STEPS), len(centres)))
    ks = np.arange(len(centres))
    return Evidence(lambda w: rank_correlation(ks, first_crossing(np.tensordot(w[0], curves, axes=1), STEPS, False, 1100.0)[0]), (n,),
                    bounds=RHO_BOUNDS)


@pytest.mark.parametrize("seeds", [3, 5])
def test_the_interval_covers_the_true_value_of_a_seed_mean_and_of_a_rank_correlation_with_ties(seeds):
    rng = np.random.default_rng(7)
    truth_rank = rank_correlation(np.arange(7), np.array([100, 300, 400, 600, 700, 900, 1100.0]))  # the mean curves' crossings
    mean_hits = rank_hits = 0
    reps = 200
    for _ in range(reps):
        x = rng.normal(0.3, 0.1, seeds)
        low, high = Evidence(lambda w, x=x: float(w[0] @ x), (seeds,)).interval()[0]
        mean_hits += low <= 0.3 <= high
        low, high = rank_evidence(rng, seeds).interval()[0]
        rank_hits += low - 1e-9 <= truth_rank <= high + 1e-9
    # Nominal 95%; 200 draws put a true 0.95 above 0.91 with probability > 0.99.
    assert mean_hits / reps >= 0.91 and rank_hits / reps >= 0.91, (mean_hits, rank_hits)


def test_decides_rule_errs_at_most_5_percent_across_its_looks_where_the_naive_rule_errs_more():
    """A claim `mean >= 0.3` whose truth is 0.3 less a hair, judged at 3, 5, 7 and 9 seeds: how
    often is it ever declared pass?"""
    rng = np.random.default_rng(11)
    looks = [3, 5, 7, 9]
    wrong = {"naive": 0, "decide": 0}
    reps = 1500
    for _ in range(reps):
        x = rng.normal(0.3, 0.1, looks[-1])
        for rule, confidence in (("naive", 0.95), ("decide", look_confidence(len(looks)))):
            for n in looks:
                low, high = Evidence(lambda w, x=x[:n]: float(w[0] @ x), (n,)).interval(confidence)[0]
                if low >= 0.3 + 1e-9:
                    wrong[rule] += 1
                    break
                if high < 0.3 + 1e-9:
                    break
    assert wrong["decide"] / reps <= 0.05 and wrong["decide"] < wrong["naive"], wrong


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


def test_decide_adds_seeds_to_the_sweeps_of_undecided_claims_stores_every_look_and_resumes_after_an_interruption(local_ray, tmp_path):
    sweep = tmp_path / "grow.yaml"
    sweep.write_text(SWEEP)
    store = tmp_path / "store"
    assert launch(sweep, store, plot=False, echo=lambda line: None).ok
    before = CliRunner().invoke(cli, ["verify", str(store)])
    assert before.exit_code == 4 and "unreplicated" in before.output  # two seeds: no verdict either way

    def launch_sweep(spec, interrupt: bool):
        if interrupt:
            raise Interrupted()
        return launch(spec, store, plot=False, echo=lambda line: None)

    settings = dict(budget_seeds=2, seeds_per_look=1, sweeps=("grow",))  # at most 3 looks, each at 1 - 0.05/3
    with pytest.raises(Interrupted):
        decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=True), echo=lambda line: None, **settings)
    with pytest.raises(DecideConflict):  # an unfinished run is finished with its own settings, never mixed with others
        decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=False), echo=lambda line: None, budget_seeds=5)
    report = decide(store, launch_sweep=lambda spec: launch_sweep(spec, interrupt=False), echo=lambda line: None, **settings)

    looks = pd.read_parquet(store / "decisions")
    assert report.looks == looks["look"].nunique() == looks["look"].max() + 1 >= 2  # each look once, the first before any seed was added
    assert np.allclose(looks["confidence"], 1 - 0.05 / 3)
    first, last = looks[looks["look"] == 0], looks[looks["look"] == looks["look"].max()]
    assert set(first["seeds"]) == {2} and set(first["outcome"]) == {"unreplicated"}
    assert set(last["seeds"]) == {2 + len(report.added["grow"])} and 1 <= len(report.added["grow"]) <= 2
    assert set(report.added["grow"]) == set(range(2, 2 + len(report.added["grow"])))  # new seeds, never one the sweep had
    assert len(stored_trial_ids(store, sweeps=["grow"])) == 6 * (2 + len(report.added["grow"]))  # the added seeds' trials, once each
    judged = {v.claim_id: v.outcome for v in report.verdicts if v.sweep == "grow" and v.outcome != "no data"}  # C3b: no k >= 150 here
    assert judged and all(outcome in ("pass", "fail", "inconclusive") for outcome in judged.values())  # replicated now, whatever they say
    assert report.why_stopped


def test_decide_needs_a_budget_and_says_so_in_one_line(tmp_path):
    from orchestrator.store import open_store

    result = CliRunner().invoke(cli, ["decide", str(open_store(tmp_path / "store"))])
    assert result.exit_code == 2 and "needs a budget" in result.output and len(result.output.strip().splitlines()) == 1
