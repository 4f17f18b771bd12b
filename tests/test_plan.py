"""Batches are the unit of scheduling: few Tune trials whatever the sweep's size, each worth tens of
seconds, shrinking towards the end, and carrying their trials compactly and exactly."""

from __future__ import annotations

import pytest

from orchestrator.job import Stage
from orchestrator.plan import MAX_BATCHES, TARGET_BATCH_S, Batch, TrialSpec, batches, expand, plan, unit_id, units
from orchestrator.spec import load_spec, validate_spec


def trials(count: int) -> list[TrialSpec]:
    return [TrialSpec(f"s-{i:06d}", "s", "manifold_classification", f"{i:06d}", {"k": i, "width": 8}) for i in range(count)]


def sizes(grouped: list[list[tuple]]) -> list[int]:
    return [sum(map(len, batch)) for batch in grouped]


@pytest.mark.parametrize(
    ("count", "trial_s", "slots"),
    [
        pytest.param(100, 0.03, 2, id="tiny-trials-small-sweep"),
        pytest.param(2_000, 0.03, 2, id="tiny-trials"),
        pytest.param(100_000, 0.03, 100, id="1e5-tiny-trials-100-gpus"),
        pytest.param(100_000, 60.0, 100, id="1e5-minute-trials-100-gpus"),
        pytest.param(48, 11.0, 2, id="cpu-preset"),
    ],
)
def test_a_sweep_of_any_size_is_at_most_max_batches_tune_trials_and_every_trial_runs_once(count, trial_s, slots):
    work = units(trials(count), 1, ())
    grouped = batches(work, lambda t: trial_s, slots)
    assert len(grouped) <= MAX_BATCHES
    assert [t.trial_id for batch in grouped for unit in batch for t in unit] == [t.trial_id for t in trials(count)]
    largest = max(sizes(grouped)) * trial_s
    assert largest <= max(TARGET_BATCH_S, count * trial_s / (MAX_BATCHES - 1)) + trial_s  # about TARGET_BATCH_S, unless the cap needs more


def test_batches_are_worth_about_the_target_then_shrink_so_the_last_ones_end_together():
    grouped = batches(units(trials(20_000), 1, ()), lambda t: 0.03, slots=2)  # 600 s of work
    counts = sizes(grouped)
    assert counts[0] == round(TARGET_BATCH_S / 0.03)  # 1000 trials x 30 ms
    assert counts == sorted(counts, reverse=True)
    floor_s = 20_000 * 0.03 / (MAX_BATCHES - 1)  # the least a batch is worth, so there are at most MAX_BATCHES
    assert counts[-2] * 0.03 < 1.1 * floor_s  # the last batches are as small as that allows: they end together
    assert 20 < len(grouped) < 60
    # Each batch takes at most a quarter (1 / (2 x slots)) of the work left when it is formed, or the floor.
    left = 20_000
    for count in counts:
        assert count <= max(left // 4, floor_s / 0.03) + 1
        left -= count


def test_a_few_long_trials_spread_over_the_slots_rather_than_fill_one_batch():
    grouped = batches(units(trials(8), 1, ()), lambda t: 10.0, slots=4)
    assert sizes(grouped) == [1] * 8


def test_batch_size_fixes_the_trials_per_batch_and_packs_stay_whole():
    assert sizes(batches(units(trials(10), 1, ()), lambda t: 1.0, 2, batch_size=4)) == [4, 4, 2]
    assert sizes(batches(units(trials(10), 3, ("width",)), lambda t: 1.0, 2, batch_size=4)) == [6, 4]  # units of 3, 3, 3, 1


def test_a_batch_travels_as_a_compact_config_and_comes_back_the_same(write_sweep):
    spec = load_spec(write_sweep(), ["seeds=[0, 1]"])
    [batch] = plan(expand(spec), lambda t: 0.01, slots=1, batch_size=8, resume_from={expand(spec)[2].trial_id: "/ckpt"})
    config = batch.to_config()
    net = {"encoding", "fourier_features", "fourier_scale", "activation", "sine_omega", "optimizer", "momentum"}
    assert set(config["shared"]) == {"n_points", "width", "depth", "steps", "learning_rate", "threshold", "eval_every_steps"} | net
    assert all(set(own) == {"k", "L", "seed"} for unit in config["units"] for _, _, _, own in unit)  # only what differs
    assert Batch.from_config(config) == batch
    assert batch.resume_from == {expand(spec)[2].trial_id: "/ckpt"}


def test_a_units_id_is_its_trials_id_alone_and_a_stable_hash_of_its_members_packed():
    one, two = trials(2)
    assert unit_id((one,)) == one.trial_id
    assert unit_id((one, two)) == unit_id([one, two]) != unit_id((two, one))
    assert unit_id((one, two)).startswith("s-pack-")


def test_every_job_has_a_cost_estimate_preparations_and_collapsed_fields_included():
    from orchestrator.preparation import preparation_jobs
    from workloads import REGISTRY

    for name in REGISTRY:
        spec = validate_spec({"name": "est", "experiment": name, "seeds": [0, 1]}, "test")
        trials = expand(spec)
        jobs = preparation_jobs(spec, trials) if spec.experiment_entry.prepared_fields else []
        for job in trials + jobs:  # a preparation's config holds only its prepared fields; a trial's has nulls
            assert spec.experiment_entry.seconds(job.config, job.stage is Stage.PREPARE) > 0, (name, job.stage)


def test_a_preparation_is_estimated_by_what_it_computes_not_as_a_trial():
    """theta* trains a net for its steps while a perturbation trial evaluates it once; an
    autoencoder's cost follows its own steps, not the regressing net's."""
    from orchestrator.preparation import preparation_jobs

    spec = validate_spec({"name": "est", "experiment": "perturbation", "seeds": [0]}, "test")
    trials = expand(spec)
    [theta] = preparation_jobs(spec, trials)
    entry = spec.experiment_entry
    assert entry.seconds(theta.config, preparation=True) > 100 * entry.seconds(trials[0].config)

    def autoencoder_s(**fields: int) -> float:
        spec = validate_spec({"name": "est", "experiment": "noise_regression", "seeds": [0], "workload": fields}, "test")
        [job] = preparation_jobs(spec, expand(spec)[:1])
        return spec.experiment_entry.seconds(job.config, preparation=True)

    assert autoencoder_s(autoencoder_steps=2000) > 1.9 * autoencoder_s(autoencoder_steps=1000)
    assert autoencoder_s(steps=100) == autoencoder_s(steps=100_000)
