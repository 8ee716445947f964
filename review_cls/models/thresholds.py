"""Per-label decision thresholds of a multi-label model, each chosen to maximise that label's F1 on validation.

A sigmoid's 0.5 is rarely the best cut for a rare label (its probabilities stay low); one threshold per label, picked
on the validation split only, usually raises macro-F1 and never looks at the test split.
"""

from __future__ import annotations

import numpy as np

from review_cls.models.task import DEFAULT_THRESHOLD

GRID = np.round(np.arange(0.05, 0.951, 0.05), 2)


def per_label_f1(probabilities: np.ndarray, targets: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """F1 of every label (columns) at every threshold (rows of the result: len(thresholds) x L); 0 when a label
    has neither positives nor predictions."""
    predicted = probabilities[None, :, :] >= np.asarray(thresholds, dtype=float).reshape(-1, 1, 1)
    truth = np.asarray(targets, dtype=bool)[None, :, :]
    true_positives = (predicted & truth).sum(axis=1)
    wrong = (predicted ^ truth).sum(axis=1)
    denominator = 2 * true_positives + wrong
    return np.divide(2 * true_positives, denominator, out=np.zeros(denominator.shape), where=denominator > 0)


def choose_thresholds(probabilities: np.ndarray, targets: np.ndarray, grid: np.ndarray = GRID) -> np.ndarray:
    """For each label the grid threshold with the best validation F1; ties go to the one nearest 0.5, and a label
    without any validation positive keeps 0.5 (nothing to choose by)."""
    order = np.argsort(np.abs(grid - DEFAULT_THRESHOLD), kind="stable")
    scores = per_label_f1(probabilities, targets, grid[order])
    chosen = grid[order][scores.argmax(axis=0)]
    return np.where(np.asarray(targets).sum(axis=0) > 0, chosen, DEFAULT_THRESHOLD)
