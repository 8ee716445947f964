"""The report artifacts for one labeled set of reviews: confusion matrix, classification report, and the predictions
table (one row per review with its true and predicted label and every class probability, worst mistakes first)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from review_cls.reports.classification import NOTE, classification_reports, report_metrics
from review_cls.reports.confusion import confusion_counts, plot_confusion_matrix
from review_cls.reports.figures import save_png
from review_cls.reports.multilabel import multilabel_predictions_frame, write_multilabel_reports
from review_cls.utils.atomic import atomic_file
from review_cls.utils.run_folder import CONFUSION_PNG, REPORT_JSON, REPORT_TXT

CONFUSION_MATRIX = CONFUSION_PNG


def predictions_file(title: str) -> str:
    """``test_predictions.csv`` for a training run's test split, ``<title>_predictions.csv`` otherwise."""
    return f"{title}_predictions.csv"


def write_prediction_reports(output_dir: Path, labels: list[str], y_true: np.ndarray, probabilities: np.ndarray,
                             texts: list[str], row_ids: np.ndarray | None = None,
                             title: str = "test", thresholds: np.ndarray | None = None) -> dict[str, float]:
    """Write the four report files into ``output_dir`` (each atomically) and return the report's numbers.

    Metric names follow the model's logs with ``title`` as the stage: ``<title>/acc``, ``<title>/f1_macro``,
    ``<title>/f1_weighted``, ``<title>/precision_macro``, ``<title>/recall_macro`` and per class
    ``<title>/f1/<label>``, ``<title>/precision/<label>``, ``<title>/recall/<label>``.

    A 2-D ``y_true`` (N x L, 0/1) is multi-label: labels are predicted at ``thresholds`` (reports/multilabel.py).
    """
    output_dir = Path(output_dir)
    probabilities = np.asarray(probabilities)
    row_ids = np.arange(len(texts)) if row_ids is None else np.asarray(row_ids)
    if np.ndim(y_true) == 2:
        check_shapes(labels, np.zeros(len(y_true), dtype=np.int64), probabilities, texts, row_ids)
        return write_multilabel_reports(ReportPaths.of(output_dir, title), labels, y_true, probabilities, texts,
                                        row_ids, title, thresholds)
    y_true = np.asarray(y_true, dtype=np.int64)
    check_shapes(labels, y_true, probabilities, texts, row_ids)
    y_pred = probabilities.argmax(axis=1)
    report, report_text = classification_reports(y_true, y_pred, labels)
    figure = plot_confusion_matrix(confusion_counts(y_true, y_pred, len(labels)), labels, title)
    save_png(figure, output_dir / CONFUSION_MATRIX)
    with atomic_file(output_dir / REPORT_TXT) as temporary:
        temporary.write_text(f"{title}: {len(y_true)} reviews\n\n{report_text}\n{NOTE}\n", encoding="utf-8")
    with atomic_file(output_dir / REPORT_JSON) as temporary:
        temporary.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    write_predictions_table(output_dir, title, labels, y_true, probabilities, texts, row_ids)
    return report_metrics(report, labels, title)


def write_predictions_table(output_dir: Path, title: str, labels: list[str], y_true: np.ndarray,
                            probabilities: np.ndarray, texts: list[str], row_ids: np.ndarray,
                            thresholds: np.ndarray | None = None) -> Path:
    """``<title>_predictions.csv`` alone (no report files): e.g. the validation split's probabilities, which the
    blend of the model and TF-IDF is chosen on. Multi-label (a 2-D ``y_true``) at ``thresholds``."""
    probabilities = np.asarray(probabilities)
    if np.ndim(y_true) == 2:
        y_true = np.asarray(y_true).astype(int)
        y_pred = (probabilities >= np.asarray(thresholds, dtype=float)).astype(int)
        frame = multilabel_predictions_frame(labels, y_true, y_pred, probabilities, texts, row_ids)
    else:
        frame = predictions_frame(labels, np.asarray(y_true, dtype=np.int64), probabilities, texts, row_ids)
    path = Path(output_dir) / predictions_file(title)
    with atomic_file(path) as temporary:
        frame.to_csv(temporary, index=False)
    return path


def predictions_frame(labels: Sequence[str], y_true: np.ndarray, probabilities: np.ndarray, texts: Sequence[str],
                      row_ids: np.ndarray) -> pd.DataFrame:
    """Wrong answers by descending confidence (the most confident mistakes on top), then right answers by
    ascending confidence (the shakiest correct ones next)."""
    label_array = np.asarray(labels, dtype=object)
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = y_pred == y_true
    frame = pd.DataFrame({
        "row_id": row_ids,
        "text": list(texts),
        "true_label": label_array[y_true],
        "predicted_label": label_array[y_pred],
        "correct": correct,
        "confidence": confidence,
        **{f"prob_{label}": probabilities[:, i] for i, label in enumerate(labels)},
    })
    order = np.lexsort((np.where(correct, confidence, -confidence), correct))
    return frame.iloc[order].reset_index(drop=True)


@dataclass(frozen=True)
class ReportPaths:
    """Where :func:`write_prediction_reports` put its files, for summaries."""

    confusion_matrix: Path
    report_txt: Path
    report_json: Path
    predictions: Path

    @classmethod
    def of(cls, output_dir: Path, title: str = "test") -> ReportPaths:
        return cls(output_dir / CONFUSION_MATRIX, output_dir / REPORT_TXT, output_dir / REPORT_JSON,
                   output_dir / predictions_file(title))


def check_shapes(labels: list[str], y_true: np.ndarray, probabilities: np.ndarray, texts: list[str],
                 row_ids: np.ndarray) -> None:
    """One probability row per review, one column per label, label ids in range: a mismatch is a caller's bug that
    would otherwise show up as a silently wrong report."""
    count = len(texts)
    if probabilities.ndim != 2 or probabilities.shape != (count, len(labels)):
        raise ValueError(f"Probabilities have shape {probabilities.shape}; expected ({count}, {len(labels)}) "
                        "(one row per review, one column per label).")
    if len(y_true) != count or len(row_ids) != count:
        raise ValueError(f"{count} texts but {len(y_true)} labels and {len(row_ids)} row ids.")
    if count == 0:
        raise ValueError("No reviews to report on.")
    if y_true.min() < 0 or y_true.max() >= len(labels):
        raise ValueError(f"Label ids must be in [0, {len(labels)}); got {y_true.min()}..{y_true.max()}.")
