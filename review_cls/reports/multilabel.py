"""The report artifacts for multi-label reviews: a per-label classification report (micro, macro, weighted and
samples averages), a grid of per-label 2x2 confusion matrices, and the predictions table, most wrong labels first.

Same file names as the single-label reports (reports/predictions.py), so summaries, loggers and model cards find them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import classification_report, hamming_loss, multilabel_confusion_matrix

from review_cls.reports.figures import new_figure
from review_cls.utils.atomic import atomic_file

# how the predictions table writes a review's labels
JOIN = "|"
NOTE = ("Multi-label: each label is scored as its own yes/no decision at its threshold; 'samples avg' is the F1 "
        "of each review's label set, averaged over reviews.")


def multilabel_reports(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> tuple[dict, str]:
    """scikit-learn's report on the 0/1 indicator matrices, as a dict and as its text table."""
    options = {"target_names": list(labels), "zero_division": 0}
    return (classification_report(y_true, y_pred, output_dict=True, **options),
            classification_report(y_true, y_pred, digits=4, **options))


def multilabel_report_metrics(report: dict, labels: Sequence[str], prefix: str, y_true: np.ndarray,
                              y_pred: np.ndarray) -> dict[str, float]:
    """The names the model logs (``<prefix>/f1_macro``, ``<prefix>/f1/<label>``...), plus ``f1_samples``."""
    metrics = {f"{prefix}/f1_{average}": report[f"{average} avg"]["f1-score"]
               for average in ("macro", "micro", "weighted", "samples")}
    metrics |= {
        f"{prefix}/precision_macro": report["macro avg"]["precision"],
        f"{prefix}/recall_macro": report["macro avg"]["recall"],
        f"{prefix}/subset_acc": float(np.all(y_true == y_pred, axis=1).mean()),
        f"{prefix}/hamming": hamming_loss(y_true, y_pred),
    }
    for label in labels:
        metrics |= {f"{prefix}/{name}/{label}": report[label][key]
                    for name, key in (("f1", "f1-score"), ("precision", "precision"), ("recall", "recall"))}
    return {name: float(value) for name, value in metrics.items()}


def plot_multilabel_confusion(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str], title: str) -> Figure:
    """One 2x2 matrix per label (rows: true no/yes, columns: predicted no/yes), cells coloured by row share."""
    matrices = multilabel_confusion_matrix(y_true, y_pred)
    columns = min(4, len(labels))
    rows = -(-len(labels) // columns)
    figure = new_figure(3.0 * columns, 2.8 * rows)
    for index, (label, counts) in enumerate(zip(labels, matrices)):
        axes = figure.add_subplot(rows, columns, index + 1)
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)
        axes.imshow(share, cmap="Blues", vmin=0.0, vmax=1.0)
        for row in range(2):
            for column in range(2):
                axes.text(column, row, f"{counts[row, column]}\n{share[row, column]:.0%}", ha="center", va="center",
                          fontsize=8, color="white" if share[row, column] > 0.6 else "black")
        axes.set_xticks([0, 1], ["no", "yes"], fontsize=8)
        axes.set_yticks([0, 1], ["no", "yes"], fontsize=8)
        axes.set_title(f"{label} (n={counts[1].sum()})", fontsize=9)
        axes.set_xlabel("predicted", fontsize=8)
        axes.set_ylabel("true", fontsize=8)
    figure.suptitle(f"Per-label confusion, {title} ({len(y_true)} reviews)", fontsize=10)
    return figure


def joined(indicator: np.ndarray, labels: Sequence[str], scores: np.ndarray | None = None,
           separator: str = JOIN) -> list[str]:
    """Each row's labels joined with ``separator``, highest score first when ``scores`` are given ('' for none)."""
    names = np.asarray(labels, dtype=object)
    chosen = np.asarray(indicator, dtype=bool)
    order = (np.argsort(-scores, axis=1, kind="stable") if scores is not None
             else np.broadcast_to(np.arange(len(labels)), chosen.shape))
    return [separator.join(names[row[picked[row]]]) for row, picked in zip(order, chosen)]


def multilabel_predictions_frame(labels: Sequence[str], y_true: np.ndarray, y_pred: np.ndarray,
                                 probabilities: np.ndarray, texts: Sequence[str], row_ids: np.ndarray) -> pd.DataFrame:
    """One row per review, the most wrong labels on top (then, among equals, the highest-scored wrong label)."""
    wrong = (y_true != y_pred).sum(axis=1)
    frame = pd.DataFrame({
        "row_id": row_ids,
        "text": list(texts),
        "true_labels": joined(y_true, labels),
        "predicted_labels": joined(y_pred, labels, probabilities),
        "correct": wrong == 0,
        "wrong_labels": wrong,
        **{f"prob_{label}": probabilities[:, i] for i, label in enumerate(labels)},
    })
    return frame.sort_values("wrong_labels", ascending=False, kind="stable").reset_index(drop=True)


def write_multilabel_reports(paths, labels: list[str], y_true: np.ndarray, probabilities: np.ndarray,
                             texts: list[str], row_ids: np.ndarray, title: str,
                             thresholds: np.ndarray) -> dict[str, float]:
    """The four report files at ``paths`` (a :class:`~review_cls.reports.predictions.ReportPaths`)."""
    from review_cls.reports.figures import save_png

    y_true = np.asarray(y_true).astype(int)
    y_pred = (probabilities >= np.asarray(thresholds, dtype=float)).astype(int)
    report, report_text = multilabel_reports(y_true, y_pred, labels)
    save_png(plot_multilabel_confusion(y_true, y_pred, labels, title), paths.confusion_matrix)
    with atomic_file(paths.report_txt) as temporary:
        temporary.write_text(f"{title}: {len(y_true)} reviews\n\n{report_text}\n{NOTE}\n", encoding="utf-8")
    with atomic_file(paths.report_json) as temporary:
        temporary.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    frame = multilabel_predictions_frame(labels, y_true, y_pred, probabilities, texts, row_ids)
    with atomic_file(Path(paths.predictions)) as temporary:
        frame.to_csv(temporary, index=False)
    return multilabel_report_metrics(report, labels, title, y_true, y_pred)
