"""Per-label decision thresholds of a multi-label model, each chosen to maximise that label's F1 on validation.

A sigmoid's 0.5 is rarely the best cut for a rare label (its probabilities stay low); one threshold per label, picked
on the validation split only, usually raises macro-F1 and never looks at the test split.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics import CatMetric

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


class TunedOnValidation(torch.nn.Module):
    """A validation epoch's probabilities and targets (torchmetrics ``CatMetric``: gathered over DDP ranks), turned at
    the epoch's end into predictions at the thresholds :func:`choose_thresholds` picks on them.

    So ``val/f1_macro`` (what checkpointing and early stopping rank epochs by) is the macro-F1 the epoch reaches
    with the thresholds its checkpoint would get: at a fixed 0.5 it stays 0 for the first epochs, while the sigmoids
    of rare labels are still below 0.5, and early stopping would end the run before it learned anything.
    """

    def __init__(self) -> None:
        super().__init__()
        self.probabilities, self.targets = CatMetric(), CatMetric()

    def update(self, probabilities: torch.Tensor, targets: torch.Tensor) -> None:
        self.probabilities.update(probabilities.float())
        self.targets.update(targets.float())

    def predictions(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(0/1 predictions at the tuned thresholds, int targets) of the whole epoch; then starts the next one."""
        probabilities, targets = self.probabilities.compute(), self.targets.compute()
        self.probabilities.reset()
        self.targets.reset()
        chosen = choose_thresholds(probabilities.cpu().numpy(), targets.cpu().numpy())
        return (probabilities >= torch.as_tensor(chosen, device=probabilities.device)).int(), targets.int()
