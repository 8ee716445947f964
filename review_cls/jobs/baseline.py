"""The ``review_cls.baseline`` job: TF-IDF + logistic regression on exactly a training run's split, scored with the
metrics a training run logs (training/tfidf_baseline.py; every training run also fits it, ``baseline=true``)."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from review_cls.data.data_settings import DataSettings
from review_cls.models.tfidf import check_tfidf_settings
from review_cls.training.tfidf_baseline import fit_baseline

log = logging.getLogger(__name__)


def run_baseline(cfg: DictConfig) -> dict[str, float]:
    """The ``review_cls.baseline`` job: fit, score, write the report into the run folder, print the scores."""
    DataSettings.from_config(cfg.data)  # the data group checked before any file is read
    check_tfidf_settings(cfg.tfidf)
    output_dir = Path(cfg.paths.output_dir)
    metrics = fit_baseline(cfg.data, cfg.tfidf, int(cfg.seed), output_dir)
    log.info("TF-IDF baseline: val macro-F1 %.4f, test macro-F1 %.4f (report in %s)",
             metrics["val/f1_macro"], metrics["test/f1_macro"], output_dir)
    print(f"baseline val/f1_macro={metrics['val/f1_macro']:.4f} test/f1_macro={metrics['test/f1_macro']:.4f} "
          f"-> {output_dir}")
    return metrics
