"""Reliability diagram: accuracy against confidence in equal-width bins, before and after calibration."""

from __future__ import annotations

import numpy as np
import torch
from matplotlib.figure import Figure

from review_cls.reports.figures import new_figure

BINS = 15


def reliability_curve(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = BINS) -> tuple[np.ndarray, ...]:
    """Per confidence bin: mean confidence, accuracy and review count (bins with no review are left out)."""
    confidence, predicted = probabilities.max(dim=-1)
    correct = (predicted == labels).float().numpy()
    confidence = confidence.numpy()
    index = np.minimum((confidence * bins).astype(int), bins - 1)
    counts = np.bincount(index, minlength=bins)
    kept = counts > 0
    mean_confidence = np.bincount(index, weights=confidence, minlength=bins)[kept] / counts[kept]
    accuracy = np.bincount(index, weights=correct, minlength=bins)[kept] / counts[kept]
    return mean_confidence, accuracy, counts[kept]


def plot_reliability(curves: dict[str, tuple[torch.Tensor, torch.Tensor, float]], title: str) -> Figure:
    """One line per entry of ``curves`` (name -> (probabilities, labels, ECE)); the diagonal is perfect calibration."""
    figure = new_figure(5.2, 4.6)
    axes = figure.add_subplot(1, 1, 1)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfectly calibrated")
    for (name, (probabilities, labels, ece)), marker in zip(curves.items(), "os^"):
        confidence, accuracy, counts = reliability_curve(probabilities, labels)
        axes.plot(confidence, accuracy, marker=marker, label=f"{name} (ECE {ece:.3f})")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence of the predicted class")
    axes.set_ylabel("accuracy")
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize="small")
    return figure
