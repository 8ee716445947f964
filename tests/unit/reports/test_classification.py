"""Per-class report: which classes it covers, its averages, and the flat metric names the model logs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from review_cls.reports.classification import classification_reports, present_classes, report_metrics

LABELS = ["billing", "delivery", "quality", "other"]


def test_present_classes_are_the_sorted_union_of_true_and_predicted_ids():
    assert present_classes(np.array([2, 0, 2]), np.array([3, 0, 0])) == [0, 2, 3]


def test_a_class_never_true_nor_predicted_is_left_out_of_report_and_macro_average():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    as_dict, as_text = classification_reports(y_true, y_pred, LABELS)
    assert {"billing", "delivery", "quality"} <= set(as_dict)
    assert "other" not in as_dict and "other" not in as_text
    expected = f1_score(y_true, y_pred, labels=[0, 1, 2], average="macro")
    assert as_dict["macro avg"]["f1-score"] == pytest.approx(expected)
    assert as_dict["accuracy"] == pytest.approx(4 / 6)


def test_a_class_only_ever_predicted_is_reported_with_no_support_and_zero_precision_and_recall():
    y_true = np.array([0, 0, 1])
    y_pred = np.array([0, 3, 1])
    as_dict, _ = classification_reports(y_true, y_pred, LABELS)
    assert as_dict["other"]["support"] == 0
    assert as_dict["other"]["recall"] == 0.0 and as_dict["other"]["precision"] == 0.0


def test_report_metrics_flattens_to_prefixed_names_and_skips_labels_not_in_the_report():
    y_true = np.array([0, 0, 1, 1, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0])
    report, _ = classification_reports(y_true, y_pred, LABELS)
    metrics = report_metrics(report, LABELS, prefix="test")
    assert metrics["test/acc"] == pytest.approx(4 / 6)
    assert metrics["test/f1_macro"] == pytest.approx(report["macro avg"]["f1-score"])
    assert metrics["test/f1_weighted"] == pytest.approx(f1_score(y_true, y_pred, average="weighted"))
    assert metrics["test/recall/delivery"] == pytest.approx(1.0)
    assert metrics["test/precision/billing"] == pytest.approx(0.5)
    assert not any(name.endswith("/other") for name in metrics)
    assert all(type(value) is float for value in metrics.values())
