"""A predictions file (or a plain review file) read back chunk by chunk into the insight summary, for
``review_cls.trends``: the labels come from its ``prob_<label>`` columns, a plain file is one category."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import check_insights_folder, check_texts_are_words
from review_cls.monitoring.results import start_trends
from review_cls.reports.insights import (
    CONFIDENCE,
    DATE_NAMES,
    LABELS,
    PREDICTED,
    PROBABILITY_PREFIX,
    RATING_NAMES,
    InsightSummary,
    pick_column,
)
from review_cls.utils.atomic import refuse_writing_over_inputs

log = logging.getLogger(__name__)
# the one category of a review file without predictions
ALL_REVIEWS = "all reviews"


def file_labels(columns: list[str], source: Path) -> list[str]:
    """The categories of a predictions file (its ``prob_<label>`` columns), or [ALL_REVIEWS] for a plain file."""
    labels = [name[len(PROBABILITY_PREFIX):] for name in columns if name.startswith(PROBABILITY_PREFIX)]
    predicted = PREDICTED in columns or LABELS in columns
    if predicted and not labels:
        raise DataError(f"'{source}' has a {PREDICTED} or {LABELS} column but no {PROBABILITY_PREFIX}<label> "
                        "columns, which name every category: give the file predict wrote, or drop its "
                        f"{PREDICTED} column to read the reviews as one category.")
    return labels if predicted else [ALL_REVIEWS]


def start_summary(chunk: pd.DataFrame, cfg: DictConfig, source: Path) -> InsightSummary:
    """The summary for the file's first chunk: its text, date, rating and version columns and its categories."""
    columns = list(chunk.columns)
    if cfg.text_column not in columns:
        raise DataError(f"Input '{source}' has no text column '{cfg.text_column}'. Columns: {', '.join(columns)}. "
                        "Set text_column=<name>.")
    check_texts_are_words(chunk[cfg.text_column], cfg.text_column, source, columns)
    date_column = pick_column(columns, cfg.get("date_column"), DATE_NAMES, "date_column")
    rating_column = pick_column(columns, cfg.get("rating_column"), RATING_NAMES, "rating_column")
    trends = start_trends(cfg, columns, date_column, rating_column)
    if not trends.axes:
        raise DataError(f"Input '{source}' has no date or version column (columns: {', '.join(columns)}): what "
                        "changed is counted per date or app version. Set date_column=<name> or version_column=<name>.")
    labels = file_labels(columns, source)
    log.info("Text column '%s'; date column: %s; rating column: %s; categories: %s.", cfg.text_column, date_column,
             rating_column, ", ".join(labels))
    return InsightSummary(labels, cfg.text_column, int(cfg.top_k), date_column, rating_column,
                          int(cfg.report_rows) if cfg.report else 0,
                          label_separator=cfg.label_separator if LABELS in columns else None, trends=trends)


def read_predictions(chunks: Iterable[pd.DataFrame], cfg: DictConfig, source: Path) -> InsightSummary:
    """Every chunk folded into one summary; a plain file's reviews are all of :data:`ALL_REVIEWS` (no
    confidence: the page leaves it blank)."""
    summary: InsightSummary | None = None
    for chunk in chunks:
        if summary is None:
            summary = start_summary(chunk, cfg, source)
        if summary.labels == [ALL_REVIEWS]:
            texts = chunk[cfg.text_column]
            present = texts.notna() & (texts.astype(str).str.strip() != "")
            chunk = chunk.assign(**{PREDICTED: pd.Series(ALL_REVIEWS, index=chunk.index).where(present),
                                    CONFIDENCE: np.nan})
        else:
            chunk = chunk.assign(**{CONFIDENCE: pd.to_numeric(chunk[CONFIDENCE], errors="coerce") if CONFIDENCE in chunk
                                    else np.nan})
        summary.update(chunk)
    assert summary is not None  # iter_table_chunks raises on a table without rows
    return summary


def output_folder(cfg: DictConfig, source: Path) -> Path:
    """``output``, or ``<input stem>_trends/`` beside the input; an earlier one is replaced only with overwrite."""
    folder = Path(str(cfg.output)).expanduser() if cfg.output else source.with_name(f"{source.stem}_trends")
    refuse_writing_over_inputs({"input": source, "ckpt_path": cfg.ckpt_path}, [], [("output", folder)])
    if folder.exists():
        check_insights_folder(folder, source)
        if not cfg.overwrite:
            raise ConfigError(f"'{folder}' exists (an earlier run?); pass overwrite=true to replace it, or set "
                              "output=<another folder>.")
    return folder
