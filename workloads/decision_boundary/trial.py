"""What one trial of Figure 2 computes: Experiment 3's net, then its decision function over a box."""

from __future__ import annotations

import dataclasses

import torch

from workloads.decision_boundary.config import DecisionBoundaryConfig
from workloads.manifold_classification.trial import labels_of
from workloads.manifold_classification.trial import problem as classification_problem
from workloads.signals import box_grid
from workloads.training import NetView, Problem, Reading


def problem(config: DecisionBoundaryConfig, device: torch.device) -> Problem:
    """Experiment 3's training problem at the config's (k, L), its labels drawn from data_seed and
    its net from seed, trained for `steps` or until it fits fit_accuracy of its points; its last
    evaluation also reads the net over the box and on the training points (the decision_maps table)."""
    base = classification_problem(config, device, phase_seed=config.data_seed)
    box = box_grid(config.box_half_width, config.box_points)  # (P^2, 2)
    box_on = box.to(device)
    box_points, manifold_points = box.tolist(), base.inputs.cpu().tolist()
    labels = labels_of(config, config.data_seed).long().tolist()

    def fitted(row: dict) -> bool:
        return config.fit_accuracy is not None and row["accuracy"] >= config.fit_accuracy

    def maps(step: int, logits: torch.Tensor, net: NetView) -> Reading:
        # The trained net between the training points, read once: at its last eval.
        def rows(host: dict) -> dict:
            return {"decision_maps": [
                {"region": "box", "x": x, "y": y, "logit": v} for (x, y), v in zip(box_points, host["box"])
            ] + [
                {"region": "manifold", "x": x, "y": y, "logit": v, "label": label}
                for (x, y), v, label in zip(manifold_points, host["manifold"], labels)
            ]}

        return Reading({"box": net.forward(box_on), "manifold": logits}, rows)

    return dataclasses.replace(base, last=maps, tables=("decision_maps",), done=fitted)
