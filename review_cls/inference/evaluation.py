"""A trained model scored on a whole labeled file (what predict ships: its blend with TF-IDF when the checkpoint or
export records one), with the report files a training run writes for its test split and a one-screen summary that
says which predictor scored; labels the model does not know are never mapped silently."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import astuple, replace
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

from review_cls.data.label_sets import LabelSpec, check_label_spec, separator_hint
from review_cls.data.prepare import LabeledReviews, read_labeled
from review_cls.errors import DataError
from review_cls.inference.blended_predictor import predictor_line
from review_cls.inference.predictor import Predictor, load_predictor
from review_cls.reports.console_summary import print_summary
from review_cls.reports.predictions import ReportPaths, write_prediction_reports
from review_cls.utils.atomic import refuse_writing_over_inputs

log = logging.getLogger(__name__)
TITLE = "eval"


def evaluate_model(model_path: str, data: DictConfig, device: str, drop_unknown: bool, output_dir: Path,
                   blend: bool = True) -> dict[str, float]:
    """Score what ``model_path`` ships (``blend``: its blend with TF-IDF when it records one; else the model alone)
    on every row of the file the ``data`` group names; the reports go to ``output_dir``. Returns ``eval/acc``,
    ``eval/f1_macro``, ... (see write_prediction_reports)."""
    refuse_writing_over_inputs({"data.path": data.path, "ckpt_path": model_path},
                               [("hydra.run.dir", path) for path in astuple(ReportPaths.of(output_dir, TITLE))])
    predictor = load_predictor(model_path, device=device, blend=blend)
    reviews = read_for_model(data, predictor, model_path)
    total = len(reviews)
    reviews = keep_known_labels(reviews, predictor.labels, drop_unknown, model_path)
    probabilities = predictor.predict_probabilities(reviews.texts, data.eval_batch_size)
    metrics = write_prediction_reports(output_dir, predictor.labels, reviews.label_ids(predictor.labels),
                                       probabilities, reviews.texts, reviews.row_ids, title=TITLE,
                                       thresholds=predictor.thresholds)
    print_evaluation(output_dir, model_path, predictor_line(predictor), reviews, total - len(reviews), metrics,
                     predictor.labels)
    return metrics


def read_for_model(data: DictConfig, predictor: Predictor, model_path: str) -> LabeledReviews:
    """The labeled file read as the model's task reads it: one label per row for a single-label model, label sets
    for a multi-label one; a multi-label file for a single-label model is refused."""
    check_label_spec(data)
    spec = LabelSpec.of(data)
    if spec.task == "auto" and not spec.gives_sets:  # one label per row: the model's task decides
        spec = replace(spec, task="auto" if predictor.task.multilabel else "single")
    reviews = read_labeled(data.path, data.text_column, data.label_column, data.sheet_name, data.encoding,
                           data.sep, spec)
    if reviews.multilabel and not predictor.task.multilabel:
        raise DataError(f"The model '{model_path}' is single-label, but '{reviews.source}' is read as multi-label "
                        "(data.label_separator, data.label_columns or data.task=multilabel is set): evaluate it with "
                        "a multi-label model, or remove those settings.")
    return reviews.as_multilabel() if predictor.task.multilabel and not reviews.multilabel else reviews


def keep_known_labels(reviews: LabeledReviews, known: list[str], drop_unknown: bool,
                      model_source: str) -> LabeledReviews:
    """Fail on labels the model was not trained on, listing them; or, with ``drop_unknown``, drop their rows."""
    unknown = Counter(label for labels in reviews.label_sets for label in labels if label not in set(known))
    if not unknown:
        return reviews
    listed = ", ".join(f"{label!r} ({count} rows)" for label, count in unknown.most_common())
    if not drop_unknown:
        lowered = {label.lower() for label in known}
        case_hint = (" Labels are case-sensitive." if any(label.lower() in lowered for label in unknown) else "")
        joined = separator_hint([*known, *unknown])  # 'a|b' beside a and b: the separator, not new labels
        advice = (f"{joined} Otherwise rename" if joined else " Rename")
        raise DataError(
            f"'{reviews.source}' has label(s) the model '{model_source}' was not trained on: {listed}. "
            f"It knows: {', '.join(map(repr, known))}.{case_hint}{advice} those labels in the file, or pass "
            f"drop_unknown_labels=true to leave those {sum(unknown.values())} row(s) out."
        )
    keep = np.array([not unknown.keys() & set(labels) for labels in reviews.label_sets], dtype=bool)
    if not keep.any():
        raise DataError(f"No row of '{reviews.source}' has a label the model knows (unknown: {listed}).")
    log.warning("drop_unknown_labels=true: left out %d row(s) with label(s) the model does not know: %s.",
                int((~keep).sum()), listed)
    return reviews.take(keep)


def print_evaluation(output_dir: Path, model_path: str, made_by: str, reviews: LabeledReviews, left_out: int,
                     metrics: dict[str, float], labels: list[str]) -> None:
    """The headline scores, the per-class table and where the report files are, in one panel."""
    paths = ReportPaths.of(output_dir, TITLE)
    facts = {
        "model": model_path,
        "predicted by": made_by,
        "data": str(reviews.source),
        "reviews": f"{len(reviews)}" + (f" ({left_out} with unknown labels left out)" if left_out else ""),
        "macro-F1": f"{metrics[f'{TITLE}/f1_macro']:.4f}",
    }
    if reviews.multilabel:
        facts["multi-label"] = (f"micro-F1 {metrics[f'{TITLE}/f1_micro']:.4f}   samples-F1 "
                                f"{metrics[f'{TITLE}/f1_samples']:.4f}   subset accuracy "
                                f"{metrics[f'{TITLE}/subset_acc']:.4f}   Hamming {metrics[f'{TITLE}/hamming']:.4f}")
    else:
        facts["accuracy"] = f"{metrics[f'{TITLE}/acc']:.4f}   weighted-F1 {metrics[f'{TITLE}/f1_weighted']:.4f}"
    report = json.loads(paths.report_json.read_text(encoding="utf-8"))
    print_summary("review_cls.evaluate", output_dir, facts, report, labels,
                  {"confusion matrix": paths.confusion_matrix, "report": paths.report_txt,
                   "report (JSON)": paths.report_json, "predictions": paths.predictions},
                  hint=f"worst mistakes first in {paths.predictions.name}")
