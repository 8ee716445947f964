"""Predict a whole table file on this machine, chunk by chunk: memory stays flat however long the file is, a progress
bar counts the rows, the insight summary is fed as the chunks go by, and the output file and its insights folder
appear whole or not at all."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from review_cls.data.io import count_rows, existing_table, iter_table_chunks, table_format
from review_cls.data.writers import TableWriter, output_format
from review_cls.errors import DataError
from review_cls.inference.blended_predictor import predictor_line
from review_cls.inference.prediction_columns import predict_chunk
from review_cls.inference.prediction_files import check_output_locations, check_texts_are_words, insights_folder
from review_cls.inference.predictor import Predictor, load_predictor
from review_cls.monitoring.embeddings import model_embedder
from review_cls.monitoring.results import start_trends
from review_cls.reports.html_report import write_report
from review_cls.reports.insights import (
    CONFIDENCE,
    DATE_NAMES,
    LABELS,
    LOW_CONFIDENCE,
    PREDICTED,
    PROBABILITY_PREFIX,
    RATING_NAMES,
    InsightSummary,
    pick_column,
)
from review_cls.utils.atomic import atomic_dir, atomic_file, remove_stale_temporaries

log = logging.getLogger(__name__)


def predict_file(cfg: DictConfig) -> dict[str, Any]:
    """``cfg.input`` through the model into ``cfg.output`` and, with ``cfg.insights``, its insights folder; every
    place written to is checked before the model is loaded. ``cfg`` is predict's checked config (conf/predict.yaml);
    returns the row counts."""
    source = existing_table(cfg.input, "input")
    table_format(source)
    output = Path(str(cfg.output)).expanduser()
    check_output_locations(output, {"input": source, "ckpt_path": cfg.ckpt_path}, cfg.insights, cfg.overwrite)
    kind = output_format(output)
    for stale in remove_stale_temporaries(output):
        log.info("Removed %s, left by an earlier predict run that was killed.", stale)
    predictor = load_predictor(cfg.ckpt_path, cfg.runtime, cfg.device, cfg.blend)
    log.info("Predicting with %s.", predictor_line(predictor))
    with atomic_file(output) as temporary:
        summary, rows = write_predictions(predictor, source, TableWriter(temporary, kind, output), cfg)
        if cfg.insights:
            with atomic_dir(insights_folder(output)) as folder:
                summary.write(folder, source.name, model_embedder(predictor, cfg.batch_size))
                if cfg.report:
                    write_report(summary, folder / "report.html", source.name, str(cfg.ckpt_path))
    if summary.empty:
        log.warning("%d of %d rows have an empty '%s' and got no prediction.", summary.empty, rows, cfg.text_column)
    log.info("Predicted %d reviews -> %s%s", summary.predicted, output,
             f" (insights: {insights_folder(output)})" if cfg.insights else
             " (insights=false: no insights folder and no report page, whatever report says)")
    return {"rows": rows, "predicted": summary.predicted, "empty": summary.empty, "output": str(output)}


def write_predictions(predictor: Predictor, source: Path, writer: TableWriter,
                      cfg: DictConfig) -> tuple[InsightSummary, int]:
    """Every chunk of ``source`` with the predictor's columns added, into ``writer``; the insight summary of them
    all and the number of rows written."""
    chunks = iter_table_chunks(source, cfg.chunk_size, cfg.sheet_name, cfg.encoding, as_text=True,
                               sep=cfg.get("sep"), prefix="")
    total = count_rows(source, cfg.sheet_name, prefix="")
    summary: InsightSummary | None = None
    with writer, tqdm(total=total, unit=" rows", desc="predict", disable=not cfg.progress,
                      dynamic_ncols=True) as progress:
        for chunk in chunks:
            if summary is None:
                summary = start_summary(chunk, cfg, predictor, source)
            result = predict_chunk(predictor, chunk, cfg.text_column, cfg.batch_size, cfg.label_separator,
                                   cfg.low_confidence_margin)
            writer.write(result)
            summary.update(result)
            progress.update(len(chunk))
    assert summary is not None  # iter_table_chunks raises on a table without rows
    return summary, writer.rows


def start_summary(first_chunk: pd.DataFrame, cfg: DictConfig, predictor: Predictor, source: Path) -> InsightSummary:
    """Check the first chunk's columns and texts against the config and pick the date and rating columns."""
    columns = list(first_chunk.columns)
    if cfg.text_column not in columns:
        raise DataError(
            f"Input '{source}' has no text column '{cfg.text_column}'. Columns: {', '.join(columns)}. "
            "Set text_column=<name>."
        )
    check_texts_are_words(first_chunk[cfg.text_column], cfg.text_column, source, columns)
    clashes = [name for name in columns if name in (PREDICTED, CONFIDENCE, LABELS, LOW_CONFIDENCE)
               or name.startswith(PROBABILITY_PREFIX)]
    if clashes:
        log.warning("Input columns %s are replaced by this run's predictions.", ", ".join(clashes))
    date_column = pick_column(columns, cfg.get("date_column"), DATE_NAMES, "date_column")
    rating_column = pick_column(columns, cfg.get("rating_column"), RATING_NAMES, "rating_column")
    log.info("Text column '%s'; date column: %s; rating column: %s.", cfg.text_column, date_column, rating_column)
    sample_rows = int(cfg.report_rows) if cfg.insights and cfg.report else 0
    return InsightSummary(predictor.labels, cfg.text_column, int(cfg.top_k), date_column, rating_column, sample_rows,
                          label_separator=cfg.label_separator if predictor.task.multilabel else None,
                          trends=start_trends(cfg, columns, date_column, rating_column) if cfg.insights else None,
                          made_by=predictor_line(predictor))
