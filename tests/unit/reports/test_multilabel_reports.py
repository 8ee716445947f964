"""Multi-label report files: per-label report with every average, the 2x2 grid, the predictions table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from review_cls.reports.multilabel import joined
from review_cls.reports.predictions import ReportPaths, write_prediction_reports
from tests.helpers import PNG_MAGIC


def test_indicator_targets_write_the_multilabel_reports(tmp_path):
    labels = ["bug", "delivery", "pricing"]
    y_true = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 0]])
    probabilities = np.array([[0.9, 0.1, 0.4], [0.2, 0.8, 0.1], [0.3, 0.1, 0.1], [0.1, 0.1, 0.6]])
    thresholds = np.array([0.5, 0.5, 0.35])
    metrics = write_prediction_reports(tmp_path, labels, y_true, probabilities, ["a", "b", "c", "d"],
                                       title="test", thresholds=thresholds)
    y_pred = (probabilities >= thresholds).astype(int)
    assert metrics["test/f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro", zero_division=0))
    assert metrics["test/f1_samples"] == pytest.approx(f1_score(y_true, y_pred, average="samples", zero_division=0))
    assert metrics["test/subset_acc"] == pytest.approx(0.5) and metrics["test/hamming"] == pytest.approx(2 / 12)
    paths = ReportPaths.of(tmp_path)
    report = json.loads(paths.report_json.read_text())
    assert {"micro avg", "macro avg", "weighted avg", "samples avg", *labels} <= set(report)
    assert "samples avg" in paths.report_txt.read_text()
    assert paths.confusion_matrix.read_bytes()[:8] == PNG_MAGIC
    table = pd.read_csv(paths.predictions, keep_default_na=False)
    assert table["wrong_labels"].tolist() == [1, 1, 0, 0]  # c misses bug, d gets pricing wrongly: worst first
    assert table.set_index("text").loc["a", "predicted_labels"] == "bug|pricing"


def test_joined_orders_by_score_and_leaves_none_empty():
    indicator = np.array([[1, 0, 1], [0, 0, 0]])
    scores = np.array([[0.6, 0.1, 0.9], [0.1, 0.2, 0.3]])
    assert joined(indicator, ["a", "b", "c"], scores, ";") == ["c;a", ""]
    assert joined(indicator, ["a", "b", "c"]) == ["a|c", ""]
