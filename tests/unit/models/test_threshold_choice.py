"""Per-label thresholds: F1 of every label at every threshold, the grid threshold each label gets, and the
validation gatherer that scores an epoch at its own thresholds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from review_cls.models.threshold_choice import GRID, TunedOnValidation, choose_thresholds, per_label_f1


def test_per_label_f1_has_a_row_per_threshold_and_a_column_per_label():
    probabilities = np.array([[0.9, 0.2], [0.6, 0.1], [0.3, 0.4]])
    targets = np.array([[1, 0], [0, 0], [1, 0]])
    scores = per_label_f1(probabilities, targets, [0.5, 0.25])
    assert scores.shape == (2, 2)
    # label 0 at 0.5: rows 0 and 1 predicted, row 0 right: 2*1 / (2*1 + 2 wrong)
    assert scores[0, 0] == pytest.approx(0.5)
    # label 0 at 0.25: all three predicted, two right: 2*2 / (2*2 + 1 wrong)
    assert scores[1, 0] == pytest.approx(0.8)
    # label 1 has no positive: 0 whether it predicts something (at 0.25) or nothing (at 0.5)
    assert scores[:, 1].tolist() == [0.0, 0.0]


def test_thresholds_come_from_the_grid_given():
    probabilities = np.array([[0.35], [0.32], [0.1]])
    targets = np.array([[1], [1], [0]])
    chosen = choose_thresholds(probabilities, targets, grid=np.array([0.3, 0.5, 0.7]))
    assert chosen.tolist() == [0.3]
    assert choose_thresholds(probabilities, targets)[0] in GRID
    assert choose_thresholds(probabilities, targets)[0] <= 0.3


def test_a_label_without_validation_positives_keeps_a_half():
    probabilities = np.array([[0.9, 0.8], [0.1, 0.7]])
    targets = np.array([[1, 0], [0, 0]])
    assert choose_thresholds(probabilities, targets).tolist()[1] == 0.5


def test_the_epoch_is_scored_at_the_thresholds_chosen_on_all_its_batches_then_forgotten():
    tuned = TunedOnValidation()
    tuned.update(torch.tensor([[0.3, 0.9]]), torch.tensor([[1, 1]]))
    tuned.update(torch.tensor([[0.1, 0.8]]), torch.tensor([[0, 0]]))
    predictions, targets = tuned.predictions()
    assert predictions.tolist() == [[1, 1], [0, 0]]
    assert targets.dtype == torch.int32 and targets.tolist() == [[1, 1], [0, 0]]
    tuned.update(torch.tensor([[0.7, 0.2]]), torch.tensor([[1, 0]]))
    assert tuned.predictions()[1].tolist() == [[1, 0]]  # only the new epoch's row
