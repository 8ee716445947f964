"""What predict ships: any predictor (PyTorch or ONNX Runtime) blended with the TF-IDF pipeline fitted beside it, at
the weight chosen on validation (models/blend.py); same labels, task and truncation as the model, and for a
multi-label model the thresholds chosen on the blended validation probabilities."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from review_cls.errors import CheckpointError
from review_cls.inference.predictor import Predictor
from review_cls.models.blend import Blend
from review_cls.models.task import Task
from review_cls.models.tfidf_store import StoredTfidf, load_tfidf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlendedPredictor:
    """``blend.weight * model + (1 - blend.weight) * tfidf`` for every review; a Predictor like the model it wraps."""

    model: Predictor
    tfidf: StoredTfidf
    blend: Blend

    def __post_init__(self) -> None:
        check_blend_fits(self.model, self.tfidf, self.blend)

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    @property
    def task(self) -> Task:
        return self.model.task

    @property
    def max_length(self) -> int:
        return self.model.max_length

    @property
    def thresholds(self) -> np.ndarray | None:
        """Multi-label: the thresholds chosen on the blended validation probabilities (not the model's own)."""
        return self.blend.thresholds if self.task.multilabel else None

    def to(self, device: torch.device | str) -> BlendedPredictor:
        """Move the model (the TF-IDF half runs on the CPU); returns the predictor for chaining."""
        self.model.to(device)
        return self

    def predict_probabilities(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Blended probabilities (N x labels, float32) in the order of ``texts``."""
        model = self.model.predict_probabilities(texts, batch_size)
        return self.blend.probabilities(model, self.tfidf.predict_probabilities(texts)).astype(np.float32)


def check_blend_fits(model: Predictor, tfidf: StoredTfidf, blend: Blend) -> None:
    """The TF-IDF half must score the model's labels, in the model's order, for the model's task."""
    if list(tfidf.labels) != list(model.labels):
        raise CheckpointError(f"The TF-IDF part scores labels {tfidf.labels}, the model {model.labels}: they were "
                              "not fitted on the same run.")
    if tfidf.multilabel != model.task.multilabel:
        kinds = {True: "multi-label", False: "single-label"}
        raise CheckpointError(f"The TF-IDF part is {kinds[tfidf.multilabel]}, the model "
                              f"{kinds[model.task.multilabel]}: they were not fitted on the same run.")
    if model.task.multilabel and (blend.thresholds is None or len(blend.thresholds) != len(model.labels)):
        raise CheckpointError(f"A multi-label blend needs one threshold per label ({len(model.labels)}); got "
                              f"{None if blend.thresholds is None else len(blend.thresholds)}.")


def blended_or_model(model: Predictor, tfidf_path: Path, blend: Blend | None, sha256: str | None = None) -> Predictor:
    """The model blended with the TF-IDF pipeline at ``tfidf_path``; the model alone, said once in the log, when the
    folder predates the blend (no blend recorded and no TF-IDF file). A recorded blend whose file is missing or
    damaged is a :class:`CheckpointError`."""
    if blend is None and not tfidf_path.exists():
        log.warning("'%s' holds no TF-IDF part (written before the blend): predicting with the model alone.",
                    tfidf_path.parent)
        return model
    if blend is None:
        raise CheckpointError(f"'{tfidf_path}' is there but no blend weight is recorded beside it.")
    return BlendedPredictor(model, load_tfidf(tfidf_path, sha256), blend)
