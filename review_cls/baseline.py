"""TF-IDF + logistic regression on exactly a training run's split: does fine-tuning pay on this data?

    python -m review_cls.baseline data=google_play                                  # seeded split, as a run with seed=42
    python -m review_cls.baseline data=google_play data.split_file=<run>/split.json # the split of an existing run
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf, open_dict

from review_cls.atomic import atomic_file
from review_cls.cli import run_job
from review_cls.errors import ConfigError

log = logging.getLogger(__name__)


def build_tfidf_pipeline(
    word_ngram_range: Sequence[int] | None = (1, 2),
    char_ngram_range: Sequence[int] | None = (2, 5),
    sublinear_tf: bool = True,
    min_df: int = 1,
    class_weight: str | None = "balanced",
    C: float = 10.0,
    max_iter: int = 2000,
    seed: int = 0,
):
    """Word and within-word character n-gram TF-IDF features side by side, then a multinomial logistic regression."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizers = []
    if word_ngram_range:
        vectorizers.append(("word", TfidfVectorizer(analyzer="word", ngram_range=tuple(word_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    if char_ngram_range:
        vectorizers.append(("char", TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(char_ngram_range),
                                                    sublinear_tf=sublinear_tf, min_df=min_df)))
    if not vectorizers:
        raise ConfigError("tfidf.word_ngram_range and tfidf.char_ngram_range are both null; set at least one.")
    if not C > 0:
        raise ConfigError(f"tfidf.C must be > 0, got {C}.")
    classifier = LogisticRegression(C=C, class_weight=class_weight, max_iter=max_iter, random_state=seed)
    return Pipeline([("features", FeatureUnion(vectorizers)), ("classifier", classifier)])


def stage_metrics(stage: str, labels: Sequence[str], y_true: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The metrics a training run logs for ``stage``, under the same names (``val/f1_macro``, ``val/f1/<label>``...)."""
    from review_cls.reports.classification import classification_reports, report_metrics

    report, _ = classification_reports(y_true, probabilities.argmax(axis=1), labels)
    return report_metrics(report, labels, stage)


def fit_baseline(data_cfg: DictConfig, tfidf_cfg: DictConfig | dict[str, Any], seed: int,
                 output_dir: Path | None) -> dict[str, float]:
    """Fit on the run's training split (before any resampling), score val and test; with ``output_dir``, write the
    test split's report files, ``split.json`` and ``metrics.json`` there."""
    from hydra.utils import instantiate

    from review_cls.data.prepare import save_split
    from review_cls.reports import write_prediction_reports

    datamodule = instantiate(data_cfg, output_dir=None)
    splits, labels = datamodule.clean_splits()
    label2id = {label: i for i, label in enumerate(labels)}
    options = OmegaConf.to_container(tfidf_cfg, resolve=True) if isinstance(tfidf_cfg, DictConfig) else dict(tfidf_cfg)
    pipeline = build_tfidf_pipeline(**options, seed=seed)
    pipeline.fit(splits["train"].texts, [label2id[label] for label in splits["train"].labels])
    y_true = {stage: np.asarray([label2id[label] for label in splits[stage].labels]) for stage in ("val", "test")}
    probabilities = {stage: _full_probabilities(pipeline, splits[stage].texts, len(labels)) for stage in y_true}
    metrics = stage_metrics("val", labels, y_true["val"], probabilities["val"])
    if output_dir is None:
        return metrics | stage_metrics("test", labels, y_true["test"], probabilities["test"])
    test = splits["test"]
    metrics |= write_prediction_reports(output_dir, labels, y_true["test"], probabilities["test"], test.texts,
                                        test.row_ids)
    save_split(output_dir / "split.json", {name: split.row_ids for name, split in splits.items()}, str(data_cfg.path))
    with atomic_file(output_dir / "metrics.json") as temporary:
        temporary.write_text(json.dumps(metrics, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    return metrics


def _full_probabilities(pipeline, texts: list[str], num_labels: int) -> np.ndarray:
    """predict_proba with one column per label id, even if a class was absent from training."""
    probabilities = np.zeros((len(texts), num_labels), dtype=np.float64)
    probabilities[:, pipeline.classes_] = pipeline.predict_proba(texts)
    return probabilities


def run_baseline(cfg: DictConfig) -> dict[str, float]:
    """The ``review_cls.baseline`` job: fit, score, write the report into the run folder, print the scores."""
    output_dir = Path(cfg.paths.output_dir)
    metrics = fit_baseline(cfg.data, cfg.tfidf, int(cfg.seed), output_dir)
    log.info("TF-IDF baseline: val macro-F1 %.4f, test macro-F1 %.4f (report in %s)",
             metrics["val/f1_macro"], metrics["test/f1_macro"], output_dir)
    print(f"baseline val/f1_macro={metrics['val/f1_macro']:.4f} test/f1_macro={metrics['test/f1_macro']:.4f} "
          f"-> {output_dir}")
    return metrics


def baseline_for_run(cfg: DictConfig) -> dict[str, float]:
    """The baseline on a training run's own ``split.json``, as ``baseline/val_f1_macro`` and ``baseline/test_f1_macro``
    (the run summary prints them beside the model's); its report files go to ``<run>/baseline/``."""
    run_dir = Path(cfg.paths.output_dir)
    data_cfg = cfg.data.copy()
    if (run_dir / "split.json").exists() and not data_cfg.get("split_paths"):
        with open_dict(data_cfg):
            data_cfg.split_file = str(run_dir / "split.json")
    metrics = fit_baseline(data_cfg, cfg.get("tfidf") or {}, int(cfg.seed), run_dir / "baseline")
    return {f"baseline/{stage}_f1_macro": metrics[f"{stage}/f1_macro"] for stage in ("val", "test")}


@hydra.main(version_base="1.3", config_path="../conf", config_name="baseline")
def main(cfg: DictConfig) -> float:
    return run_job(run_baseline, cfg)["val/f1_macro"]


if __name__ == "__main__":
    main()
