"""Per-class precision/recall/F1/support with scikit-learn, in the form the model's torchmetrics logs use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import classification_report

NOTE = ("Classes with no reviews and no predictions are left out of the averages, "
        "as torchmetrics does for the logged test metrics.")


def present_classes(y_true: np.ndarray, y_pred: np.ndarray) -> list[int]:
    """Class ids that occur as a true or a predicted label; macro averages run over these only."""
    return sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()))


def classification_reports(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> tuple[dict[str, Any], str]:
    """The report as a dict (for JSON and metrics) and as sklearn's text table."""
    classes = present_classes(y_true, y_pred)
    options = {"labels": classes, "target_names": [labels[i] for i in classes], "zero_division": 0}
    as_dict = classification_report(y_true, y_pred, output_dict=True, **options)
    as_text = classification_report(y_true, y_pred, digits=4, **options)
    return as_dict, as_text


def report_metrics(report: dict[str, Any], labels: Sequence[str], prefix: str) -> dict[str, float]:
    """Flatten a report into the metric names the model logs: ``<prefix>/f1_macro``, ``<prefix>/f1/<label>``..."""
    metrics = {
        f"{prefix}/acc": report["accuracy"],
        f"{prefix}/f1_macro": report["macro avg"]["f1-score"],
        f"{prefix}/f1_weighted": report["weighted avg"]["f1-score"],
        f"{prefix}/precision_macro": report["macro avg"]["precision"],
        f"{prefix}/recall_macro": report["macro avg"]["recall"],
    }
    for label in labels:
        if label in report:
            metrics |= {f"{prefix}/{name}/{label}": report[label][key]
                        for name, key in (("f1", "f1-score"), ("precision", "precision"), ("recall", "recall"))}
    return {name: float(value) for name, value in metrics.items()}
