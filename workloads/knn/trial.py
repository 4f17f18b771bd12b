"""What one trial of Figure 10 computes: k-NN classifiers on Experiment 3's data at one (k, L),
and where the spectra are read, the net beside them."""

from __future__ import annotations

import torch

from workloads.knn.config import KnnConfig
from workloads.manifold_classification.trial import labels_of
from workloads.manifold_classification.trial import problem as classification_problem
from workloads.signals import box_grid, gamma, latent_grid
from workloads.spectrum import radial_spectrum
from workloads.training import Checkpointing, WorkloadResult, solve


def spectrum_rows(classifier: str, neighbors: int | None, probability: torch.Tensor) -> list[dict]:
    """The radial spectrum rows of one classifier's probability map, (P, P)."""
    zeta = radial_spectrum(probability).tolist()
    return [{"classifier": classifier, "neighbors": neighbors, "frequency": r, "zeta": z} for r, z in enumerate(zeta)]


def run(config: KnnConfig, device: torch.device, prepared: bytes | None = None, checkpointing: Checkpointing | None = None) -> WorkloadResult:
    """Fit a k-NN classifier per K on the trial's points and labels (scikit-learn's); where
    spectrum_at says, read their probability maps over the box and train the net beside them."""
    from sklearn.neighbors import KNeighborsClassifier

    points = gamma(latent_grid(config.n_points), config.L).numpy()
    labels = labels_of(config).long().numpy()
    side = config.box_points
    box = box_grid(config.box_half_width, side)
    at_spectrum = tuple(config.spectrum_at) == (config.k, config.L)
    accuracy, spectra = [], []
    for neighbors in config.neighbors:
        knn = KNeighborsClassifier(n_neighbors=neighbors).fit(points, labels)
        accuracy.append({"classifier": "knn", "neighbors": neighbors, "accuracy": float(knn.score(points, labels))})
        if at_spectrum:
            ones = list(knn.classes_).index(1) if 1 in knn.classes_ else None
            probability = knn.predict_proba(box.numpy())[:, ones] if ones is not None else box[:, 0].numpy() * 0
            spectra += spectrum_rows("knn", neighbors, torch.tensor(probability).reshape(side, side))
    if not at_spectrum:
        return WorkloadResult(summary={"net_accuracy": None}, tables={"classifier_accuracy": accuracy})
    problem = classification_problem(config, device)
    result = solve(problem, checkpointing)
    with torch.no_grad():
        probability = torch.sigmoid(problem.model(box.to(device)).squeeze(-1)).cpu().reshape(side, side)
    accuracy.append({"classifier": "net", "neighbors": None, "accuracy": result.summary["accuracy"]})
    spectra += spectrum_rows("net", None, probability)
    summary = {"loss": result.summary["loss"], "parameters": result.summary["parameters"], "net_accuracy": result.summary["accuracy"]}
    return WorkloadResult(summary=summary, tables={"classifier_accuracy": accuracy, "radial_spectra": spectra, "curves": result.tables["curves"]})
