"""The TF-IDF + logistic regression baseline on a run's own split (one-vs-rest for multi-label data), scored with
the metrics a training run logs: what every training run prints beside its model (``baseline=true``) and what
``review_cls.baseline`` writes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from omegaconf import DictConfig, OmegaConf, open_dict

from review_cls.models.tfidf import build_tfidf_pipeline, full_probabilities
from review_cls.utils.run_folder import BASELINE, SPLIT_JSON, class_support, write_run_record

VAL_F1 = "val/f1_macro"


def stage_metrics(stage: str, labels: Sequence[str], y_true: np.ndarray, probabilities: np.ndarray,
                  thresholds: np.ndarray | None = None) -> dict[str, float]:
    """The metrics a training run logs for ``stage``, under the same names (``val/f1_macro``, ``val/f1/<label>``...);
    multi-label (a 2-D ``y_true``) at ``thresholds``."""
    from review_cls.reports.classification import classification_reports, report_metrics
    from review_cls.reports.multilabel import multilabel_report_metrics, multilabel_reports

    if np.ndim(y_true) == 2:
        y_pred = (probabilities >= thresholds).astype(int)
        report, _ = multilabel_reports(y_true.astype(int), y_pred, labels)
        return multilabel_report_metrics(report, labels, stage, y_true.astype(int), y_pred)
    report, _ = classification_reports(y_true, probabilities.argmax(axis=1), labels)
    return report_metrics(report, labels, stage)


def fit_baseline(data_cfg: DictConfig, tfidf_cfg: DictConfig, seed: int,
                 output_dir: Path | None) -> dict[str, float]:
    """Fit on the run's training split (before any resampling), score val and test; with ``output_dir``, write the
    test split's report files, ``split.json``, the fitted pipeline (``tfidf.npz``, what a blend with the model reads)
    and its run record ``metrics.json`` there. Multi-label data: one
    logistic regression per label (one-vs-rest), each label's threshold chosen on validation as for the fine-tuned
    model."""
    from review_cls.data.datamodule import ReviewDataModule
    from review_cls.data.prepare import save_split
    from review_cls.models.threshold_choice import choose_thresholds
    from review_cls.models.tfidf_store import TFIDF_FILE, save_tfidf
    from review_cls.reports.predictions import write_prediction_reports, write_predictions_table

    datamodule = ReviewDataModule.from_config(data_cfg)  # clean_splits writes nothing
    splits, labels = datamodule.clean_splits()
    options = OmegaConf.to_container(tfidf_cfg, resolve=True)
    multilabel = splits["train"].multilabel
    pipeline = build_tfidf_pipeline(**options, seed=seed, multilabel=multilabel)
    pipeline.fit(splits["train"].texts, splits["train"].label_ids(labels))
    y_true = {stage: splits[stage].label_ids(labels) for stage in ("val", "test")}
    probabilities = {stage: full_probabilities(pipeline, splits[stage].texts, len(labels)) for stage in y_true}
    thresholds = choose_thresholds(probabilities["val"], y_true["val"]) if multilabel else None
    metrics = stage_metrics("val", labels, y_true["val"], probabilities["val"], thresholds)
    if output_dir is None:
        return metrics | stage_metrics("test", labels, y_true["test"], probabilities["test"], thresholds)
    val, test = splits["val"], splits["test"]
    save_tfidf(pipeline, labels, output_dir / TFIDF_FILE)
    write_predictions_table(output_dir, "val", labels, y_true["val"], probabilities["val"], val.texts, val.row_ids,
                            thresholds)
    metrics |= write_prediction_reports(output_dir, labels, y_true["test"], probabilities["test"], test.texts,
                                        test.row_ids, thresholds=thresholds)
    save_split(output_dir / SPLIT_JSON, {name: split.row_ids for name, split in splits.items()}, str(data_cfg.path))
    # the run record training runs write, so sweeps and readers take a baseline folder like any run folder
    write_run_record(output_dir, metrics, VAL_F1, test_support=class_support(test.label_counts))
    return metrics


def baseline_for_run(cfg: DictConfig) -> dict[str, float]:
    """The baseline on a training run's own ``split.json``, as ``baseline/val_f1_macro`` and ``baseline/test_f1_macro``
    (the run summary prints them beside the model's); its report files go to ``<run>/baseline/``."""
    run_dir = Path(cfg.paths.output_dir)
    data_cfg = cfg.data.copy()
    if (run_dir / SPLIT_JSON).exists() and not data_cfg.get("split_paths"):
        with open_dict(data_cfg):
            data_cfg.split_file = str(run_dir / SPLIT_JSON)
    metrics = fit_baseline(data_cfg, cfg.tfidf, int(cfg.seed), run_dir / BASELINE)
    return {f"baseline/{stage}_f1_macro": metrics[f"{stage}/f1_macro"] for stage in ("val", "test")}
