"""Figure 10 at toy size: real k-NN classifiers (scikit-learn's) on Experiment 3's data, the radial
spectrum of known maps, the figure drawn from a real store, and `verify`'s two claims."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from conftest import stored_sweep, verdicts_of

from orchestrator.figures import draw_figures
from orchestrator.results import StoredSweep
from workloads.claims import spearman
from workloads.spectrum import radial_spectrum

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def high_frequency_share(spectrum: pd.DataFrame) -> float:
    """C7b's share, computed here with pandas as the test's own reading: the part of zeta at radial
    frequencies above half the highest."""
    top = spectrum["frequency"].max()
    return float(spectrum.loc[spectrum["frequency"] > top / 2, "zeta"].sum() / spectrum["zeta"].sum())


def test_the_radial_spectrum_of_a_pure_2d_sinusoid_peaks_at_its_frequency():
    side = 64
    x = torch.arange(side) / side
    for fx, fy in ((3, 0), (0, 12), (6, 8)):
        wave = 0.5 * torch.sin(2 * math.pi * (fx * x[None, :] + fy * x[:, None]))
        zeta = radial_spectrum(wave)
        assert int(zeta.argmax()) == round(math.hypot(fx, fy))
        assert float(zeta.sum()) == pytest.approx(0.5, rel=1e-4)  # a sine of amplitude A puts A in its bin


KNN = """\
name: fig10
experiment: knn
grid: {k: [5, 150, 180], L: [0, 2, 4]}
seeds: [0]
workload: {n_points: 400, width: 16, depth: 3, steps: 200, learning_rate: 1.0e-2, eval_every_steps: 100, box_points: 32, spectrum_at: [5, 2]}
"""


NET = """\
name: fig10-net
experiment: manifold_classification
grid: {k: [150, 180], L: [0, 2, 4]}
seeds: [0]
workload: {n_points: 400, width: 16, depth: 3, steps: 200, learning_rate: 1.0e-2, eval_every_steps: 100}
"""


def test_figure_10_fits_k_nn_per_k_reads_the_maps_spectra_beside_the_nets_and_verify_judges_both_claims(tmp_path, write_sweep):
    store, sweep = stored_sweep(tmp_path, KNN, write_sweep)
    accuracy = StoredSweep(store, sweep).table("classifier_accuracy", "k", "L")
    knn = accuracy[accuracy["classifier"] == "knn"]
    assert len(knn) == 9 * 4 and (knn.loc[knn["neighbors"] == 1, "accuracy"] == 1.0).all()  # 1-NN knows its own points
    assert accuracy.loc[accuracy["classifier"] == "net", ["k", "L"]].values.tolist() == [[5, 2]]  # the net only at spectrum_at
    spectra = StoredSweep(store, sweep).table("radial_spectra")
    assert sorted(spectra.fillna({"neighbors": 0}).groupby(["classifier", "neighbors"]).size().index.tolist()) == [
        ("knn", 1), ("knn", 5), ("knn", 10), ("knn", 20), ("net", 0)
    ]
    shares = {n: high_frequency_share(rows) for n, rows in spectra[spectra["classifier"] == "knn"].groupby("neighbors")}
    assert shares[1] > shares[20]  # more neighbours, a smoother map

    verdicts = verdicts_of(store, "C7a", "C7b")
    assert [group for claim, group in verdicts if claim == "C7a"] == ["K = 1", "K = 5", "K = 10", "K = 20"]
    # Without Experiment 3's net on the same cells there is nothing to compare the k-NN with.
    assert all(v.outcome == "no data" and "launch Experiment 3's net" in v.notes[0] for (claim, _), v in verdicts.items() if claim == "C7a")

    stored_sweep(tmp_path, NET, write_sweep)
    verdicts = verdicts_of(store, "C7a", "C7b")
    one = verdicts[("C7a", "K = 1")]  # 1-NN's training accuracy is 1 at every L: no evidence either way, never a pass
    assert (one.outcome, one.value) == ("no data", None) and any("no evidence" in note for note in one.notes)
    net_accuracy = pd.read_parquet(store / "manifold_classification").pivot_table(index="L", columns="k", values="accuracy")
    for count in (5, 10, 20):  # the net's rho(L, accuracy) minus the k-NN's, on each k >= 150 where both vary with L
        lines = knn[(knn["neighbors"] == count) & (knn["k"] >= 150)].pivot_table(index="L", columns="k", values="accuracy")
        gaps = [spearman(pd.Series(net_accuracy.index), net_accuracy[k]) - spearman(pd.Series(lines.index), lines[k])
                for k in lines.columns if lines[k].nunique() > 1 and net_accuracy[k].nunique() > 1]
        if gaps:
            assert verdicts[("C7a", f"K = {count}")].value == pytest.approx(sum(gaps) / len(gaps))
        else:
            assert verdicts[("C7a", f"K = {count}")].outcome == "no data"  # at toy size most lines are flat (tests/test_claims.py has values)
    net = high_frequency_share(spectra[spectra["classifier"] == "net"])
    assert verdicts[("C7b", None)].value == pytest.approx(net / min(shares.values()))
    [png, _] = draw_figures(store, sweep)
    assert png.name == "figure10_fig10.png" and png.read_bytes()[:8] == PNG_MAGIC


def test_an_untrained_net_fails_c7b_on_its_premise_however_smooth_its_spectrum(tmp_path, write_sweep):
    """The net at the spectrum point trained for one step: its function is smooth because it
    learned nothing, and C7b (about what training prefers) must not pass on it."""
    untrained = KNN.replace("grid: {k: [5, 150, 180], L: [0, 2, 4]}", "grid: {k: [5], L: [2]}").replace("steps: 200", "steps: 1")
    store, _ = stored_sweep(tmp_path, untrained, write_sweep)
    [c7b] = [v for (claim, _), v in verdicts_of(store, "C7b").items()]
    assert c7b.outcome == "fail" and c7b.premise_failed and "not every net fits its training points" in c7b.premise_failed
