"""The next reviews to label: a trained model scores an unlabeled pool (each text once, none already labeled), the
strategy picks (uncertainty, optional k-means spread, per-class quota), and the picks are written as a table and as
Label Studio tasks with the model's guess pre-selected."""

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
from review_cls.labeling.label_studio import import_tasks, write_tasks
from review_cls.labeling.strategies import cluster_representatives, pick, preference_order, uncertainty
from review_cls.reports.insights import CONFIDENCE, PREDICTED
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
    picks, scores, clusters = choose(cfg, probabilities)
    labels = np.asarray(predictor.labels, dtype=object)
    chosen = pool.iloc[picks].assign(**{PREDICTED: labels[probabilities[picks].argmax(axis=1)],
                                        CONFIDENCE: probabilities[picks].max(axis=1), UNCERTAINTY: scores[picks]})
    if clusters is not None:
        chosen[CLUSTER] = clusters[picks]
    with atomic_file(output) as temporary, TableWriter(temporary, output_format(output), output) as writer:
        writer.write(chosen)
    write_tasks(import_tasks([texts[i] for i in picks], chosen[PREDICTED].tolist(), chosen[CONFIDENCE].tolist(),
                             str(cfg.ckpt_path)), tasks_path)
    log.info("Picked %d of %d reviews (%s%s) -> %s and %s", len(picks), len(pool), cfg.select.strategy,
             ", diverse" if cfg.select.diverse else "", output, tasks_path)
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
    """``n`` must fit the pool, and the per-class quotas must fit ``n``."""
    if cfg.n > pool:
        left_out = " after leaving out select.labeled's texts" if cfg.select.labeled is not None else ""
        raise ConfigError(f"n={cfg.n} is larger than the pool: '{cfg.input}' has {pool} review(s) to pick from"
                          f"{left_out}. Lower n to {pool} or less.")
    quota = int(cfg.select.per_class_quota)
    if quota * classes > cfg.n:
        raise ConfigError(f"select.per_class_quota={quota} for {classes} classes reserves {quota * classes} picks, "
                          f"more than n={cfg.n}. Raise n or lower the quota.")


def choose(cfg: DictConfig, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Positions of the picks in choosing order, every review's uncertainty, and its k-means cluster (diverse)."""
    scores = uncertainty(probabilities, cfg.select.strategy, int(cfg.seed))
    clusters, first = None, None
    if cfg.select.diverse:
        clusters, first = cluster_representatives(probabilities, scores, int(cfg.n), int(cfg.seed))
    order = preference_order(scores, first)
    return pick(order, probabilities.argmax(axis=1), int(cfg.n), int(cfg.select.per_class_quota)), scores, clusters
