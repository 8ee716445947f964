"""The test confusion matrix: counted by torchmetrics, drawn with counts and row-normalised recall per cell."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from torchmetrics.classification import MulticlassConfusionMatrix

from review_cls.reports.figures import new_figure


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """C x C counts, rows = true class, columns = predicted class (the same metric family the model logs)."""
    metric = MulticlassConfusionMatrix(num_classes=num_classes)
    return metric(torch.as_tensor(y_pred, dtype=torch.long), torch.as_tensor(y_true, dtype=torch.long)).numpy()


def row_recall(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its total: the diagonal is per-class recall; an empty row stays 0."""
    totals = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)


def plot_confusion_matrix(counts: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """Cells coloured by row share (so rare classes are as visible as common ones), annotated "count / share".

    The figure grows with the class count and tick labels are rotated, so 10-20 classes stay readable.
    """
    num_classes = len(labels)
    share = row_recall(counts)
    side = max(5.0, 0.75 * num_classes + 2.5)
    figure = new_figure(side + 1.2, side)
    axes = figure.add_subplot()
    image = axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.02, label="share of the true class (row)")
    font = 9 if num_classes <= 8 else 8 if num_classes <= 14 else 6
    for row in range(num_classes):
        for column in range(num_classes):
            if counts[row, column] == 0 and row != column:
                continue
            colour = "white" if share[row, column] > 0.6 else "black"
            axes.text(column, row, f"{counts[row, column]}\n{share[row, column]:.0%}", ha="center", va="center",
                      fontsize=font, color=colour)
    axes.set_xticks(range(num_classes), labels, rotation=45, ha="right", rotation_mode="anchor", fontsize=font + 1)
    axes.set_yticks(range(num_classes), [f"{label} (n={total})" for label, total in zip(labels, counts.sum(axis=1))],
                    fontsize=font + 1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true (support)")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    axes.set_title(f"Confusion matrix, {title} ({counts.sum()} reviews, accuracy {accuracy:.1%})\n"
                   "each cell: count and share of its row; the diagonal share is the class recall", fontsize=10)
    return figure
