"""The ``review_cls.predict`` job: predict categories for unlabeled reviews chunk by chunk (flat memory, progress,
atomic output, insight summary)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from omegaconf import DictConfig
from tqdm.auto import tqdm

from review_cls.data.io import check_encoding, checked_sep, count_rows, existing_table, iter_table_chunks, table_format
from review_cls.data.writers import TableWriter, output_format
from review_cls.errors import ConfigError, DataError
from review_cls.inference.prediction_files import (
    check_output_locations,
    check_texts_are_words,
    insights_folder,
)
from review_cls.inference.predictor import Predictor, load_predictor
from review_cls.monitoring.embeddings import model_embedder
from review_cls.monitoring.results import start_trends
from review_cls.monitoring.settings import trend_settings
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
from review_cls.reports.multilabel import joined
from review_cls.utils.atomic import atomic_dir, atomic_file, remove_stale_temporaries
from review_cls.utils.settings import column_name, flag, path_value, require_settings, whole_number

if TYPE_CHECKING:
    from review_cls.inference.onnx_runtime import OnnxPredictor
from review_cls.utils.hardware import resolve_device

log = logging.getLogger(__name__)
USAGE = "python -m review_cls.predict ckpt_path=best.ckpt input=reviews.csv output=predictions.csv"


RUNTIMES = ("torch", "onnx")


def load_for_runtime(path: str, runtime: str, device: str) -> Predictor | OnnxPredictor:
    """PyTorch (a checkpoint or an export folder, on ``device``) or ONNX Runtime (an export's ``model.onnx``, CPU)."""
    if runtime == "onnx":
        from review_cls.inference.onnx_runtime import load_onnx_predictor

        return load_onnx_predictor(path).to("cpu" if device == "auto" else device)
    return load_predictor(path).to(resolve_device(device))


def predict_chunk(
    predictor: Predictor | OnnxPredictor, chunk: pd.DataFrame, text_column: str, batch_size: int,
    label_separator: str = "|", low_confidence_margin: float = 0.1,
) -> pd.DataFrame:
    """``chunk`` with ``predicted_label``, ``confidence`` and ``prob_<label>`` added; empty texts get empty cells.
    A multi-label model adds ``labels``, ``low_confidence`` and ``prob_<label>`` instead (:func:`multilabel_columns`)."""
    texts = chunk[text_column]
    present = (texts.notna() & (texts.astype(str).str.strip() != "")).to_numpy()
    probabilities = np.full((len(chunk), len(predictor.labels)), np.nan, dtype=np.float32)
    if present.any():
        probabilities[present] = predictor.predict_probabilities(texts[present].astype(str).tolist(), batch_size)
    if predictor.task.multilabel:
        added = multilabel_columns(predictor, probabilities, present, chunk.index, label_separator,
                                   low_confidence_margin)
        return pd.concat([chunk.drop(columns=added.columns, errors="ignore"), added], axis=1)
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


def multilabel_columns(predictor: Predictor | OnnxPredictor, probabilities: np.ndarray, present: np.ndarray,
                       index: pd.Index, separator: str, margin: float) -> pd.DataFrame:
    """``labels``: every label at or above its threshold, highest probability first, joined with ``separator``
    ('' when none applies); ``low_confidence``: some label lies within ``margin`` of its threshold, so a small change
    of the review could flip it; ``prob_<label>``: each label's own probability (they need not sum to 1)."""
    scores = np.nan_to_num(probabilities, nan=-1.0)
    labels = joined(scores >= predictor.thresholds, predictor.labels, scores, separator)
    near = (np.abs(scores - predictor.thresholds) < margin).any(axis=1)
    return pd.DataFrame(
        {
            LABELS: pd.Series(labels, index=index, dtype="string").where(present),
            LOW_CONFIDENCE: pd.Series(near, index=index, dtype="boolean").where(present),
            **{f"{PROBABILITY_PREFIX}{label}": probabilities[:, i] for i, label in enumerate(predictor.labels)},
        },
        index=index,
    )


def start_summary(first_chunk: pd.DataFrame, cfg: DictConfig, labels: list[str], source: Path,
                  multilabel: bool) -> InsightSummary:
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
    return InsightSummary(labels, cfg.text_column, int(cfg.top_k), date_column, rating_column, sample_rows,
                          label_separator=cfg.label_separator if multilabel else None,
                          trends=start_trends(cfg, columns, date_column, rating_column) if cfg.insights else None)


def check_predict_settings(cfg: DictConfig) -> None:
    """Every setting's type and range, before the checkpoint or the input is read."""
    for key in ("ckpt_path", "input", "output"):
        path_value(cfg, key)
    for key in ("chunk_size", "batch_size"):
        whole_number(cfg, key, 1)
    if not isinstance(cfg.label_separator, str) or not cfg.label_separator:
        raise ConfigError(f"label_separator must be a non-empty string such as '|', got {cfg.label_separator!r}.")
    margin = cfg.low_confidence_margin
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
        raise ConfigError(f"low_confidence_margin must be a number in [0, 1), got {margin!r}.")
    whole_number(cfg, "top_k", 0)
    whole_number(cfg, "report_rows", 1)
    for key in ("progress", "insights", "overwrite", "report"):
        flag(cfg, key)
    column_name(cfg, "text_column")
    for key in ("date_column", "rating_column", "version_column"):
        column_name(cfg, key, optional=True)
    trend_settings(cfg.trends)
    sheet = cfg.get("sheet_name")
    if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))):
        raise ConfigError(f"sheet_name must be a sheet's name or number, got {sheet!r}.")
    check_encoding(str(cfg.encoding), "encoding")
    checked_sep(cfg.get("sep"), "sep")
    resolve_device(cfg.device)
    if cfg.runtime not in RUNTIMES:
        raise ConfigError(f"runtime={cfg.runtime} is not a runtime; use runtime=torch or runtime=onnx.")


