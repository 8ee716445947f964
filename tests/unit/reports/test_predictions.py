"""Report files for any scores: classification report, confusion matrix, predictions table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from review_cls.reports.classification import classification_reports, report_metrics
from review_cls.reports.predictions import write_prediction_reports


def test_write_prediction_reports_on_ten_classes_without_training(tmp_path):
    """The standalone API (also used by the TF-IDF baseline): 12 classes, row ids kept, metrics named by title."""
    rng = np.random.default_rng(0)
    labels = [f"category_{i:02d}" for i in range(12)]
    y_true = rng.integers(0, 12, size=200)
    probabilities = rng.dirichlet(np.ones(12), size=200)
    probabilities[np.arange(200), y_true] += 0.5
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    texts = [f"review {i}" for i in range(200)]
    metrics = write_prediction_reports(tmp_path, labels, y_true, probabilities, texts, np.arange(1000, 1200),
                                       title="val")
    from sklearn.metrics import f1_score

    assert metrics["val/f1_macro"] == pytest.approx(f1_score(y_true, probabilities.argmax(1), average="macro"))
    predictions = pd.read_csv(tmp_path / "val_predictions.csv")
    assert len(predictions) == 200 and predictions["row_id"].min() == 1000
    assert (tmp_path / "confusion_matrix.png").stat().st_size > 10_000


def test_report_averages_follow_torchmetrics_with_absent_and_never_true_classes():
    """Class 7 never occurs, class 6 is only ever predicted: sklearn's report must still equal the logged metrics."""
    import torch
    from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 6, size=300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 7, size=300))
    labels = [f"c{i}" for i in range(8)]
    report, _ = classification_reports(y_true, y_pred, labels)
    metrics = report_metrics(report, labels, "test")
    preds, target = torch.as_tensor(y_pred), torch.as_tensor(y_true)
    assert metrics["test/acc"] == pytest.approx(MulticlassAccuracy(8, average="micro")(preds, target).item(), abs=1e-6)
    for average in ("macro", "weighted"):
        expected = MulticlassF1Score(8, average=average)(preds, target).item()
        assert metrics[f"test/f1_{average}"] == pytest.approx(expected, abs=1e-6)
    assert "c6" in report and "c7" not in report


def test_write_prediction_reports_rejects_mismatched_shapes(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        write_prediction_reports(tmp_path, ["a", "b"], np.array([0, 1]), np.ones((2, 3)) / 3, ["x", "y"])
    assert not list(tmp_path.iterdir())
