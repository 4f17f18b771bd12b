"""Figure 10 (appendix F.2): k-NN classifiers neither exploit the manifold nor stay smooth as a net does.

Each trial takes Experiment 3's points gamma_L(z_i) and labels at one (k, L) and fits a k-NN
classifier for each K; their training accuracies over the k x L grid are Figure 10 (a-d). At one
point, (k, L) = (150, 20), it also trains Experiment 3's net on the same data and reads each
classifier's probability of class 1 over a box around the manifold, and that map's radial
spectrum zeta (Figure 10e). The claims: k-NN accuracy does not rise with L as the net's does
(C7a, per K), and the net's spectrum decays faster than every k-NN's (C7b).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from results_schema import CURVES, Column, Table
from workloads.config import TRIAL_OVERHEAD_S, training_seconds
from workloads.experiment import Experiment
from workloads.knn.config import KnnConfig
from workloads.manifold_classification import EXPERIMENT as EXPERIMENT_3

CLASSIFIER_ACCURACY = Table(
    name="classifier_accuracy",
    doc="One row per (trial, classifier): its training accuracy on the trial's points (Figure 10 a-d).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("classifier", pa.string(), "'knn', or 'net' (Experiment 3's net, trained where the spectra are read)"),
        Column("neighbors", pa.int64(), "K of a k-NN classifier; null for the net"),
        Column("accuracy", pa.float64(), "training accuracy: the fraction of the training points it classifies right"),
    ),
)

RADIAL_SPECTRA = Table(
    name="radial_spectra",
    doc="One row per (trial, classifier, radial frequency): the spectrum zeta of its probability map over the box (Figure 10e).",
    columns=(
        Column("trial_id", pa.string(), "the trial (see trials.trial_id)"),
        Column("classifier", pa.string(), "'knn' or 'net'"),
        Column("neighbors", pa.int64(), "K of a k-NN classifier; null for the net"),
        Column("frequency", pa.int64(), "radial frequency r, cycles per side of the box"),
        Column("zeta", pa.float64(), "the 2-D DFT's magnitude summed over the angle at r (the paper's eq. 31), mean taken out"),
    ),
)


def seconds(config: dict[str, Any]) -> float:
    """k-NN fits are instant; the point where the spectra are read trains a net too."""
    at_spectrum = [config["k"], config["L"]] == list(config["spectrum_at"])
    return training_seconds(2, config) if at_spectrum else TRIAL_OVERHEAD_S * (1 + len(config["neighbors"]))


def constraints(config: KnnConfig) -> dict[str, str]:
    """Experiment 3's, a spectrum point that is a (k, L), and no K larger than the data."""
    if config.spectrum_at and len(config.spectrum_at) != 2:
        return {"spectrum_at": f"{list(config.spectrum_at)}: a (k, L) pair, or [] for none"}
    if max(config.neighbors) > config.n_points:
        return {"neighbors": f"K = {max(config.neighbors)} is more than the n_points={config.n_points} training points"}
    return EXPERIMENT_3.constraints(config)


EXPERIMENT = Experiment(
    name="knn",
    summary="Figure 10: k-NN classifiers on Experiment 3's grid; probability maps' radial spectra beside the net's",
    config=KnnConfig,
    columns=(Column("net_accuracy", pa.float64(), "training accuracy of the net trained at spectrum_at; null elsewhere"),),
    tables=(CLASSIFIER_ACCURACY, RADIAL_SPECTRA, CURVES),
    constraints=constraints,
    seconds_estimate=seconds,
    trains_one_net=False,
    figures=("Figure 10",),
)
