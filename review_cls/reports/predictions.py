"""One row per review with its true and predicted label and every class probability, worst mistakes first."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd


def predictions_frame(labels: Sequence[str], y_true: np.ndarray, probabilities: np.ndarray, texts: Sequence[str],
                      row_ids: np.ndarray) -> pd.DataFrame:
    """Wrong answers by descending confidence (the most confident mistakes on top), then right answers by
    ascending confidence (the shakiest correct ones next)."""
    label_array = np.asarray(labels, dtype=object)
    y_pred = probabilities.argmax(axis=1)
    confidence = probabilities.max(axis=1)
    correct = y_pred == y_true
    frame = pd.DataFrame({
        "row_id": row_ids,
        "text": list(texts),
        "true_label": label_array[y_true],
        "predicted_label": label_array[y_pred],
        "correct": correct,
        "confidence": confidence,
        **{f"prob_{label}": probabilities[:, i] for i, label in enumerate(labels)},
    })
    order = np.lexsort((np.where(correct, confidence, -confidence), correct))
    return frame.iloc[order].reset_index(drop=True)
