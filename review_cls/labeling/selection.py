"""The next reviews to label: a trained model scores an unlabeled pool (each text once, none already labeled), the
strategy picks (uncertainty, optional k-means spread, per-class quota), and the picks are written as a table and as
Label Studio tasks with the model's guess pre-selected (a multi-label model's every label)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from review_cls.data.io import existing_table, read_table
from review_cls.data.writers import TableWriter, output_format
from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import check_output_locations, check_texts_are_words
from review_cls.inference.blended_predictor import predictor_line
from review_cls.inference.predictor import load_predictor
from review_cls.labeling.label_studio import LABEL_SEPARATOR, import_tasks, labeling_config, write_tasks
from review_cls.labeling.strategies import (
    cluster_representatives,
    pick,
    predicted_labels,
    preference_order,
    uncertainty,
)
from review_cls.reports.insights import CONFIDENCE, LABELS, PREDICTED
from review_cls.utils.atomic import atomic_file

log = logging.getLogger(__name__)
UNCERTAINTY, CLUSTER = "uncertainty", "cluster"


def select_for_labeling(cfg: DictConfig) -> dict[str, Any]:
    """Pick ``cfg.n`` reviews of ``cfg.input`` and write them to ``cfg.output`` and its Label Studio file; every
    place written to is checked before the pool is read. ``cfg`` is select's checked config (conf/select.yaml)."""
    source = existing_table(cfg.input, "input")
    output = Path(str(cfg.output)).expanduser()
    output_format(output)
    tasks_path = label_studio_file(output)
    read = {"input": source, "select.labeled": cfg.select.labeled, "ckpt_path": cfg.ckpt_path}
    for target in (output, tasks_path):
        check_output_locations(target, read, False, cfg.overwrite)
    pool, texts = pool_reviews(cfg, source)
    predictor = load_predictor(cfg.ckpt_path, device=cfg.device, blend=cfg.blend)
    log.info("Scoring the pool with %s.", predictor_line(predictor))
    check_pool_size(cfg, len(pool), len(predictor.labels))
    probabilities = predictor.predict_probabilities(texts, int(cfg.batch_size))
    thresholds = predictor.thresholds if predictor.task.multilabel else None
    picks, scores, clusters = choose(cfg, probabilities, thresholds)
    given = [[label for label, on in zip(predictor.labels, row) if on]
             for row in predicted_labels(probabilities[picks], thresholds)]
    if thresholds is None:  # one label each, and the model's confidence in it
        confidence = probabilities[picks].max(axis=1)
        chosen = pool.iloc[picks].assign(**{PREDICTED: [labels[0] for labels in given], CONFIDENCE: confidence})
    else:  # every label at or above its threshold, maybe none; Label Studio's score is how sure the closest call is
        confidence = 1.0 - uncertainty(probabilities[picks], "margin", int(cfg.seed), thresholds)
        chosen = pool.iloc[picks].assign(**{LABELS: [LABEL_SEPARATOR.join(labels) for labels in given]})
    chosen[UNCERTAINTY] = scores[picks]
    if clusters is not None:
        chosen[CLUSTER] = clusters[picks]
    with atomic_file(output) as temporary, TableWriter(temporary, output_format(output), output) as writer:
        writer.write(chosen)
    write_tasks(import_tasks([texts[i] for i in picks], given, confidence.tolist(), str(cfg.ckpt_path),
                             multilabel=thresholds is not None), tasks_path)
    log.info("Picked %d of %d reviews (%s%s) -> %s and %s", len(picks), len(pool), cfg.select.strategy,
             ", diverse" if cfg.select.diverse else "", output, tasks_path)
    log.info("The Label Studio labeling config these tasks fit%s: %s",
             " (a multi-label model: several choices per review)" if thresholds is not None else "",
             labeling_config(predictor.labels, multilabel=thresholds is not None))
    return {"pool": len(pool), "picked": len(picks), "output": str(output), "label_studio": str(tasks_path)}


def label_studio_file(output: Path) -> Path:
    """``to_label.csv`` -> ``to_label_label_studio.json`` in the same folder."""
    return output.with_name(f"{output.stem}_label_studio.json")


def pool_reviews(cfg: DictConfig, source: Path) -> tuple[pd.DataFrame, list[str]]:
    """The pool's rows with a text, each text once, none that ``select.labeled`` already holds; and their texts."""
    frame = read_table(source, cfg.sheet_name, cfg.encoding, cfg.get("sep"), prefix="")
    texts = text_column_of(frame, cfg.text_column, source, "text_column")
    check_texts_are_words(frame[cfg.text_column], cfg.text_column, source, list(frame.columns))
    keep = texts.ne("") & ~texts.duplicated()
    if cfg.select.labeled is not None:
        keep &= ~texts.isin(set(labeled_texts(cfg)))
    log.info("Pool: %d rows, %d with a text not labeled yet (empty texts, repeats and labeled texts left out).",
             len(frame), int(keep.sum()))
    return frame[keep.to_numpy()], texts[keep].tolist()


def labeled_texts(cfg: DictConfig) -> pd.Series:
    path = existing_table(cfg.select.labeled, "select.labeled")
    column = cfg.select.labeled_text_column or cfg.text_column
    setting = "select.labeled_text_column" if cfg.select.labeled_text_column else "text_column"
    return text_column_of(read_table(path, prefix=""), column, path, setting)


def text_column_of(frame: pd.DataFrame, column: str, source: Path, setting: str) -> pd.Series:
    """The column's cells as stripped text (missing -> empty), the way training cleans them."""
    if column not in frame.columns:
        raise DataError(f"'{source}' has no text column '{column}'. Columns: {', '.join(frame.columns)}. "
                        f"Set {setting}=<name>.")
    return frame[column].map(lambda value: value.strip() if isinstance(value, str) else "")


def check_pool_size(cfg: DictConfig, pool: int, classes: int) -> None:
    """The pool must hold a review to pick, ``n`` must fit it, and the per-class quotas must fit ``n``."""
    left_out = " after leaving out select.labeled's texts" if cfg.select.labeled is not None else ""
    if pool == 0:
        raise DataError(f"'{cfg.input}' has no review left to pick{left_out}: every text in it is empty, repeated"
                        + (" or labeled already" if left_out else "") + ". Give input a pool of reviews not "
                        "labeled yet.")
    if cfg.n > pool:
        raise ConfigError(f"n={cfg.n} is larger than the pool: '{cfg.input}' has {pool} review(s) to pick from"
                          f"{left_out}. Lower n to {pool} or less.")
    quota = int(cfg.select.per_class_quota)
    if quota * classes > cfg.n:
        raise ConfigError(f"select.per_class_quota={quota} for {classes} classes reserves {quota * classes} picks, "
                          f"more than n={cfg.n}. Raise n or lower the quota.")


def choose(cfg: DictConfig, probabilities: np.ndarray,
           thresholds: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Positions of the picks in choosing order, every review's uncertainty, and its k-means cluster (diverse);
    ``thresholds``: a multi-label model's, one per label."""
    scores = uncertainty(probabilities, cfg.select.strategy, int(cfg.seed), thresholds)
    clusters, first = None, None
    if cfg.select.diverse:
        clusters, first = cluster_representatives(probabilities, scores, int(cfg.n), int(cfg.seed))
    order = preference_order(scores, first)
    predicted = predicted_labels(probabilities, thresholds)
    return pick(order, predicted, int(cfg.n), int(cfg.select.per_class_quota)), scores, clusters
