"""Score a trained model on a whole labeled file and write the report artifacts a training run writes for its test
split; labels the model does not know are never mapped silently."""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf

from review_cls.checkpoints import LAST, resolve_ckpt_path
from review_cls.data.io import read_table
from review_cls.data.prepare import LabeledReviews, clean_reviews
from review_cls.errors import ConfigError, DataError
from review_cls.hardware import resolve_device
from review_cls.inference import predict_probabilities
from review_cls.predictor import load_predictor
from review_cls.reports.prediction_reports import ReportPaths, write_prediction_reports
from review_cls.reports.summary import print_summary

log = logging.getLogger(__name__)
TITLE = "eval"


def require_settings(cfg: DictConfig) -> None:
    """``ckpt_path`` and ``data.path`` have no default: say how to set them instead of an OmegaConf traceback."""
    if OmegaConf.is_missing(cfg, "ckpt_path"):
        raise ConfigError("Set ckpt_path=... to a .ckpt written by review_cls.train (or `last`, or an export folder).")
    if OmegaConf.is_missing(cfg.data, "path") or cfg.data.path is None:
        raise ConfigError("Set data.path=... to the labeled file to evaluate on (with data=file).")


def read_labeled_file(data_cfg: DictConfig) -> LabeledReviews:
    """The whole file, cleaned as for training (empty texts and exact duplicates dropped, labels checked)."""
    frame = read_table(data_cfg.path, data_cfg.get("sheet_name"), data_cfg.get("encoding", "utf-8"))
    return clean_reviews(frame, data_cfg.text_column, data_cfg.label_column, str(data_cfg.path))


def keep_known_labels(reviews: LabeledReviews, known: list[str], drop_unknown: bool,
                      model_source: str) -> LabeledReviews:
    """Fail on labels the model was not trained on, listing them; or, with ``drop_unknown``, drop their rows."""
    unknown = Counter(label for label in reviews.labels if label not in set(known))
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
    keep = np.array([label not in unknown for label in reviews.labels])
    if not keep.any():
        raise DataError(f"No row of '{reviews.source}' has a label the model knows (unknown: {listed}).")
    log.warning("drop_unknown_labels=true: left out %d row(s) with label(s) the model does not know: %s.",
                int((~keep).sum()), listed)
    return LabeledReviews(row_ids=reviews.row_ids[keep], texts=[t for t, k in zip(reviews.texts, keep) if k],
                          labels=[label for label, k in zip(reviews.labels, keep) if k], source=reviews.source)


def run_evaluation(cfg: DictConfig) -> dict[str, float]:
    """The ``review_cls.evaluate`` job: returns ``eval/acc``, ``eval/f1_macro``, ... (see write_prediction_reports)."""
    require_settings(cfg)
    # resolve_ckpt_path only for `last`: it accepts files only, and an export folder is fine here
    model_path = resolve_ckpt_path(LAST, Path(cfg.paths.log_dir)) if str(cfg.ckpt_path) == LAST else str(cfg.ckpt_path)
    predictor = load_predictor(model_path)
    reviews = read_labeled_file(cfg.data)
    total = len(reviews)
    reviews = keep_known_labels(reviews, predictor.labels, bool(cfg.drop_unknown_labels), str(model_path))
    predictor.model.to(resolve_device(cfg.device))
    probabilities = predict_probabilities(predictor.model, predictor.tokenizer, reviews.texts, predictor.max_length,
                                          int(cfg.data.eval_batch_size))
    label2id = {label: i for i, label in enumerate(predictor.labels)}
    y_true = np.asarray([label2id[label] for label in reviews.labels])
    output_dir = Path(cfg.paths.output_dir)
    metrics = write_prediction_reports(output_dir, predictor.labels, y_true, probabilities, reviews.texts,
                                       reviews.row_ids, title=TITLE)
    paths = ReportPaths.of(output_dir, TITLE)
    left_out = total - len(reviews)
    facts = {
        "model": str(model_path),
        "data": str(reviews.source),
        "reviews": f"{len(reviews)}" + (f" ({left_out} with unknown labels left out)" if left_out else ""),
        "macro-F1": f"{metrics[f'{TITLE}/f1_macro']:.4f}",
        "accuracy": f"{metrics[f'{TITLE}/acc']:.4f}   weighted-F1 {metrics[f'{TITLE}/f1_weighted']:.4f}",
    }
    report = json.loads(paths.report_json.read_text(encoding="utf-8"))
    print_summary("review_cls.evaluate", output_dir, facts, report, predictor.labels,
                  {"confusion matrix": paths.confusion_matrix, "report": paths.report_txt,
                   "report (JSON)": paths.report_json, "predictions": paths.predictions},
                  hint=f"worst mistakes first in {paths.predictions.name}")
    return metrics