def interrupted_note(cfg: DictConfig) -> str:
    """What a stopped predict leaves (the one line ``cli.run_command`` prints): the output is written atomically."""
    return f"output='{cfg.output}' was not written or changed."


def run_prediction(cfg: DictConfig) -> dict[str, Any]:
    """The ``review_cls.predict`` job: the output file (and insights folder) appear whole or not at all."""
    require_settings(cfg, ("ckpt_path", "input", "output"), USAGE)
    check_predict_settings(cfg)
    source = existing_table(cfg.input, "input")
    table_format(source)
    output = Path(str(cfg.output)).expanduser()
    check_output_locations(output, source, cfg.insights, cfg.overwrite)
    kind = output_format(output)
    for stale in remove_stale_temporaries(output):
        log.info("Removed %s, left by an earlier predict run that was killed.", stale)
    predictor = load_for_runtime(cfg.ckpt_path, cfg.runtime, cfg.device)
    chunks = iter_table_chunks(source, cfg.chunk_size, cfg.sheet_name, cfg.encoding, as_text=True,
                               sep=cfg.get("sep"), prefix="")
    total = count_rows(source, cfg.sheet_name, prefix="")
    summary: InsightSummary | None = None
    multilabel = predictor.task.multilabel
    with atomic_file(output) as temporary:
        with TableWriter(temporary, kind, output) as writer, tqdm(
            total=total, unit=" rows", desc="predict", disable=not cfg.progress, dynamic_ncols=True
        ) as progress:
            for chunk in chunks:
                if summary is None:
                    summary = start_summary(chunk, cfg, predictor.labels, source, multilabel)
                result = predict_chunk(predictor, chunk, cfg.text_column, cfg.batch_size, cfg.label_separator,
                                       cfg.low_confidence_margin)
                writer.write(result)
                summary.update(result)
                progress.update(len(chunk))
        assert summary is not None  # iter_table_chunks raises on a table without rows
        if cfg.insights:
            with atomic_dir(insights_folder(output)) as folder:
                summary.write(folder, source.name, model_embedder(predictor, cfg.batch_size))
                if cfg.report:
                    write_report(summary, folder / "report.html", source.name, str(cfg.ckpt_path))
    if summary.empty:
        log.warning("%d of %d rows have an empty '%s' and got no prediction.", summary.empty, writer.rows,
                    cfg.text_column)
    log.info("Predicted %d reviews -> %s%s", summary.predicted, output,
             f" (insights: {insights_folder(output)})" if cfg.insights else "")
    return {"rows": writer.rows, "predicted": summary.predicted, "empty": summary.empty, "output": str(output)}
