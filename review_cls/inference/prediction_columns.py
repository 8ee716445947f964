"""The columns predict adds to each chunk of an input table: the predicted label, its confidence and every label's
probability (single-label); or the labels at or above their thresholds and whether one lies near its threshold
(multi-label). Rows with an empty text get empty cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from review_cls.errors import ConfigError
from review_cls.inference.predictor import Predictor
from review_cls.reports.insights import CONFIDENCE, LABELS, LOW_CONFIDENCE, PREDICTED, PROBABILITY_PREFIX
from review_cls.reports.multilabel import joined


def multilabel_settings(cfg: Mapping[str, Any]) -> tuple[str, float]:
    """``label_separator`` and ``low_confidence_margin``, the two settings that shape a multi-label model's columns
    (predict's and serve's), checked."""
    separator, margin = cfg.get("label_separator"), cfg.get("low_confidence_margin")
    if not isinstance(separator, str) or not separator:
        raise ConfigError(f"label_separator must be a non-empty string such as '|', got {separator!r}.")
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 <= margin < 1:
        raise ConfigError(f"low_confidence_margin must be a number in [0, 1), got {margin!r}.")
    return separator, float(margin)


def predict_chunk(
    predictor: Predictor, chunk: pd.DataFrame, text_column: str, batch_size: int, label_separator: str = "|",
    low_confidence_margin: float = 0.1,
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


def multilabel_columns(predictor: Predictor, probabilities: np.ndarray, present: np.ndarray, index: pd.Index,
                       separator: str, margin: float) -> pd.DataFrame:
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
