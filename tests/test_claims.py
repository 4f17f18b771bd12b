"""Each claim's statistic against a value worked out by hand on a tiny table, and the jackknife
over seeds: its interval, and the verdicts it leads to (pass, fail, inconclusive, unreplicated)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from orchestrator.cli import cli
from orchestrator.store import open_store
from tests.conftest import verdicts_of
from tests.test_verify import add_trial
from workloads.claims import Evidence, at_confidence, rank_correlation, ranks
from workloads.decision_boundary.claims import C5A, pair_mean


@pytest.fixture
def store(tmp_path: Path) -> Path:
    return open_store(tmp_path / "store")


def test_ranks_share_their_mean_rank_and_rho_is_the_correlation_of_ranks():
    assert ranks(np.array([3.0, 1.0, 2.0, 2.0, 5.0])).tolist() == [4.0, 1.0, 2.5, 2.5, 5.0]
    assert rank_correlation(np.array([1, 2, 3]), np.array([20, 10, 30])) == pytest.approx(0.5)  # 1 - 6 (1 + 1) / (3 * 8)
    assert math.isnan(rank_correlation(np.array([1, 2, 3]), np.array([7, 7, 7])))


def test_the_jackknife_t_interval_of_a_mean_is_students_t_interval_worked_by_hand():
    evidence = Evidence(lambda w: float(w[0] @ np.array([0.0, 1.0, 2.0])), (3,))
    # Left out in turn: means 1.5, 1, 0.5; variance (2/3)(0.25 + 0 + 0.25) = 1/3, the mean's s^2/n
    # (s = 1); t(0.975, 2 df) = 4.3027: 1 -+ 4.3027 / sqrt(3).
    assert evidence.value() == 1.0
    interval, left_out = evidence.interval()
    assert interval == pytest.approx([1 - 4.302653 / math.sqrt(3), 1 + 4.302653 / math.sqrt(3)], abs=1e-5) and left_out == 3
    assert evidence.per_seed() == [0.0, 1.0, 2.0]
    assert Evidence(lambda w: float(w[0] @ np.array([0.0, 1.0])), (2,)).interval() == (None, 0)  # 2 seeds: unreplicated
    bounded = Evidence(lambda w: float(w[0] @ np.array([0.9, 1.0, 1.0])), (3,), bounds=(-1.0, 1.0))
    assert bounded.interval()[0][1] == 1.0  # a rank correlation's interval stops at 1


def test_a_verdict_whose_interval_straddles_its_threshold_is_inconclusive_and_verify_exits_3(store):
    # The flat curve is 1; the manifold's is 0.5 for seeds 0 and 1 and 1.6 for seed 2: the mean (0.87) is
    # below at every step, but a quarter of the resamples draw seed 2 twice and put it above.
    for seed, manifold in ((0, 0.5), (1, 0.5), (2, 1.6)):
        for inputs, loss in (("manifold", manifold), ("flat", 1.0)):
            add_trial(store, "nr", "noise_regression", seed, inputs=inputs, tables={"curves": [dict(step=s, loss=loss) for s in (0, 100, 200)]})
    [c6] = verdicts_of(store, "C6").values()
    # Left out in turn: seed 0 or 1 out puts the manifold's mean (1.05) above: values 0, 0, 1.
    assert (c6.value, c6.interval, c6.outcome, c6.agreeing) == (1.0, [0.0, 1.0], "inconclusive", 2)
    result = CliRunner().invoke(cli, ["verify", str(store)])
    assert result.exit_code == 3, result.output
    assert "1 inconclusive, 0 unreplicated, 15 no data; inconclusive: C6 on nr;" in result.output


def test_two_seeds_are_unreplicated_never_pass_and_show_each_seeds_own_value(store):
    for seed in (0, 1):
        for L in (0, 4, 10):
            add_trial(store, "reg", "manifold_regression", seed, L=L, loss=1.0 / (1 + L) + 0.01 * seed)
    [c2] = verdicts_of(store, "C2").values()
    assert (c2.value, c2.interval, c2.outcome, c2.per_seed, c2.agreeing) == (pytest.approx(-1.0), None, "unreplicated", [-1.0, -1.0], 2)
    result = CliRunner().invoke(cli, ["verify", str(store)])
    assert result.exit_code == 4, result.output  # none failed or is inconclusive, one unreplicated
    assert "each seed on its own: -1.000, -1.000" in result.output and "2 seeds, an interval needs 3" in result.output


def test_a_store_with_no_evidence_at_all_does_not_exit_0(store):
    result = CliRunner().invoke(cli, ["verify", str(store)])
    assert result.exit_code == 5 and "0 pass" in result.output


def test_c1_and_c1b_by_hand(store):
    # Seed means of |F(k)|/A at steps 0, 100, 200; the seeds sit 0.05 either side of them.
    means = {1: [0.1, 0.4, 0.6], 2: [0.2, 0.6, 0.6], 3: [0.1, 0.3, 0.7]}
    for seed, offset in ((0, -0.05), (1, 0.05)):
        spectra = [dict(step=100 * i, k=k, amplitude=1.0, magnitude=m + offset, normalized_magnitude=m + offset)
                   for k, curve in means.items() for i, m in enumerate(curve)]
        by_step = ((1, 1), (4, 1), (2, 1))  # two layers' norms: products 1, 4, 2
        norms = [dict(step=100 * i, layer=layer, spectral_norm=norm) for i, pair in enumerate(by_step) for layer, norm in enumerate(pair)]
        add_trial(store, "lo", "learning_order", seed, amplitudes="equal", frequencies=[1, 2, 3], tables={"spectra": spectra, "layer_norms": norms})
    verdicts = verdicts_of(store, "C1", "C1b")
    c1 = verdicts[("C1", "amplitudes: equal")]
    # Learning times, the area above each curve (trapezoids of 100 steps): k = 1: 100 * (0.9 + 0.6) / 2 +
    # 100 * (0.6 + 0.4) / 2 = 125; k = 2: 60 + 40 = 100; k = 3: 80 + 50 = 130. Of the pairs (1, 2), (1, 3),
    # (2, 3) the first is out of order, the others in order: 2 / 3.
    assert c1.series == {"1": pytest.approx(125.0), "2": pytest.approx(100.0), "3": pytest.approx(130.0)} and c1.never_crossed == []
    assert c1.value == pytest.approx(2 / 3) and c1.outcome == "unreplicated"  # two seeds: no verdict either way
    # The upper half of k is k = 3: its fit 0.1, 0.3, 0.7 against the bound 1, 4, 2: ranks 1, 2, 3 against 1, 3, 2.
    c1b = verdicts[("C1b", "amplitudes: equal")]
    assert c1b.value == pytest.approx(0.5) and c1b.series == {"0": pytest.approx(1.0), "100": pytest.approx(4.0), "200": pytest.approx(2.0)}
    assert c1b.premise_failed is None and any("k = 3 (the upper half)" in note for note in c1b.notes)


def test_c1b_fails_where_the_norms_rise_while_only_low_frequencies_are_fitted(store):
    """The store that fooled the old C1b: the norms grow with every step, the low frequencies are
    fitted as they do, the high ones never; over every k the fit rose with time, and rho was 1."""
    for seed in (0, 1, 2):
        spectra = [dict(step=s, k=k, amplitude=1.0, magnitude=m, normalized_magnitude=m)
                   for s in range(0, 1100, 100) for k in (5, 10, 40, 50) for m in [min(1.0, s / (100 * k)) if k <= 10 else 0.01 + 0.001 * seed]]
        norms = [dict(step=s, layer=0, spectral_norm=1 + s / 100 + 0.01 * seed) for s in range(0, 1100, 100)]
        add_trial(store, "lo", "learning_order", seed, amplitudes="equal", frequencies=[5, 10, 40, 50],
                  tables={"spectra": spectra, "layer_norms": norms})
    c1b = verdicts_of(store, "C1b")[("C1b", "amplitudes: equal")]
    assert c1b.outcome == "fail" and "the higher frequencies are never fitted" in c1b.premise_failed


def test_c1_is_inconclusive_not_a_fail_where_every_k_crossed_at_the_same_eval_step(store):
    for seed in (0, 1, 2):
        spectra = [dict(step=s, k=k, amplitude=1.0, magnitude=m, normalized_magnitude=m) for s in (0, 100, 200) for k in (1, 2, 3)
                   for m in [0.0 if s == 0 else 0.9 + 0.01 * seed]]
        add_trial(store, "lo", "learning_order", seed, amplitudes="equal", frequencies=[1, 2, 3], tables={"spectra": spectra})
    c1 = verdicts_of(store, "C1")[("C1", "amplitudes: equal")]
    assert c1.outcome == "inconclusive" and c1.unresolved and "every k that crossed did so at step 100" in c1.unresolved


def test_c9a_fails_where_the_bins_cross_together_within_a_few_eval_steps(store):
    """The store that fooled the old C9a (rho +0.9): five bins early, fifteen bunched in the last
    fifth of the run, in order but with no lag between them."""
    steps = {b: 40 + 20 * b if b < 5 else 160 + 3 * (b - 5) for b in range(20)}
    for seed in (0, 1, 2):
        for noise in ("white", "high_frequency"):
            spectra = [dict(step=s, bin=b, first_index=b, last_index=b, magnitude=m, target_magnitude=1.0, normalized_magnitude=m)
                       for b in range(20) for s in range(0, 201, 1) for m in [1.0 if s >= steps[b] else 0.1 + 0.001 * seed]]
            clean = [dict(step=s, clean_loss=0.2) for s in (0, 100, 200)]
            add_trial(store, "ks", "kernel_spectrum", seed, target_noise=noise, tables={"kernel_spectra": spectra, "clean_curves": clean})
    c9a = [v for (claim, _), v in verdicts_of(store, "C9a").items()]
    assert len(c9a) == 2 and all(v.outcome == "fail" and v.value < 0.75 for v in c9a)


def test_c2b_by_hand_clips_the_seed_mean_and_reads_only_the_upper_half_of_the_frequencies(store):
    # k = 30, 40 are above the median 25; k = 10, 20 must not count (5.0 would swamp everything).
    upper = {0: (0.2, 0.2), 4: (1.5, 0.5), 10: (0.9, 0.9)}  # (k = 30, k = 40) at every step
    for seed in (0, 1):
        for L, (k30, k40) in upper.items():
            spectra = [dict(step=s, k=k, amplitude=1.0, magnitude=m, normalized_magnitude=m)
                       for s in (0, 100) for k, m in ((10, 5.0), (20, 5.0), (30, k30), (40, k40))]
            add_trial(store, "reg", "manifold_regression", seed, L=L, loss=1.0 / (1 + L), frequencies=[10, 20, 30, 40], tables={"spectra": spectra})
    [c2b] = verdicts_of(store, "C2b").values()
    # L = 4: 1.5 clips to 1, so (1 + 0.5) / 2 = 0.75 < L = 10's 0.9; unclipped it would be 1.0 and rho 0.5.
    assert c2b.series == {"0": pytest.approx(0.2), "4": pytest.approx(0.75), "10": pytest.approx(0.9)}
    assert c2b.value == pytest.approx(1.0) and c2b.outcome == "unreplicated"


def test_c3_by_hand_measures_accuracy_above_each_cells_baseline(store):
    baseline = {50: 0.6, 150: 0.7, 250: 0.65}  # the majority class's share varies with k
    accuracy = {0: (0.9, 0.7, 0.65), 5: (0.95, 0.8, 0.7), 10: (0.95, 0.9, 0.75)}
    for seed in (0, 1):
        for L, row in accuracy.items():
            for k, value in zip(baseline, row):
                add_trial(store, "cls", "manifold_classification", seed, k=k, L=L, accuracy=value, baseline_accuracy=baseline[k])
    verdicts = verdicts_of(store, "C3a", "C3b")
    c3a, c3b = verdicts[("C3a", None)], verdicts[("C3b", None)]
    # L = 0: lifts 0.3, 0, 0 -> rho -1.5 / sqrt(2 * 1.5) = -0.866 (raw accuracy would give -1); L = 5, 10: -1.
    assert c3a.series == {"0": pytest.approx(-0.866, abs=1e-4), "5": -1.0, "10": -1.0}
    assert c3a.value == pytest.approx((-math.sqrt(3) / 2 - 2) / 3)
    assert c3b.series == {"150": 1.0, "250": 1.0} and c3b.value == pytest.approx(1.0)
    assert "2 of 9 cells sit at their majority-class baseline (within 0.005)" in c3a.notes


def test_c4_by_hand_follows_the_authors_mean_of_magnitudes_and_reports_the_other_reading(store):
    authors = {10: (1, 0.8, 0.4), 20: (1, 0.4, 0.3), 30: (1, 0.6, 0.6)}
    other = {10: (1, 0.3, 0.1), 20: (1, 0.2, 0.1), 30: (1, 0.9, 0.4)}
    for seed in (0, 1):
        for i, delta in enumerate((0.0, 1.0, 2.0)):
            rows = [dict(delta=delta, k=k, amplitude=1.0, unperturbed_magnitude=1.0, magnitude=other[k][i], normalized_magnitude=other[k][i],
                         mean_magnitude=authors[k][i], normalized_mean_magnitude=authors[k][i]) for k in authors]
            add_trial(store, "pt", "perturbation", seed, delta=delta, frequencies=[10, 20, 30], tables={"perturbation_spectra": rows})
    [c4] = verdicts_of(store, "C4").values()
    # Authors': survival, the area under each curve over delta: 0.9 + 0.6 = 1.5, 0.7 + 0.35 = 1.05, 0.8 + 0.6 = 1.4.
    # (10, 20) and (10, 30) in order (the higher k survives less), (20, 30) not: 2 / 3. k = 30 never falls below 0.5.
    assert c4.series == {"10": pytest.approx(1.5), "20": pytest.approx(1.05), "30": pytest.approx(1.4)} and c4.never_crossed == [30]
    assert c4.value == pytest.approx(2 / 3) and c4.outcome == "unreplicated"
    # The other reading: 0.85, 0.75, 1.6 -> (10, 20) in order, (10, 30) and (20, 30) not: 1 / 3.
    assert any("magnitude of the direction-mean spectrum (normalized_magnitude): share of pairs in order 0.333" in note for note in c4.notes)


def test_c5_by_hand_averages_the_pairs_and_fails_when_a_net_does_not_fit_its_points(store):
    signs = {0: (1, 1, 1, 1), 1: (1, 1, 1, -1), 2: (1, 1, -1, -1)}
    fitted = {0: 1.0, 1: 0.97, 2: 0.9}
    for seed, row in signs.items():
        maps = [dict(region="manifold", x=float(i), y=0.0, logit=float(s), label=1) for i, s in enumerate(row)]
        maps += [dict(region="box", x=float(i), y=1.0, logit=float(s), label=None) for i, s in enumerate(row)]
        add_trial(store, "db", "decision_boundary", seed, accuracy=fitted[seed], baseline_accuracy=0.6, tables={"decision_maps": maps})
    verdicts = verdicts_of(store, "C5a", "C5b")
    c5a = verdicts[("C5a", None)]
    # Pairs 0-1: 1/4, 0-2: 2/4, 1-2: 1/4 -> mean 1/3.
    assert c5a.series == {"0-1": 0.25, "0-2": 0.5, "1-2": 0.25} and c5a.value == pytest.approx(1 / 3)
    assert c5a.outcome == "fail" and any("premise failed" in note and "seed 2: 0.900" in note for note in c5a.notes)
    assert at_confidence(C5A, c5a, 0.99).outcome == "fail"  # judged again (decide's looks): the premise still fails it
    c5b = verdicts[("C5b", None)]
    assert c5b.value == pytest.approx(1 / 3) and c5b.interval is not None  # 3 seeds: an interval, and it lies above 0.1...
    assert c5b.outcome == "fail" and "seed 2: 0.900" in c5b.premise_failed  # ...but nets that do not fit may differ anywhere
    matrix = np.array([[np.nan, 0.25, 0.5], [np.nan, np.nan, 0.25], [np.nan, np.nan, np.nan]])
    assert pair_mean([matrix], np.array([0.5, 0.5, 0.0])) == pytest.approx(0.25)  # seed 2 drawn out: the pair 0-1 alone


def test_c6_by_hand_counts_the_steps_at_which_the_manifold_is_below(store):
    manifold = {0: (1.0, 0.45, 1.15, 0.85), 1: (1.0, 0.55, 1.25, 0.95)}  # seed means 1, 0.5, 1.2, 0.9
    for seed, curve in manifold.items():
        for inputs, losses in (("manifold", curve), ("flat", (1.0,) * 4)):
            curves = [dict(step=100 * i, loss=v) for i, v in enumerate(losses)]
            add_trial(store, "nr", "noise_regression", seed, inputs=inputs, tables={"curves": curves})
    [c6] = verdicts_of(store, "C6").values()
    assert c6.value == pytest.approx(2 / 3)  # below at steps 100 and 300, not at 200; step 0 is not compared


def test_c7_by_hand_compares_each_knn_with_the_net_on_the_same_cells(store):
    net = {(150, 0): 0.6, (150, 5): 0.7, (150, 10): 0.8, (250, 0): 0.6, (250, 5): 0.6, (250, 10): 0.7}
    knn = {(150, 0): 0.7, (150, 5): 0.6, (150, 10): 0.65, (250, 0): 0.6, (250, 5): 0.6, (250, 10): 0.6}
    zeta = {"net": (None, [1, 1, 1, 1, 0]), "knn1": (1, [1, 1, 1, 1, 1]), "knn5": (5, [0, 1, 1, 1, 1])}
    for seed in (0, 1):
        for (k, L), value in knn.items():
            spectra = []
            if (k, L) == (150, 10):
                spectra = [dict(classifier="net" if name == "net" else "knn", neighbors=n, frequency=f, zeta=float(z))
                           for name, (n, zs) in zeta.items() for f, z in enumerate(zs)]
            add_trial(store, "kn", "knn", seed, k=k, L=L, tables={"classifier_accuracy": [dict(classifier="knn", neighbors=5, accuracy=value)],
                                                               "radial_spectra": spectra})
    for (k, L), value in net.items():
        add_trial(store, "net", "manifold_classification", 0, k=k, L=L, accuracy=value, baseline_accuracy=0.6)
    verdicts = verdicts_of(store, "C7a", "C7b")
    c7a = verdicts[("C7a", "K = 5")]
    # k = 150: the net's rho 1, the k-NN's -0.5 -> 1.5; k = 250: the k-NN is flat, no evidence.
    assert c7a.series == {"150": 1.5} and c7a.value == pytest.approx(1.5)
    assert any("k = 250: the k-NN's accuracy is the same at every L" in note for note in c7a.notes)
    assert "2 and 1 seeds, an interval needs 3 in each" in " ".join(c7a.notes) and c7a.outcome == "unreplicated"  # the k-NN 2 seeds, the net 1
    # Shares above frequency 2: net 1/4, K = 1 2/5, K = 5 2/4 -> 0.25 / 0.4.
    c7b = verdicts[("C7b", None)]
    assert c7b.series == {"K = 1": 0.4, "K = 5": 0.5, "net": 0.25} and c7b.value == pytest.approx(0.625)


def test_pairs_in_order_count_ties_half_and_a_lag_asks_for_more_by_hand():
    from workloads.orders import pair_contrasts, share, share_range

    times = np.array([100.0, 100.0, 300.0, 50.0])
    # Pairs (0, 1) a tie: 1/2; (0, 2), (1, 2) in order; (0, 3), (1, 3), (2, 3) out of order: 2.5 of 6.
    assert share(pair_contrasts(times)) == pytest.approx(2.5 / 6)
    assert share(pair_contrasts(times, later=False)) == pytest.approx(3.5 / 6)  # the other way round
    # With a 10% lag a tie counts nothing, and 105 after 100 is not late enough: (0, 1) 0, (0, 2) 1, (1, 2) 1.
    assert share(pair_contrasts(np.array([100.0, 105.0, 300.0]), lag=0.1), ties=0.0) == pytest.approx(2 / 3)
    # The range over unresolved pairs: two resolved in order, one resolved out, one open: [2/4, 3/4].
    assert share_range(np.array([1.0, 1.0, -1.0, 0.0])) == (0.5, 0.75)
    assert share_range(np.array([1.0, np.nan])) == (1.0, 1.0)  # an undefined pair is not counted


def test_samples_of_the_same_seeds_are_left_out_jointly_a_paired_interval_by_hand():
    """C7a compares the k-NN's seed s with the net's seed s (the same points and labels): leaving a
    seed out of both at once makes the interval of a difference of means the paired t interval."""
    knn, net = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 2.5])
    evidence = Evidence(lambda w: float(w[0] @ knn - w[1] @ net), (3, 3), joint=True)
    differences = knn - net  # 0.5, 1, 0.5: mean 2/3, sd 0.2887, standard error 1/6
    half = 4.302653 * differences.std(ddof=1) / math.sqrt(3)
    assert evidence.interval()[0] == pytest.approx([differences.mean() - half, differences.mean() + half], abs=1e-5)
    apart = Evidence(lambda w: float(w[0] @ knn - w[1] @ net), (3, 3)).interval()[0]
    assert apart[1] - apart[0] > 2 * (2 * half)  # left out apart, the seeds' shared part counts twice: much wider
    assert evidence.per_seed() == pytest.approx([0.5, 1.0, 0.5])
