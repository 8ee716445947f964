"""The ``review_cls.evaluate`` job: score a trained model on a whole labeled file and write the report artifacts a
training run writes for its test split; labels the model does not know are never mapped silently."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from review_cls.data.label_sets import LabelSpec, check_label_spec
from review_cls.data.prepare import LabeledReviews, read_labeled
from review_cls.errors import ConfigError, DataError
from review_cls.inference.checkpoints import LAST, resolve_ckpt_path
from review_cls.inference.predictor import load_predictor
from review_cls.reports.predictions import ReportPaths, write_prediction_reports
from review_cls.reports.console_summary import print_summary
from review_cls.utils.hardware import resolve_device
from review_cls.utils.setting_checks import flag, whole_number

log = logging.getLogger(__name__)
TITLE = "eval"


def require_model_and_data(cfg: DictConfig) -> None:
    """``ckpt_path`` and ``data.path`` have no default: say how to set them instead of an OmegaConf traceback."""
    if OmegaConf.is_missing(cfg, "ckpt_path"):
        raise ConfigError("Set ckpt_path=... to a .ckpt written by review_cls.train (or `last`, or an export folder).")
    if OmegaConf.is_missing(cfg.data, "path") or cfg.data.path is None:
        raise ConfigError("Set data.path=... to the labeled file to evaluate on (with data=file).")


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
        raise DataError(
            f"'{reviews.source}' has label(s) the model '{model_source}' was not trained on: {listed}. "
            f"It knows: {', '.join(map(repr, known))}.{case_hint} Rename those labels in the file, or pass "
            f"drop_unknown_labels=true to leave those {sum(unknown.values())} row(s) out."
        )
    keep = np.array([not unknown.keys() & set(labels) for labels in reviews.label_sets], dtype=bool)
    if not keep.any():
        raise DataError(f"No row of '{reviews.source}' has a label the model knows (unknown: {listed}).")
    log.warning("drop_unknown_labels=true: left out %d row(s) with label(s) the model does not know: %s.",
                int((~keep).sum()), listed)
    return reviews.take(keep)


def run_evaluation(cfg: DictConfig) -> dict[str, float]:
    """The ``review_cls.evaluate`` job: returns ``eval/acc``, ``eval/f1_macro``, ... (see write_prediction_reports)."""
    require_model_and_data(cfg)
    flag(cfg, "drop_unknown_labels")
    whole_number(cfg.data, "eval_batch_size", 1, "data.")
    device = resolve_device(cfg.device)
    # resolve_ckpt_path only for `last`: it accepts files only, and an export folder is fine here
    model_path = resolve_ckpt_path(LAST, Path(cfg.paths.log_dir)) if str(cfg.ckpt_path) == LAST else str(cfg.ckpt_path)
    predictor = load_predictor(model_path)
    data = cfg.data
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
    if predictor.task.multilabel and not reviews.multilabel:
        reviews = reviews.as_multilabel()
    total = len(reviews)
    reviews = keep_known_labels(reviews, predictor.labels, cfg.drop_unknown_labels, str(model_path))
    probabilities = predictor.to(device).predict_probabilities(reviews.texts, data.eval_batch_size)
    y_true = reviews.label_ids(predictor.labels)
    output_dir = Path(cfg.paths.output_dir)
    metrics = write_prediction_reports(output_dir, predictor.labels, y_true, probabilities, reviews.texts,
                                       reviews.row_ids, title=TITLE, thresholds=predictor.thresholds)
    paths = ReportPaths.of(output_dir, TITLE)
    left_out = total - len(reviews)
    facts = {
        "model": str(model_path),
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
    print_summary("review_cls.evaluate", output_dir, facts, report, predictor.labels,
                  {"confusion matrix": paths.confusion_matrix, "report": paths.report_txt,
                   "report (JSON)": paths.report_json, "predictions": paths.predictions},
                  hint=f"worst mistakes first in {paths.predictions.name}")
    return metrics
