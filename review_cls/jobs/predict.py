"""The ``review_cls.predict`` job: predict categories for unlabeled reviews chunk by chunk (flat memory, progress,
atomic output, insight summary)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from review_cls.cli import require_settings
from review_cls.data.io import count_rows, existing_table, iter_table_chunks, table_format
from review_cls.data.writers import TableWriter, output_format
from review_cls.errors import ConfigError, DataError
from review_cls.inference.predictor import Predictor, load_predictor
from review_cls.reports.insights import CONFIDENCE, DATE_NAMES, PREDICTED, RATING_NAMES, InsightSummary, pick_column
from review_cls.utils.atomic import atomic_dir, atomic_file
from review_cls.utils.hardware import resolve_device

log = logging.getLogger(__name__)
PROBABILITY_PREFIX = "prob_"
USAGE = "python -m review_cls.predict ckpt_path=best.ckpt input=reviews.csv output=predictions.csv"


def insights_folder(output: Path) -> Path:
    """``predictions.csv`` -> ``predictions_insights/`` in the same folder."""
    return output.with_name(f"{output.stem}_insights")


def predict_chunk(
    predictor: Predictor, chunk: pd.DataFrame, text_column: str, batch_size: int
) -> pd.DataFrame:
    """``chunk`` with ``predicted_label``, ``confidence`` and ``prob_<label>`` added; empty texts get empty cells."""
    texts = chunk[text_column]
    present = (texts.notna() & (texts.astype(str).str.strip() != "")).to_numpy()
    probabilities = np.full((len(chunk), len(predictor.labels)), np.nan, dtype=np.float32)
    if present.any():
        probabilities[present] = predictor.predict_probabilities(texts[present].astype(str).tolist(), batch_size)
    best = np.where(present, np.nan_to_num(probabilities, nan=-1.0).argmax(axis=1), 0)
    labels = pd.Series(np.asarray(predictor.labels, dtype=object)[best], index=chunk.index, dtype="string")
    added = pd.DataFrame(
        {
            PREDICTED: labels.where(present),
            CONFIDENCE: probabilities[np.arange(len(chunk)), best],
            **{f"{PROBABILITY_PREFIX}{label}": probabilities[:, i] for i, label in enumerate(predictor.labels)},
        },
        index=chunk.index,
    )
    return pd.concat([chunk.drop(columns=added.columns, errors="ignore"), added], axis=1)


def start_summary(columns: list[str], cfg: DictConfig, labels: list[str], source: Path) -> InsightSummary:
    """Check the first chunk's columns against the config and pick the date and rating columns."""
    if cfg.text_column not in columns:
        raise DataError(
            f"Input '{source}' has no text column '{cfg.text_column}'. Columns: {', '.join(columns)}. "
            "Set text_column=<name>."
        )
    clashes = [name for name in columns if name in (PREDICTED, CONFIDENCE) or name.startswith(PROBABILITY_PREFIX)]
    if clashes:
        log.warning("Input columns %s are replaced by this run's predictions.", ", ".join(clashes))
    date_column = pick_column(columns, cfg.get("date_column"), DATE_NAMES, "date_column")
    rating_column = pick_column(columns, cfg.get("rating_column"), RATING_NAMES, "rating_column")
    log.info("Text column '%s'; date column: %s; rating column: %s.", cfg.text_column, date_column, rating_column)
    return InsightSummary(labels, cfg.text_column, int(cfg.top_k), date_column, rating_column)


def run_prediction(cfg: DictConfig) -> dict[str, Any]:
    """The ``review_cls.predict`` job; returns row counts and where the files went."""
    require_settings(cfg, ("ckpt_path", "input", "output"), USAGE)
    source = existing_table(cfg.input, "input")
    table_format(source)
    output = Path(cfg.output).expanduser()
    kind = output_format(output)
    if output.resolve() == source.resolve():
        raise ConfigError(f"output='{output}' is the input file; write the predictions to a new file.")
    if int(cfg.batch_size) < 1 or int(cfg.top_k) < 0:
        raise ConfigError(f"batch_size must be >= 1 and top_k >= 0, got {cfg.batch_size} and {cfg.top_k}.")
    predictor = load_predictor(cfg.ckpt_path).to(resolve_device(cfg.device))
    chunks = iter_table_chunks(source, int(cfg.chunk_size), cfg.sheet_name, cfg.encoding, as_text=True,
                               sep=cfg.get("sep"), prefix="")
    total = count_rows(source, cfg.sheet_name, prefix="")
    summary: InsightSummary | None = None
    with atomic_file(output) as temporary:
        with TableWriter(temporary, kind, output) as writer, tqdm(
            total=total, unit=" rows", desc="predict", disable=not cfg.progress, dynamic_ncols=True
        ) as progress:
            for chunk in chunks:
                if summary is None:
                    summary = start_summary(list(chunk.columns), cfg, predictor.labels, source)
                result = predict_chunk(predictor, chunk, cfg.text_column, int(cfg.batch_size))
                writer.write(result)
                summary.update(result)
                progress.update(len(chunk))
        assert summary is not None  # iter_table_chunks raises on a table without rows
        if cfg.insights:
            with atomic_dir(insights_folder(output)) as folder:
                summary.write(folder, source.name)
    if summary.empty:
        log.warning("%d of %d rows have an empty '%s' and got no prediction.", summary.empty, writer.rows,
                    cfg.text_column)
    log.info("Predicted %d reviews -> %s%s", summary.predicted, output,
             f" (insights: {insights_folder(output)})" if cfg.insights else "")
    return {"rows": writer.rows, "predicted": summary.predicted, "empty": summary.empty, "output": str(output)}
